package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// jnode is a JSON value that keeps object members in input order, so that
// duplicate and case-variant keys can be reported (encoding/json silently
// keeps the last duplicate and matches keys case-insensitively).
type jnode struct {
	kind byte // '{' object, '[' array, 's' string, 'n' number, 'l' literal
	keys []string
	vals []*jnode
	text string // string value, number text or literal
}

// parseTree parses exactly one JSON value. ptr prefixes error pointers.
func parseTree(data []byte, ptr string) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec, ptr)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed(ptr, "trailing-data", "data after the JSON value")
	}
	return n, nil
}

func readNode(dec *json.Decoder, ptr string) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(ptr, "invalid-json", "%v", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return readObject(dec, ptr)
		}
		return readArray(dec, ptr)
	case string:
		return &jnode{kind: 's', text: t}, nil
	case json.Number:
		return &jnode{kind: 'n', text: t.String()}, nil
	case bool:
		return &jnode{kind: 'l', text: map[bool]string{true: "true", false: "false"}[t]}, nil
	default:
		return &jnode{kind: 'l', text: "null"}, nil
	}
}

func readObject(dec *json.Decoder, ptr string) (*jnode, error) {
	n := &jnode{kind: '{'}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(ptr, "invalid-json", "%v", err)
		}
		key := tok.(string) // the decoder only yields string keys
		if seen[key] {
			return nil, malformed(ptr+"/"+escapePointer(key), "duplicate-key", "")
		}
		seen[key] = true
		v, err := readNode(dec, ptr+"/"+escapePointer(key))
		if err != nil {
			return nil, err
		}
		n.keys, n.vals = append(n.keys, key), append(n.vals, v)
	}
	_, err := dec.Token() // '}'
	if err != nil {
		return nil, malformed(ptr, "invalid-json", "%v", err)
	}
	return n, nil
}

func readArray(dec *json.Decoder, ptr string) (*jnode, error) {
	n := &jnode{kind: '['}
	for dec.More() {
		v, err := readNode(dec, ptr+"/"+itoa(len(n.vals)))
		if err != nil {
			return nil, err
		}
		n.vals = append(n.vals, v)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, malformed(ptr, "invalid-json", "%v", err)
	}
	return n, nil
}

func (n *jnode) get(key string) *jnode {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// members checks that n is an object with exactly the given keys and
// returns their values in the same order.
func (n *jnode) members(ptr string, names ...string) ([]*jnode, error) {
	if n.kind != '{' {
		return nil, malformed(ptr, "wrong-type", "want an object")
	}
	for _, k := range n.keys {
		if err := checkKnown(ptr, k, names); err != nil {
			return nil, err
		}
	}
	out := make([]*jnode, len(names))
	for i, name := range names {
		if out[i] = n.get(name); out[i] == nil {
			return nil, malformed(ptr+"/"+name, "missing-field", "")
		}
	}
	return out, nil
}

func checkKnown(ptr, key string, names []string) error {
	for _, name := range names {
		if key == name {
			return nil
		}
		if strings.EqualFold(key, name) {
			return malformed(ptr+"/"+escapePointer(key), "case-variant-key", "did you mean %q", name)
		}
	}
	return malformed(ptr+"/"+escapePointer(key), "unknown-field", "")
}

func (n *jnode) str(ptr string) (string, error) {
	if n.kind != 's' {
		return "", malformed(ptr, "wrong-type", "want a string")
	}
	return n.text, nil
}

// diff returns the first difference between a submitted JSON value and its
// canonical form, as a FieldError; nil if they are the same tree (then any
// remaining difference is in spacing, member order or escapes).
func diff(in, canon *jnode, ptr string) error {
	if in.kind != canon.kind {
		return malformed(ptr, "wrong-type", "")
	}
	switch in.kind {
	case '{':
		return diffObject(in, canon, ptr)
	case '[':
		if len(in.vals) != len(canon.vals) {
			return malformed(ptr, "not-canonical", "empty values must be omitted")
		}
		for i := range in.vals {
			if err := diff(in.vals[i], canon.vals[i], ptr+"/"+itoa(i)); err != nil {
				return err
			}
		}
	default:
		if in.text != canon.text {
			return malformed(ptr, "not-canonical", "value is not in canonical form")
		}
	}
	return nil
}

func diffObject(in, canon *jnode, ptr string) error {
	for i, k := range in.keys {
		c := canon.get(k)
		if c == nil {
			return unknownKey(ptr, k, canon.keys)
		}
		if err := diff(in.vals[i], c, ptr+"/"+escapePointer(k)); err != nil {
			return err
		}
	}
	for _, k := range canon.keys {
		if in.get(k) == nil {
			return malformed(ptr+"/"+escapePointer(k), "missing-field", "")
		}
	}
	return nil
}

// unknownKey explains why key, present in the input, is not in the
// canonical re-encoding: a case variant, an empty optional field, or a
// field the schema does not have.
func unknownKey(ptr, key string, canonKeys []string) error {
	p := ptr + "/" + escapePointer(key)
	for _, k := range canonKeys {
		if strings.EqualFold(k, key) {
			return malformed(p, "case-variant-key", "did you mean %q", k)
		}
	}
	if schemaFields()[key] {
		return malformed(p, "not-canonical", "empty optional fields must be omitted")
	}
	return malformed(p, "unknown-field", "")
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func itoa(i int) string {
	return string(appendUint(nil, uint64(i)))
}

func appendUint(b []byte, u uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + u%10)
		if u /= 10; u == 0 {
			break
		}
	}
	return append(b, buf[i:]...)
}

// jsonFieldPointer turns the dotted field path of an encoding/json error
// into a JSON pointer under prefix.
func jsonFieldPointer(prefix string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return prefix + "/" + strings.ReplaceAll(te.Field, ".", "/")
	}
	return prefix
}
