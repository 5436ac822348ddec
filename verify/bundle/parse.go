package bundle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/pledgelog/pledgelog/verify"
)

// Parse decodes a bundle strictly: at most MaxSize bytes of one JSON
// object with exactly the members of the package comment, each once;
// numbers in canonical decimal; base64 standard, padded and canonical;
// hashes of 32 bytes; the checkpoint a syntactically valid signed
// checkpoint.
// White space between tokens is allowed. Parse checks no proof or
// signature: that is Verify's job.
//
// A bundle of media type MediaTypeV2 is parsed as a v2 bundle, with its
// own members and limits (MaxSizeV2; see MapEvidence).
func Parse(data []byte) (*Bundle, error) {
	if isV2(data) {
		return parseV2(data)
	}
	if len(data) > MaxSize {
		return nil, fieldErr("bundle", ErrMalformed, fmt.Errorf("more than %d bytes", MaxSize))
	}
	d := &decoder{dec: json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber()
	b := new(Bundle)
	if err := d.bundle(b); err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, fieldErr("bundle", ErrMalformed, errors.New("data after the object"))
	}
	return b, nil
}

// decoder reads JSON tokens and turns errors into *FieldError.
type decoder struct {
	dec *json.Decoder
}

func (d *decoder) bundle(b *Bundle) error {
	_, err := d.object("", func(field, key string) error {
		switch key {
		case "mediaType":
			return d.mediaType(field)
		case "entry":
			return d.entry(field, &b.Entry)
		case "checkpoint":
			return d.checkpoint(field, &b.Checkpoint)
		case "evidence":
			return d.evidence(field, &b.Evidence)
		}
		return nil
	}, "mediaType", "entry", "checkpoint", "evidence")
	return err
}

// object reads an object whose members are exactly names, each once,
// calling member for each. field is the object's path ("" at the top).
func (d *decoder) object(field string, member func(field, key string) error, names ...string) (map[string]bool, error) {
	if err := d.delim(field, '{'); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for d.dec.More() {
		key, err := d.key(field, names, seen)
		if err != nil {
			return seen, err
		}
		if err := member(join(field, key), key); err != nil {
			return seen, err
		}
	}
	if err := d.delim(field, '}'); err != nil {
		return seen, err
	}
	for _, n := range names {
		if !seen[n] && n == "mediaType" {
			return seen, fieldErr(n, ErrMediaType, errors.New("missing"))
		}
		if !seen[n] {
			return seen, fieldErr(join(field, n), ErrMalformed, errors.New("missing"))
		}
	}
	return seen, nil
}

func (d *decoder) key(field string, names []string, seen map[string]bool) (string, error) {
	tok, err := d.dec.Token()
	key, ok := tok.(string)
	if err != nil || !ok {
		return "", fieldErr(orTop(field), ErrMalformed, errors.New("want a member name"))
	}
	known := false
	for _, n := range names {
		known = known || n == key
	}
	if !known {
		return "", fieldErr(join(field, key), ErrMalformed, errors.New("unknown member"))
	}
	if seen[key] {
		return "", fieldErr(join(field, key), ErrMalformed, errors.New("repeated member"))
	}
	seen[key] = true
	return key, nil
}

func (d *decoder) delim(field string, want json.Delim) error {
	tok, err := d.dec.Token()
	if err != nil || tok != want {
		return fieldErr(orTop(field), ErrMalformed, fmt.Errorf("want %q", want))
	}
	return nil
}

// array reads an array of at most max elements, calling elem for each.
func (d *decoder) array(field string, max int, elem func(field string, i int) error) error {
	if err := d.delim(field, '['); err != nil {
		return err
	}
	for i := 0; d.dec.More(); i++ {
		if i == max {
			return fieldErr(field, ErrMalformed, fmt.Errorf("more than %d elements", max))
		}
		if err := elem(fmt.Sprintf("%s[%d]", field, i), i); err != nil {
			return err
		}
	}
	return d.delim(field, ']')
}

func (d *decoder) str(field string) (string, error) {
	tok, err := d.dec.Token()
	s, ok := tok.(string)
	if err != nil || !ok {
		return "", fieldErr(field, ErrMalformed, errors.New("want a string"))
	}
	return s, nil
}

func (d *decoder) mediaType(field string) error {
	s, err := d.str(field)
	if err == nil && s != MediaType {
		err = fieldErr(field, ErrMediaType, fmt.Errorf("%q, want %q", s, MediaType))
	}
	return err
}

func (d *decoder) entry(field string, e *Entry) error {
	_, err := d.object(field, func(f, key string) error {
		switch key {
		case "index":
			return d.index(f, &e.Index)
		case "leaf":
			return d.base64(f, &e.Leaf)
		}
		e.Proof = []verify.Hash{}
		return d.array(f, MaxProof, func(f string, _ int) error {
			var h verify.Hash
			err := d.hash(f, &h)
			e.Proof = append(e.Proof, h)
			return err
		})
	}, "index", "leaf", "proof")
	return err
}

func (d *decoder) index(field string, v *uint64) error {
	tok, err := d.dec.Token()
	n, ok := tok.(json.Number)
	if err != nil || !ok {
		return fieldErr(field, ErrMalformed, errors.New("want a number"))
	}
	i, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil || strconv.FormatUint(i, 10) != string(n) {
		return fieldErr(field, ErrMalformed, fmt.Errorf("%s is not a canonical unsigned integer", n))
	}
	*v = i
	return nil
}

func (d *decoder) base64(field string, v *[]byte) error {
	s, err := d.str(field)
	if err != nil {
		return err
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return fieldErr(field, ErrMalformed, errors.New("not canonical standard base64"))
	}
	if len(b) == 0 || len(b) > verify.MaxEntrySize {
		return fieldErr(field, ErrMalformed, fmt.Errorf("leaf of %d bytes", len(b)))
	}
	*v = b
	return nil
}

func (d *decoder) hash(field string, h *verify.Hash) error {
	s, err := d.str(field)
	if err != nil {
		return err
	}
	if *h, err = verify.ParseHash(s); err != nil {
		return fieldErr(field, ErrMalformed, err)
	}
	return nil
}

func (d *decoder) checkpoint(field string, v *[]byte) error {
	s, err := d.str(field)
	if err != nil {
		return err
	}
	if len(s) > MaxCheckpoint {
		return fieldErr(field, ErrMalformed, fmt.Errorf("more than %d bytes", MaxCheckpoint))
	}
	if err := parseCheckpoint([]byte(s)); err != nil {
		return fieldErr(field, ErrMalformed, err)
	}
	*v = []byte(s)
	return nil
}

func (d *decoder) evidence(field string, v *[]Entry) error {
	*v = []Entry{}
	return d.array(field, MaxEvidence, func(f string, _ int) error {
		var e Entry
		err := d.entry(f, &e)
		*v = append(*v, e)
		return err
	})
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func orTop(field string) string {
	if field == "" {
		return "bundle"
	}
	return field
}

// parseCheckpoint checks the syntax of a signed checkpoint.
func parseCheckpoint(note []byte) error {
	n, err := verify.ParseNote(note)
	if err != nil {
		return err
	}
	_, err = verify.ParseCheckpoint(n.Text)
	return err
}
