package audit

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
)

const testNote = "log.example.org/a\n3\nWqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=\n\n— log.example.org/a eFoNpCmkJXUlTGQ6hUJ3IhXSb/d/0fjUZVhnDc4A+XCGqJNwpJb+vME+PQnY+APfhH0JTcDCQScMvX1rLoA9gfUZkQU=\n"

func TestStateRoundTrip(t *testing.T) {
	s := &State{Checkpoint: []byte(testNote), Next: 3, Range: []verify.Hash{{1}, {2}},
		Runs: []string{"dedup-000000.run"}, Findings: []Finding{{1, KindDuplicate, "x"}}, Total: 2}
	got, err := ParseState(s.Marshal())
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("ParseState(Marshal(%+v)) = %+v, %v", s, got, err)
	}
	for _, bad := range []string{
		`{"checkpoint":"x","next":0,"range":[],"runs":[],"findings":[],"total":0}`,
		string(bytes.Replace(s.Marshal(), []byte(`"next":3`), []byte(`"next":4`), 1)),
		string(bytes.Replace(s.Marshal(), []byte(`dedup-000000`), []byte(`../../etc/x`), 1)),
		string(bytes.Replace(s.Marshal(), []byte(`"total":2`), []byte(`"total":2,"more":1`), 1)),
		string(s.Marshal()) + "{}",
	} {
		if _, err := ParseState([]byte(bad)); err == nil {
			t.Errorf("ParseState(%s) succeeded", bad)
		}
	}
}

// FuzzParseState checks that every state ParseState accepts marshals to
// one it parses to the same, and marshals the same.
func FuzzParseState(f *testing.F) {
	s := &State{Checkpoint: []byte(testNote), Next: 3, Range: []verify.Hash{{1}, {2}}, Runs: []string{"dedup-000000.run"}, Total: 1,
		Findings: []Finding{{1, KindDuplicate, "x"}}}
	f.Add(s.Marshal())
	f.Add([]byte(`{"checkpoint":"","next":0,"range":[],"runs":[],"findings":[],"total":0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseState(b)
		if err != nil {
			return
		}
		m := s.Marshal()
		s2, err := ParseState(m)
		if err != nil || !reflect.DeepEqual(norm(s), norm(s2)) || !bytes.Equal(s2.Marshal(), m) {
			t.Errorf("round trip of %q: %+v, then %+v, %v", b, s, s2, err)
		}
	})
}

func norm(s *State) State {
	c := *s
	if len(c.Range) == 0 {
		c.Range = nil
	}
	if len(c.Runs) == 0 {
		c.Runs = nil
	}
	if len(c.Findings) == 0 {
		c.Findings = nil
	}
	return c
}

// FuzzParseRecord checks round trips of audit records.
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"checkpoint":"` + jsonEscape(testNote) + `","revocations":[{"keyid":"ab","index":4,"voidFrom":2},{"keyid":"cd","index":5}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err != nil {
			return
		}
		m := r.Marshal()
		r2, err := ParseRecord(m)
		if err != nil || !bytes.Equal(r2.Marshal(), m) || len(r2.Revocations) != len(r.Revocations) {
			t.Errorf("round trip of %q: %+v, then %+v, %v", b, r, r2, err)
		}
	})
}

func jsonEscape(s string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte("\n"), []byte(`\n`)))
}
