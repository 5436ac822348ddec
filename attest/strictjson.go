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

// MaxDepth is how deeply JSON values may nest in an envelope or a
// statement: objects and arrays inside one another, the outermost counting
// as 1. The schemas need at most 4 (a statement's predicate's principles'
// members); anything deeper is refused before it is parsed, with the
// problem code "too-deep", so that parsing costs time and memory linear in
// the input whatever its shape.
const MaxDepth = 32

// checkDepth reports whether data, read as JSON, nests objects and arrays
// more than MaxDepth deep. It reads each byte once and keeps no stack, so
// it is safe to run on any input before a recursive parser sees it;
// malformed input it leaves to the parser.
func checkDepth(data []byte, ptr string) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > MaxDepth {
				return malformed(ptr, "too-deep", "JSON nested more than %d deep", MaxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// A jpath is the JSON pointer of a value being parsed, kept as a chain of
// parent links so that it costs one small allocation a level and is spelt
// out only when an error names it.
type jpath struct {
	up    *jpath
	root  string // the pointer's prefix, at the root (up == nil) only
	key   string // a member's name, when isKey
	index int    // an array element's index, when not isKey
	isKey bool
}

func (p *jpath) member(key string) *jpath { return &jpath{up: p, key: key, isKey: true} }
func (p *jpath) elem(i int) *jpath        { return &jpath{up: p, index: i} }

// String is the RFC 6901 pointer of p.
func (p *jpath) String() string {
	var parts []string
	for ; p.up != nil; p = p.up {
		if p.isKey {
			parts = append(parts, escapePointer(p.key))
		} else {
			parts = append(parts, itoa(p.index))
		}
	}
	var b strings.Builder
	b.WriteString(p.root)
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

// parseTree parses exactly one JSON value, nested at most MaxDepth deep.
// ptr prefixes error pointers.
func parseTree(data []byte, ptr string) (*jnode, error) {
	if err := checkDepth(data, ptr); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root := &jpath{root: ptr}
	n, err := readNode(dec, root)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed(ptr, "trailing-data", "data after the JSON value")
	}
	return n, nil
}

func readNode(dec *json.Decoder, p *jpath) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(p.String(), "invalid-json", "%s", jsonDetail(err))
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return readObject(dec, p)
		}
		return readArray(dec, p)
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

func readObject(dec *json.Decoder, p *jpath) (*jnode, error) {
	n := &jnode{kind: '{'}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(p.String(), "invalid-json", "%s", jsonDetail(err))
		}
		key := tok.(string) // the decoder only yields string keys
		if seen[key] {
			return nil, malformed(p.member(key).String(), "duplicate-key", "")
		}
		seen[key] = true
		v, err := readNode(dec, p.member(key))
		if err != nil {
			return nil, err
		}
		n.keys, n.vals = append(n.keys, key), append(n.vals, v)
	}
	_, err := dec.Token() // '}'
	if err != nil {
		return nil, malformed(p.String(), "invalid-json", "%s", jsonDetail(err))
	}
	return n, nil
}

func readArray(dec *json.Decoder, p *jpath) (*jnode, error) {
	n := &jnode{kind: '['}
	for dec.More() {
		v, err := readNode(dec, p.elem(len(n.vals)))
		if err != nil {
			return nil, err
		}
		n.vals = append(n.vals, v)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, malformed(p.String(), "invalid-json", "%s", jsonDetail(err))
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
	return diffAt(in, canon, &jpath{root: ptr})
}

func diffAt(in, canon *jnode, p *jpath) error {
	if in.kind != canon.kind {
		return malformed(p.String(), "wrong-type", "")
	}
	switch in.kind {
	case '{':
		return diffObject(in, canon, p)
	case '[':
		if len(in.vals) != len(canon.vals) {
			return malformed(p.String(), "not-canonical", "empty values must be omitted")
		}
		for i := range in.vals {
			if err := diffAt(in.vals[i], canon.vals[i], p.elem(i)); err != nil {
				return err
			}
		}
	default:
		if in.text != canon.text {
			return malformed(p.String(), "not-canonical", "value is not in canonical form")
		}
	}
	return nil
}

func diffObject(in, canon *jnode, p *jpath) error {
	for i, k := range in.keys {
		c := canon.get(k)
		if c == nil {
			return unknownKey(p.String(), k, canon.keys)
		}
		if err := diffAt(in.vals[i], c, p.member(k)); err != nil {
			return err
		}
	}
	for _, k := range canon.keys {
		if in.get(k) == nil {
			return malformed(p.member(k).String(), "missing-field", "")
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
