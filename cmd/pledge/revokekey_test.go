package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestRevokeKey: a signatory revokes its own keys with pledge revoke-key,
// signed by one of its current keys, against the test log: a superseded
// key (status then shows it revoked), and a compromised one, where a key
// may not void what was signed before its own addition (403
// before-signing-key, exit 2, naming --void-from) but may from after it.
// A key the signatory does not hold is refused (exit 2).
func TestRevokeKey(t *testing.T) {
	e := newEnv(t)
	e.register("revco")
	addKey := func(file string) (index uint64, keyid string) {
		e.must("pledge", "keygen", "--out", "config/"+file)
		r := e.must("pledge", "add-key", "--id", "revco", "--new-key", "config/"+file, "--json")
		var out struct {
			Index uint64 `json:"index"`
			KeyID string `json:"keyid"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("add-key --json printed %q: %v", r.stdout, err)
		}
		return out.Index, out.KeyID
	}
	keyOf := func(file string) string {
		r := e.must("pledge", "fingerprint", "--key", "config/"+file, "--json")
		var out struct {
			KeyID string `json:"keyid"`
		}
		json.Unmarshal([]byte(r.stdout), &out)
		return out.KeyID
	}
	_, second := addKey("second.pem")
	r := e.must("pledge", "revoke-key", "--id", "revco", "--keyid", second, "--reason", "superseded", "--json")
	var out struct {
		Index    uint64 `json:"index"`
		SignedBy string `json:"signedBy"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.SignedBy != keyOf("key.pem") {
		t.Fatalf("revoke-key --json printed %q (%v), want it signed by key.pem's key", r.stdout, err)
	}
	st := e.must("pledge", "status", "--id", "revco")
	if !strings.Contains(st.stdout, second) || !strings.Contains(st.stdout, fmt.Sprintf("revoked at %d (superseded)", out.Index)) {
		t.Errorf("status after revoke-key:\n%s", st.stdout)
	}

	// A younger key may not void the first key's past, only what came
	// after its own addition.
	first := keyOf("key.pem")
	e.must("pledge", "sign", "--signatory", "revco", "--accord", accord, "--principle", "no-offense",
		"--status", "committed", "--statement", "Signed by the first key.")
	early := e.must("pledge", "submit", "--json")
	var sub struct {
		Index uint64 `json:"index"`
	}
	json.Unmarshal([]byte(early.stdout), &sub)
	thirdAdded, _ := addKey("third.pem")
	r = e.run("pledge", "revoke-key", "--id", "revco", "--key", "config/third.pem", "--keyid", first,
		"--reason", "compromised", "--void-from", fmt.Sprint(sub.Index))
	if r.code != 2 || !strings.Contains(r.stderr, "before-signing-key") || !strings.Contains(r.stderr, "--void-from") {
		t.Errorf("revoke-key voiding before the signing key's addition = %d: %s; want 2, before-signing-key, --void-from", r.code, r.stderr)
	}
	e.must("pledge", "revoke-key", "--id", "revco", "--key", "config/third.pem", "--keyid", first,
		"--reason", "compromised", "--void-from", fmt.Sprint(thirdAdded+1))
	st = e.must("pledge", "status", "--id", "revco", "--json")
	var status statusReport
	if err := json.Unmarshal([]byte(st.stdout), &status); err != nil {
		t.Fatal(err)
	}
	for _, k := range status.Signatory.Keys {
		if k.ID == first && (k.Valid() || k.Reason != "compromised") {
			t.Errorf("the first key after its compromise revocation: %+v", k)
		}
	}

	stranger := newEnv(t)
	stranger.must("pledge", "keygen")
	if r := stranger.run("pledge", "revoke-key", "--id", "revco", "--keyid", keyOf("third.pem"), "--reason", "superseded"); r.code != 2 || !strings.Contains(r.stderr, "401") {
		t.Errorf("revoke-key with a key revco does not hold = %d: %s; want 2 and 401", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"--id", "revco", "--keyid", "xyz", "--reason", "superseded"},
		{"--id", "revco", "--keyid", first, "--reason", "bored"},
		{"--id", "revco", "--keyid", first, "--reason", "superseded", "--void-from", "3"},
		{"--id", "revco", "--keyid", first},
	} {
		if r := e.run("pledge", append([]string{"revoke-key"}, args...)...); r.code != 2 {
			t.Errorf("revoke-key %q = %d, want 2: %s", args, r.code, r.stderr)
		}
	}
}

// TestFingerprint: pledge fingerprint prints the log key's fingerprint
// exactly as the log's /verify page shows it, for the served key and for
// --log-key, and a key file's key id as keygen printed it.
func TestFingerprint(t *testing.T) {
	e := newEnv(t)
	kg := e.must("pledge", "keygen", "--json")
	var made struct {
		KeyID string `json:"keyid"`
	}
	json.Unmarshal([]byte(kg.stdout), &made)
	for _, file := range []string{"config/key.pem", "config/key.pub.pem"} {
		if r := e.must("pledge", "fingerprint", "--key", file); r.stdout != "keyid: "+made.KeyID+" (ed25519)\n" {
			t.Errorf("fingerprint --key %s = %q, want keygen's key id %s", file, r.stdout, made.KeyID)
		}
	}
	resp, err := http.Get(logURL + "/verify")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`Its fingerprint</dt><dd><code>([0-9a-f ]+)</code>`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("/verify shows no fingerprint:\n%.3000s", page)
	}
	served := e.must("pledge", "fingerprint", "--json")
	var out struct{ VKey, Fingerprint string }
	if err := json.Unmarshal([]byte(served.stdout), &out); err != nil || out.Fingerprint != string(m[1]) {
		t.Fatalf("fingerprint = %q (%v), the page shows %q", served.stdout, err, m[1])
	}
	if r := e.must("pledge", "fingerprint", "--log-key", out.VKey); !strings.Contains(r.stdout, "fingerprint: "+string(m[1])+"\n") {
		t.Errorf("fingerprint --log-key = %q, want %q", r.stdout, m[1])
	}
}
