package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

// TestAuditDemo audits the demo and compares the matrix it rebuilt with
// the demo's inputs and with the API's.
func TestAuditDemo(t *testing.T) {
	s := newServer(t, "audit test")
	dir := t.TempDir()
	out := want(t, 0, nil, append([]string{"audit", "--url", s.url, "--state", dir, "--summary", "--json"}, s.trust()...)...)
	var rep auditJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	if rep.Size != 172 || rep.Total != 0 || rep.Signatures != 172+34 {
		t.Errorf("audit: size %d, %d findings, %d signatures; want 172, 0, 206", rep.Size, rep.Total, rep.Signatures)
	}
	checkDemoMatrix(t, s.url, s.demo, rep.Matrix)
	// The same with crypto/ed25519 doing the verifying.
	out = want(t, 0, nil, append([]string{"audit", "--url", s.url, "--state", t.TempDir(), "--json", "--stdlib-ed25519"}, s.trust()...)...)
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Total != 0 || rep.Signatures != 172+34 {
		t.Errorf("audit --stdlib-ed25519: %v, %d findings, %d signatures; want 0, 206", err, rep.Total, rep.Signatures)
	}
	text := want(t, 0, []string{"findings: 0", "matrix: 34 signatories × 4 principles"},
		append([]string{"audit", "--url", s.url, "--state", dir, "--summary"}, s.trust()...)...)
	if !strings.Contains(text, "microsoft\tcommitted\tcommitted\tcommitted\tcommitted") {
		t.Errorf("audit --summary lacks microsoft's row:\n%s", text)
	}
}

// checkDemoMatrix compares a rebuilt matrix with what attest.NewDemo was
// built from (every founding signatory committed to every principle) and
// with the API's latest pledges of each signatory.
func checkDemoMatrix(t *testing.T, url string, demo *attest.Demo, matrix []attest.LatestPledge) {
	t.Helper()
	accord, companies := attest.TechAccord(origin)
	var inputs []string
	for _, c := range companies {
		for _, p := range accord.Principles {
			inputs = append(inputs, fmt.Sprintf("%s/%s/%s/%s", c.ID, accord.ID, p.ID, attest.StatusCommitted))
		}
	}
	var got, api []string
	for _, c := range matrix {
		got = append(got, fmt.Sprintf("%s/%s/%s/%s", c.Signatory, c.Accord, c.Principle, c.Status))
	}
	for _, c := range companies {
		api = append(api, apiLatest(t, url, c.ID)...)
	}
	slices.Sort(inputs)
	slices.Sort(got)
	slices.Sort(api)
	if len(demo.Keys) != len(companies) || !slices.Equal(got, inputs) || !slices.Equal(got, api) {
		t.Errorf("rebuilt matrix (%d cells) differs from the demo's inputs (%d) or the API's (%d):\n%v\n%v\n%v", len(got), len(inputs), len(api), got, inputs, api)
	}
}

func apiLatest(t *testing.T, url, id string) []string {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/signatories/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Latest []attest.LatestPledge `json:"latest"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range v.Latest {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s", c.Signatory, c.Accord, c.Principle, c.Status))
	}
	return out
}

func TestAuditTampered(t *testing.T) {
	s := newServer(t, "audit test")
	for _, tc := range []struct {
		name, prefix string
		offset       int
		want         string
	}{
		{"hash tile", "/tile/0/", 64, "tile/0/000.p/172: hash 2 differs from the entries"},
		{"entry bundle", "/tile/entries/", 300, "differs from the entries"},
		{"level 1 tile", "/tile/1/", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := proxy(t, s, tc.prefix, flipAt(tc.offset))
			code := 1
			if tc.want == "" {
				code = 0 // a tree of 172 entries has no level 1 tile
			}
			want(t, code, []string{tc.want}, append([]string{"audit", "--url", url, "--state", t.TempDir()}, s.trust()...)...)
		})
	}
}

func TestAuditFindingsAndRevocation(t *testing.T) {
	s := newServer(t, "audit test")
	// A key revoked as compromised: the audit state lists it, and a bundle
	// of a pledge it signed after voidFrom fails with the audit state.
	b := s.submit("cisco", s.pledge("cisco", 3))
	file := writeFile(t, "b.json", b)
	s.append(s.revoke("cisco", 172))
	s.recoverAndRotate("cisco")
	dir := t.TempDir()
	record := filepath.Join(dir, "record.json")
	want(t, 0, []string{"findings: 0"}, append([]string{"audit", "--url", s.url, "--state", dir, "--record", record}, s.trust()...)...)
	rec, err := os.ReadFile(record)
	if err != nil || !strings.Contains(string(rec), `"voidFrom":172`) {
		t.Fatalf("record %s: %v", rec, err)
	}
	want(t, 1, []string{"key revoked", "compromised"}, append([]string{"bundle", file, "--audit-state", record, "--refresh", s.url}, s.trust()...)...)
}

// TestAuditResume interrupts an audit with a server error and resumes it.
func TestAuditResume(t *testing.T) {
	s := newServer(t, "audit test")
	var more [][]byte
	for i := range 400 {
		more = append(more, s.pledge(demoIDs[i%len(demoIDs)], i%4))
	}
	s.append(more...)
	failing := proxy(t, s, "/tile/entries/002", func([]byte) []byte { return nil })
	dir := t.TempDir()
	args := func(url string) []string {
		return append([]string{"audit", "--url", url, "--state", dir, "--save-every", "1", "--fetchers", "1", "--json"}, s.trust()...)
	}
	want(t, 1, []string{"tile/entries/002.p/60", "malformed entry bundle"}, args(failing)...)
	if _, err := os.Stat(filepath.Join(dir, "audit-state.json")); err != nil {
		t.Fatalf("no state saved: %v", err)
	}
	var rep auditJSON
	if err := json.Unmarshal([]byte(want(t, 0, nil, args(s.url)...)), &rep); err != nil || rep.Resumed != 512 || rep.Size != 572 || rep.Total != 0 {
		t.Errorf("resumed audit: %+v, %v; want 512 entries resumed of 572", rep, err)
	}
}

var demoIDs = []string{"microsoft", "cisco", "github", "oracle", "sap"}
