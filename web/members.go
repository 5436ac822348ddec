package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
)

// errMembers is a JSON body that is not one object whose members are
// distinct and among those named.
var errMembers = errors.New("not an object of distinct known members")

// checkMembers checks that data is one JSON object whose member names are
// distinct and each exactly one of names. encoding/json alone takes the
// last of duplicate members and matches names case-insensitively, so two
// readers of one body could see two requests; checked first, a body means
// one thing.
func checkMembers(data []byte, names ...string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errMembers
	}
	var seen []string
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok || !slices.Contains(names, name) || slices.Contains(seen, name) {
			return errMembers
		}
		seen = append(seen, name)
		if err := dec.Decode(new(json.RawMessage)); err != nil {
			return errMembers
		}
	}
	return nil
}
