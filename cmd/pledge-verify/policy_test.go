package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

func TestPolicyFile(t *testing.T) {
	s := newServer(t, "policy test")
	dir := t.TempDir()
	pem, err := attest.MarshalPublicKey(s.demo.Registrar.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "registrar.pem"), pem, 0o644); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "policy")
	text := "# the test log\nlog " + s.vkey() + "\n\nregistrar registrar.pem\nquorum 0\n"
	if err := os.WriteFile(policy, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "b.json", s.submit("microsoft", s.pledge("microsoft", 1)))
	want(t, 0, []string{"entry 172 included"}, "bundle", file, "--policy", policy)
	want(t, 0, []string{"entry 3 included"}, "inclusion", "--url", s.url, "--index", "3", "--policy", policy)
	bad := writeFile(t, "bad", []byte("log "+s.vkey()+"\nquorum 1\n"))
	want(t, 2, []string{"quorum 1 with 0 witnesses"}, "bundle", file, "--policy", bad)
}

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *policyFile
	}{
		{"log a\nlog b\n# c\n\n registrar  k \nwitness w\nquorum 1", &policyFile{Logs: []string{"a", "b"}, Registrars: []string{"k"}, Witnesses: []string{"w"}, Quorum: 1}},
		{"", &policyFile{}},
		{"log a b\n", nil},
		{"logs a\n", nil},
		{"quorum 01\n", nil},
		{"quorum -1\n", nil},
		{"quorum 1\nquorum 1\n", nil},
	} {
		got, err := parsePolicy([]byte(tc.in))
		if tc.want == nil {
			if err == nil {
				t.Errorf("parsePolicy(%q) = %+v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePolicy(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParsePolicy checks that what parsePolicy accepts marshals to a
// policy that parses back the same, and marshals the same.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("log a+1+A\nregistrar k\nwitness w\nquorum 1\n"))
	f.Add([]byte("# c\n\nlog x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePolicy(b)
		if err != nil {
			return
		}
		m := p.marshal()
		q, err := parsePolicy(m)
		if err != nil {
			t.Fatalf("parsePolicy(marshal(%q)) = %v", b, err)
		}
		if !reflect.DeepEqual(norm(p), norm(q)) || string(q.marshal()) != string(m) {
			t.Errorf("round trip of %q: %+v, then %+v", b, p, q)
		}
	})
}

func norm(p *policyFile) policyFile {
	c := *p
	for _, s := range []*[]string{&c.Logs, &c.Registrars, &c.Witnesses} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	return c
}
