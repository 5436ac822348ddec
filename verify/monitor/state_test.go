package monitor

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
)

// note3 is a checkpoint of the tree of "one", "two", "three" (its
// signature is not checked by ParseState).
const note3 = "log.example.org/a\n3\nWqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=\n\n— log.example.org/a eFoNpCmkJXUlTGQ6hUJ3IhXSb/d/0fjUZVhnDc4A+XCGqJNwpJb+vME+PQnY+APfhH0JTcDCQScMvX1rLoA9gfUZkQU=\n"

func range3() []verify.Hash {
	one, two, three := verify.LeafHash([]byte("one")), verify.LeafHash([]byte("two")), verify.LeafHash([]byte("three"))
	return []verify.Hash{verify.NodeHash(one, two), three}
}

func TestParseState(t *testing.T) {
	s := &State{Checkpoint: []byte(note3), Range: range3()}
	got, err := ParseState(s.Marshal())
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("ParseState(Marshal(%+v)) = %+v, %v", s, got, err)
	}
	bad := &State{Checkpoint: []byte(note3), Range: range3()[:1]}
	if _, err := ParseState(bad.Marshal()); err == nil {
		t.Errorf("ParseState accepted a range that does not lead to the root")
	}
	wrong := &State{Checkpoint: []byte(note3), Range: []verify.Hash{range3()[1], range3()[0]}}
	if _, err := ParseState(wrong.Marshal()); err == nil {
		t.Errorf("ParseState accepted a range with another root")
	}
}

// FuzzParseState checks round trips of monitor states.
func FuzzParseState(f *testing.F) {
	f.Add((&State{Checkpoint: []byte(note3), Range: range3()}).Marshal())
	f.Add((&State{}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseState(b)
		if err != nil {
			return
		}
		m := s.Marshal()
		s2, err := ParseState(m)
		if err != nil || !bytes.Equal(s2.Marshal(), m) {
			t.Errorf("round trip of %q: %+v, then %+v, %v", b, s, s2, err)
		}
	})
}
