package attest

import (
	"errors"
	"fmt"
	"slices"
)

// ErrStore means that the file holding an on-disk registry's pledges
// (see [NewRegistryOnDisk]) failed, or that the registry was closed. It
// says nothing about the entry: the registry can no longer follow the
// log, and every later Admit, Replay and RestorePledge fails with it. An
// auditor stops (it is not a finding); a server exits. The in-memory
// registry never returns it.
var ErrStore = errors.New("attest: pledge store failed")

// pledgeRec is what the registry keeps of a pledge after its entry: what
// Supersedes checks, voiding and the rows of a voided pledge need.
//
// Whether the pledge is void is not stored: it is void exactly when its
// key's voidFrom is at or below its index ([keyState.voidAt]). Voiding
// sets voidFrom and voids every pledge of the key from there on, and a key
// that gets a voidFrom is revoked, so it signs no later pledge; so the
// records never change once written.
type pledgeRec struct {
	index  uint64
	key    uint32 // position in Registry.keyList
	cell   uint32 // position in Registry.cellList
	status uint8  // position in statuses
}

// A pledgeStore holds the registry's pledge records in index order.
//
// The goroutine holding Registry.mu for writing may call every method;
// goroutines holding it for reading may call len and read concurrently.
type pledgeStore interface {
	// len returns the number of records.
	len() int
	// append adds rec, whose index must be above every stored one. An
	// error wraps ErrStore, and then every later append fails.
	append(rec pledgeRec) error
	// truncate keeps the first n ≤ len records. It undoes appends and
	// must not fail.
	truncate(n int)
	// read fills recs with the records from position i < len on and
	// returns how many it read: min(len(recs), len-i). An error wraps
	// ErrStore.
	read(recs []pledgeRec, i int) (int, error)
	// close releases the store. Reads and appends then fail.
	close() error
}

// memStore is the in-memory pledgeStore: one slice, 24 bytes a pledge.
type memStore struct{ recs []pledgeRec }

func (s *memStore) len() int { return len(s.recs) }

func (s *memStore) append(rec pledgeRec) error {
	s.recs = append(s.recs, rec)
	return nil
}

func (s *memStore) truncate(n int) { s.recs = s.recs[:n] }

func (s *memStore) read(recs []pledgeRec, i int) (int, error) {
	return copy(recs, s.recs[i:]), nil
}

func (s *memStore) close() error { return nil }

// scanChunk is how many records a scan reads at once.
const scanChunk = 4096

// pledgeAt returns the record at position i.
func pledgeAt(s pledgeStore, i int) (pledgeRec, error) {
	var rec [1]pledgeRec
	_, err := s.read(rec[:], i)
	return rec[0], err
}

// searchPledges returns the position of the first record whose index is
// at or above index (len if there is none), by binary search.
func searchPledges(s pledgeStore, index uint64) (int, error) {
	lo, hi := 0, s.len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		rec, err := pledgeAt(s, mid)
		if err != nil {
			return 0, err
		}
		if rec.index < index {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// findPledge returns the record of the pledge at index, if there is one.
func findPledge(s pledgeStore, index uint64) (rec pledgeRec, ok bool, err error) {
	i, err := searchPledges(s, index)
	if err != nil || i == s.len() {
		return pledgeRec{}, false, err
	}
	rec, err = pledgeAt(s, i)
	return rec, err == nil && rec.index == index, err
}

// scanForward calls fn for the records from position i on, in order.
func scanForward(s pledgeStore, i int, fn func(pos int, rec pledgeRec)) error {
	buf := make([]pledgeRec, min(scanChunk, max(s.len()-i, 0)))
	for i < s.len() {
		n, err := s.read(buf, i)
		if err != nil {
			return err
		}
		for j, rec := range buf[:n] {
			fn(i+j, rec)
		}
		i += n
	}
	return nil
}

// scanBackward calls fn for the records below position i, from the
// highest down, until fn returns false.
func scanBackward(s pledgeStore, i int, fn func(pos int, rec pledgeRec) bool) error {
	buf := make([]pledgeRec, min(scanChunk, i))
	for i > 0 {
		start := max(i-scanChunk, 0)
		n, err := s.read(buf[:i-start], start)
		if err != nil {
			return err
		}
		for j := n - 1; j >= 0; j-- {
			if !fn(start+j, buf[j]) {
				return nil
			}
		}
		i = start
	}
	return nil
}

// statusCode returns the position of status in statuses.
func statusCode(status string) (uint8, bool) {
	i := slices.Index(statuses, status)
	return uint8(i), i >= 0
}

// storeErr wraps an error of the store's file.
func storeErr(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrStore, op, err)
}
