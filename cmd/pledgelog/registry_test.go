package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// demoLog creates and serves a demo log and returns its URL and data
// directory.
func demoLog(t *testing.T) (string, dataDir) {
	t.Helper()
	d := dataDir(filepath.Join(t.TempDir(), "demo"))
	if code, _, stderr := pledgelog(t, nil, "init", "--demo", "--data", string(d), "--origin", "example.com/registry"); code != 0 {
		t.Fatalf("init --demo = %d: %s", code, stderr)
	}
	return startServe(t, d).url, d
}

// newRequest writes a signatory's request for action, signed by a new key,
// and returns its files: request and public key.
func newRequest(t *testing.T, url, action, id string) (string, string, *client.Key) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	k, err := client.NewKeyFrom(priv)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(url)
	info, err := c.Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ev := &attest.SignatoryEvent{Action: action, Origin: info.Origin, Signatory: id, Name: "Test " + id, Key: &k.Public}
	if action == attest.ActionRecover {
		s, err := c.Signatory(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		ev.Name, ev.Seq, ev.Prev = "", s.Signatory.Seq+1, s.Signatory.Head
	}
	req, err := client.NewRequest(ev, k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, _ := json.Marshal(req)
	pub, _ := attest.MarshalPublicKey(priv.Public())
	os.WriteFile(filepath.Join(dir, "request.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "key.pub.pem"), pub, 0o644)
	return filepath.Join(dir, "request.json"), filepath.Join(dir, "key.pub.pem"), k
}

func TestRegistryCommands(t *testing.T) {
	url, d := demoLog(t)
	env := []string{"PLEDGELOG_URL=" + url, "PLEDGELOG_REGISTRAR_KEY=" + d.demoKeyFile()}
	req, pub, key := newRequest(t, url, attest.ActionRegister, "newco")
	code, stdout, stderr := pledgelog(t, env, "signatory", "register", "--request", req, "--id", "newco", "--key", pub)
	if code != 0 || !strings.Contains(stdout, "index 172") {
		t.Fatalf("signatory register = %d: %s%s", code, stdout, stderr)
	}
	if code, stdout, _ := pledgelog(t, env, "signatory", "list"); code != 0 || !strings.Contains(stdout, "newco\tTest newco") {
		t.Errorf("signatory list = %d: %s", code, stdout)
	}
	rec, recPub, _ := newRequest(t, url, attest.ActionRecover, "newco")
	if code, stdout, stderr := pledgelog(t, env, "signatory", "recover", "--request", rec, "--id", "newco", "--key", recPub); code != 0 {
		t.Fatalf("signatory recover = %d: %s%s", code, stdout, stderr)
	}
	code, stdout, stderr = pledgelog(t, env, "signatory", "revoke-key", "--id", "newco", "--keyid", key.ID(), "--reason", "compromised", "--void-from", "173")
	if code != 0 || !strings.Contains(stdout, "revoked key") {
		t.Fatalf("signatory revoke-key = %d: %s%s", code, stdout, stderr)
	}
	accord := filepath.Join(t.TempDir(), "accord.json")
	os.WriteFile(accord, []byte(`{"id":"test-accord","title":"Test accord","text":"We test.","principles":[{"id":"p1","title":"One","text":"First."}]}`), 0o644)
	if code, stdout, stderr := pledgelog(t, env, "accord", "add", "--file", accord); code != 0 || !strings.Contains(stdout, "accord test-accord") {
		t.Fatalf("accord add = %d: %s%s", code, stdout, stderr)
	}
	newKey := filepath.Join(t.TempDir(), "registrar2.pem")
	_, priv, _ := ed25519.GenerateKey(nil)
	pemBytes, _ := attest.MarshalPrivateKey(priv)
	os.WriteFile(newKey, pemBytes, 0o600)
	if code, stdout, stderr := pledgelog(t, env, "registrar", "rotate", "--new-key", newKey); code != 0 || !strings.Contains(stdout, "rotated") {
		t.Fatalf("registrar rotate = %d: %s%s", code, stdout, stderr)
	}
	// The old registrar key is no longer valid.
	code, _, stderr = pledgelog(t, env, "accord", "add", "--file", accord)
	if code != 2 || !strings.Contains(stderr, "401") {
		t.Errorf("accord add with the rotated-out key = %d: %s", code, stderr)
	}
}

// TestRegistryErrors runs the error paths of the registry commands.
func TestRegistryErrors(t *testing.T) {
	url, d := demoLog(t)
	env := []string{"PLEDGELOG_URL=" + url}
	rk := d.demoKeyFile()
	req, pub, _ := newRequest(t, url, attest.ActionRegister, "errco")
	_, otherPub, _ := newRequest(t, url, attest.ActionRegister, "otherco")
	garbage := filepath.Join(t.TempDir(), "garbage.json")
	os.WriteFile(garbage, []byte(`{"payload":"eyJ9","payloadType":"x","signatures":[]}`), 0o644)
	badAccord := filepath.Join(t.TempDir(), "accord.json")
	os.WriteFile(badAccord, []byte(`{"id":"Bad Id","title":"t","principles":[]}`), 0o644)
	goodAccord := filepath.Join(t.TempDir(), "accord.json")
	os.WriteFile(goodAccord, []byte(`{"id":"good","title":"Good","text":"t","principles":[{"id":"p","title":"P","text":"t"}]}`), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"signatory"}, 2, "no command given"},
		{"register without request", []string{"signatory", "register", "--registrar-key", rk}, 2, "--request"},
		{"register without registrar key", []string{"signatory", "register", "--request", req, "--id", "errco", "--key", pub}, 2, "--registrar-key"},
		{"register other id", []string{"signatory", "register", "--registrar-key", rk, "--request", req, "--id", "someone", "--key", pub}, 2, "--id"},
		{"register other key", []string{"signatory", "register", "--registrar-key", rk, "--request", req, "--id", "errco", "--key", otherPub}, 2, "--key"},
		{"register as recover", []string{"signatory", "recover", "--registrar-key", rk, "--request", req, "--id", "errco", "--key", pub}, 2, "not recover"},
		{"register garbage", []string{"signatory", "register", "--registrar-key", rk, "--request", garbage, "--id", "errco", "--key", pub}, 2, "not a signatory event"},
		{"revoke bad reason", []string{"signatory", "revoke-key", "--registrar-key", rk, "--id", "microsoft", "--keyid", strings.Repeat("ab", 32), "--reason", "bored"}, 2, "--reason"},
		{"revoke void-from superseded", []string{"signatory", "revoke-key", "--registrar-key", rk, "--id", "microsoft", "--keyid", strings.Repeat("ab", 32), "--reason", "superseded", "--void-from", "3"}, 2, "--void-from"},
		{"revoke unknown key", []string{"signatory", "revoke-key", "--registrar-key", rk, "--id", "microsoft", "--keyid", strings.Repeat("ab", 32), "--reason", "superseded"}, 2, "422 unknown-reference"},
		{"revoke unknown signatory", []string{"signatory", "revoke-key", "--registrar-key", rk, "--id", "nobody", "--keyid", strings.Repeat("ab", 32), "--reason", "superseded"}, 2, "signatory-not-found"},
		{"accord no file", []string{"accord", "add", "--registrar-key", rk}, 2, "--file"},
		{"accord invalid", []string{"accord", "add", "--registrar-key", rk, "--file", badAccord}, 2, "/predicate/id"},
		{"accord wrong registrar key", []string{"accord", "add", "--registrar-key", d.keyFile(), "--file", goodAccord}, 2, "401 unauthorized"},
		{"accord unknown field", []string{"accord", "add", "--registrar-key", rk, "--file", garbage}, 2, "unknown field"},
		{"rotate without new key", []string{"registrar", "rotate", "--registrar-key", rk}, 2, "--new-key"},
		{"bench bad batch", []string{"bench", "--batch", "1000"}, 2, "--batch"},
		{"bench raw batch", []string{"bench", "--raw", "--batch", "8"}, 2, "--raw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := pledgelog(t, env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("pledgelog %q = %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
			}
		})
	}
}

// TestBench runs a small load of each kind and checks the report.
func TestBench(t *testing.T) {
	for _, args := range [][]string{
		{"--entries", "300", "--signatories", "3"},
		{"--entries", "300", "--signatories", "3", "--batch", "16", "--rate", "200"},
		{"--entries", "300", "--raw", "--rate", "1000"},
	} {
		code, stdout, stderr := pledgelog(t, nil, append([]string{"bench", "--json", "--publish-interval", "20ms"}, args...)...)
		var rep struct { // the fields of loadgen's JSON report this test reads
			Accepted   int                `json:"accepted_entries"`
			Errors     map[string]int     `json:"errors_by_status"`
			C          float64            `json:"c_per_s"`
			PeakRSSMiB float64            `json:"peak_rss_mib"`
			Latency    map[string]float64 `json:"latency_ms"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil {
			t.Fatalf("bench %q = %d (%v): %s%s", args, code, err, stdout, stderr)
		}
		if rep.Accepted != 300 || len(rep.Errors) != 0 || rep.C <= 0 || rep.PeakRSSMiB <= 0 || rep.Latency["p99"] <= 0 {
			t.Errorf("bench %q reported %+v", args, rep)
		}
	}
}
