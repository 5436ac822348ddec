package attestlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// The read model: what the derived rows say, typed. Every read sees the
// rows of the committed tree at one moment per storage read (a page, a
// lookup); none knows of HTTP.

var (
	// ErrNotFound is returned for an accord, signatory, pledge or leaf
	// hash the log does not hold.
	ErrNotFound = errors.New("attestlog: not found")
	// ErrCursor is returned for a page whose After is not a cursor of its
	// query: not a Next that the same query returned.
	ErrCursor = errors.New("attestlog: the cursor does not belong to this query")
)

// A Doc is a registry document of type T (attest.AccordInfo,
// attest.SignatoryInfo, attest.LatestPledge) as the log stores it. JSON is
// its bytes as the registry wrote them, which a server may answer as they
// are; Decode parses them.
type Doc[T any] struct {
	// Key names it: an accord's or signatory's id (attest.RegistrarID for
	// the registrar), or "<signatory>/<accord>/<principle>" for a latest
	// pledge.
	Key  string
	JSON json.RawMessage
}

// Decode parses the document.
func (d Doc[T]) Decode() (T, error) {
	var v T
	if err := json.Unmarshal(d.JSON, &v); err != nil {
		return v, fmt.Errorf("attestlog: decoding %q: %w", d.Key, err)
	}
	return v, nil
}

// DecodeAll parses every document of docs, in order.
func DecodeAll[T any](docs []Doc[T]) ([]T, error) {
	out := make([]T, 0, len(docs))
	for _, d := range docs {
		v, err := d.Decode()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// A Page asks for up to Limit (at least 1) items after After: nil for the
// first page, else the Next of the page before, of the same query.
type Page struct {
	After []byte
	Limit int
}

// Accords returns every accord, by id.
func (a *Log) Accords(ctx context.Context) ([]Doc[attest.AccordInfo], error) {
	var out []Doc[attest.AccordInfo]
	err := scanRows(ctx, a.log, attest.TableAccords, nil, nil, func(r log.Row) error {
		out = append(out, Doc[attest.AccordInfo]{Key: string(r.Key), JSON: r.Value})
		return nil
	})
	return out, err
}

// Accord returns the accord id, or ErrNotFound.
func (a *Log) Accord(ctx context.Context, id string) (attest.AccordInfo, error) {
	v, err := a.row(ctx, attest.TableAccords, []byte(id))
	if err != nil {
		return attest.AccordInfo{}, err
	}
	return Doc[attest.AccordInfo]{Key: id, JSON: v}.Decode()
}

// Principals returns a page of the principals by id, the registrar among
// them, and the Next of the page after it: nil if this one is the last
// (a page of Limit documents may be followed by an empty one).
func (a *Log) Principals(ctx context.Context, pg Page) ([]Doc[attest.SignatoryInfo], []byte, error) {
	rows, next, err := a.page(ctx, attest.TableSignatories, nil, pg)
	out := make([]Doc[attest.SignatoryInfo], 0, len(rows))
	for _, r := range rows {
		out = append(out, Doc[attest.SignatoryInfo]{Key: string(r.Key), JSON: r.Value})
	}
	return out, next, err
}

// Signatories returns the page of Principals without the registrar: a
// page that would hold it holds one document fewer than Limit.
func (a *Log) Signatories(ctx context.Context, pg Page) ([]Doc[attest.SignatoryInfo], []byte, error) {
	docs, next, err := a.Principals(ctx, pg)
	return slices.DeleteFunc(docs, isRegistrar), next, err
}

func isRegistrar(d Doc[attest.SignatoryInfo]) bool { return d.Key == attest.RegistrarID }

// AllSignatories returns every signatory but the registrar, by id.
func (a *Log) AllSignatories(ctx context.Context) ([]attest.SignatoryInfo, error) {
	var out []attest.SignatoryInfo
	err := scanRows(ctx, a.log, attest.TableSignatories, nil, nil, func(r log.Row) error {
		if string(r.Key) == attest.RegistrarID {
			return nil
		}
		s, err := Doc[attest.SignatoryInfo]{Key: string(r.Key), JSON: r.Value}.Decode()
		out = append(out, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountSignatories returns the number of signatories, the registrar not
// counted.
func (a *Log) CountSignatories(ctx context.Context) (int, error) {
	n := 0
	err := scanRows(ctx, a.log, attest.TableSignatories, nil, nil, func(r log.Row) error {
		if string(r.Key) != attest.RegistrarID {
			n++
		}
		return nil
	})
	return n, err
}

// Signatory returns the document of the signatory id (of the registrar
// for attest.RegistrarID), or ErrNotFound.
func (a *Log) Signatory(ctx context.Context, id string) (Doc[attest.SignatoryInfo], error) {
	v, err := a.row(ctx, attest.TableSignatories, []byte(id))
	return Doc[attest.SignatoryInfo]{Key: id, JSON: v}, err
}

// LatestBySignatory returns the latest pledges of the signatory id that
// are not void, one per accord and principle, ordered by accord and
// principle id.
func (a *Log) LatestBySignatory(ctx context.Context, id string) ([]Doc[attest.LatestPledge], error) {
	prefix := []byte(id + "/")
	var out []Doc[attest.LatestPledge]
	err := scanRows(ctx, a.log, attest.TableLatest, prefix, prefixEnd(prefix), func(r log.Row) error {
		out = append(out, Doc[attest.LatestPledge]{Key: string(r.Key), JSON: r.Value})
		return nil
	})
	return out, err
}

// LatestByAccord returns the latest pledges to accord that are not void,
// one per signatory and principle, ordered by signatory and principle id.
func (a *Log) LatestByAccord(ctx context.Context, accord string) ([]attest.LatestPledge, error) {
	var out []attest.LatestPledge
	err := scanRows(ctx, a.log, attest.TableLatest, nil, nil, func(r log.Row) error {
		// The key is <signatory>/<accord>/<principle>; ids hold no '/'.
		if parts := strings.SplitN(string(r.Key), "/", 3); len(parts) != 3 || parts[1] != accord {
			return nil
		}
		p, err := Doc[attest.LatestPledge]{Key: string(r.Key), JSON: r.Value}.Decode()
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PledgeInfo returns what the log derived of the pledge at index, or
// ErrNotFound if the entry there is no pledge (or beyond the tree).
func (a *Log) PledgeInfo(ctx context.Context, index uint64) (attest.PledgeInfo, error) {
	var info attest.PledgeInfo
	key := attest.IndexKey(index)
	v, err := a.row(ctx, attest.TablePledges, key)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(v, &info); err != nil {
		return info, fmt.Errorf("attestlog: decoding pledge %s: %w", key, err)
	}
	return info, nil
}

// A LoggedPledge is a pledge's index and what the log derived of it.
type LoggedPledge struct {
	Index uint64
	Info  attest.PledgeInfo
}

// Pledges returns the pledges among the first limit entries that name the
// signatory id (its registry events are the others), in index order.
func (a *Log) Pledges(ctx context.Context, id string, limit int) ([]LoggedPledge, error) {
	prefix := attest.SearchPrefix(attest.SearchSignatory, id)
	rows, err := a.log.Rows(ctx, attest.TableSearch, prefix, prefixEnd(prefix), limit)
	var out []LoggedPledge
	for _, r := range rows {
		index, err := attest.ParseIndexKey(r.Key)
		if err != nil {
			return nil, err
		}
		info, err := a.PledgeInfo(ctx, index)
		if errors.Is(err, ErrNotFound) {
			continue // a registry event
		}
		if err != nil {
			return nil, err
		}
		out = append(out, LoggedPledge{Index: index, Info: info})
	}
	return out, err
}

// IndexByLeafHash returns the index of the entry whose RFC 6962 leaf hash
// is h, as the derived rows have it, or ErrNotFound. The caller that must
// not answer a wrong index checks the tree's leaf hash at it.
func (a *Log) IndexByLeafHash(ctx context.Context, h verify.Hash) (uint64, error) {
	v, err := a.row(ctx, tableLeaf, h[:])
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, ErrNotFound
	}
	return binary.BigEndian.Uint64(v), nil
}

// A Query selects entries by what they say. An empty field matches every
// entry; Principle needs Accord. At least one field must be set.
type Query struct {
	Subject   string // lowercase hex SHA-256 of a subject digest
	Principle string // a principle of Accord
	Signatory string // the principal that the statement names
	Accord    string
	Status    string // a pledge status, or attest.StatusVoid
}

// prefixes returns the TableSearch prefixes of q's fields, the scan's
// driver first: the most selective field set.
func (q Query) prefixes() ([][]byte, error) {
	if q.Principle != "" && q.Accord == "" {
		return nil, errors.New("attestlog: a search by principle needs its accord")
	}
	principle := ""
	if q.Principle != "" {
		principle = q.Accord + "/" + q.Principle // the field's value
	}
	var out [][]byte
	for _, f := range []struct{ field, value string }{
		{attest.SearchSubject, q.Subject},
		{attest.SearchPrinciple, principle},
		{attest.SearchSignatory, q.Signatory},
		{attest.SearchAccord, q.Accord},
		{attest.SearchStatus, q.Status},
	} {
		if f.value != "" {
			out = append(out, attest.SearchPrefix(f.field, f.value))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("attestlog: a search needs a field")
	}
	return out, nil
}

// SearchBudget is the most rows of its driver (its first field) that one
// page of Search scans: a page of a query whose other fields match rarely
// ends early, with a Next.
const SearchBudget = 4096

// Hits are a page of search results.
type Hits struct {
	Indexes []uint64 // the entries that match, in index order
	// Next is the After of the next page, nil on the last one. A page may
	// hold fewer than Limit hits, even none, and still have a next one.
	Next []byte
}

// Search returns a page of the entries that match q, in index order.
func (a *Log) Search(ctx context.Context, q Query, pg Page) (*Hits, error) {
	prefixes, err := q.prefixes()
	if err != nil {
		return nil, err
	}
	out := &Hits{Indexes: []uint64{}}
	driver, scanned := prefixes[0], 0
	for len(out.Indexes) < pg.Limit && scanned < SearchBudget {
		rows, next, err := a.page(ctx, attest.TableSearch, driver, Page{After: pg.After, Limit: min(pg.Limit, SearchBudget-scanned)})
		if err != nil {
			return nil, err
		}
		scanned += len(rows)
		for i, r := range rows {
			index, err := attest.ParseIndexKey(r.Key)
			if err != nil {
				return nil, err
			}
			ok, err := a.matches(ctx, prefixes[1:], r.Key[len(r.Key)-16:])
			if err != nil {
				return nil, err
			}
			if ok {
				out.Indexes = append(out.Indexes, index)
			}
			if len(out.Indexes) == pg.Limit && i < len(rows)-1 {
				next = r.Key
				break
			}
		}
		out.Next = next
		if next == nil {
			break
		}
		pg.After = next
	}
	return out, nil
}

// matches reports whether every prefix lists the entry of indexKey.
func (a *Log) matches(ctx context.Context, prefixes [][]byte, indexKey []byte) (bool, error) {
	for _, p := range prefixes {
		key := append(slices.Clone(p), indexKey...)
		rows, err := a.log.Rows(ctx, attest.TableSearch, key, append(key, 0), 1)
		if err != nil || len(rows) == 0 {
			return false, err
		}
	}
	return true, nil
}

// page reads up to pg.Limit rows of table under prefix after pg.After,
// and returns with them the Next of the page after them: the last key
// read if the page is full.
func (a *Log) page(ctx context.Context, table string, prefix []byte, pg Page) ([]log.Row, []byte, error) {
	start, end := prefix, prefixEnd(prefix)
	if pg.After != nil {
		if !bytes.HasPrefix(pg.After, prefix) {
			return nil, nil, ErrCursor
		}
		start = append(slices.Clone(pg.After), 0)
	}
	rows, err := a.log.Rows(ctx, table, start, end, pg.Limit)
	if err != nil || len(rows) < pg.Limit {
		return rows, nil, err
	}
	return rows, rows[len(rows)-1].Key, nil
}

// row returns the value of the row key of table, or ErrNotFound.
func (a *Log) row(ctx context.Context, table string, key []byte) ([]byte, error) {
	rows, err := a.log.Rows(ctx, table, key, append(slices.Clone(key), 0), 1)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return rows[0].Value, nil
}

// prefixEnd is the least key above every key with prefix (nil: none).
func prefixEnd(prefix []byte) []byte {
	end := slices.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// rowPage is how many rows a scan reads at a time.
const rowPage = 1024

// scanRows calls fn for every row of table with start <= key < end (a nil
// end: no bound), in key order, reading rowPage rows at a time.
func scanRows(ctx context.Context, l *log.Log, table string, start, end []byte, fn func(log.Row) error) error {
	for {
		rows, err := l.Rows(ctx, table, start, end, rowPage)
		if err != nil {
			return fmt.Errorf("reading table %s: %w", table, err)
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < rowPage {
			return nil
		}
		start = append(append([]byte(nil), rows[len(rows)-1].Key...), 0)
	}
}
