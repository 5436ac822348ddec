package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

// TestPolicyFile checks --policy with c2sp.org/tlog-policy files: a bundle
// whose checkpoint the real witness (both key types) cosigned, verified
// under quorums that it meets and that it does not.
func TestPolicyFile(t *testing.T) {
	s := newServer(t, "policy test")
	dir := t.TempDir()
	pem, err := attest.MarshalPublicKey(s.demo.Registrar.Public())
	if err != nil {
		t.Fatal(err)
	}
	registrar := filepath.Join(dir, "registrar.pem")
	if err := os.WriteFile(registrar, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(s.submit("microsoft", s.pledge("microsoft", 1)), &m); err != nil {
		t.Fatal(err)
	}
	checkpoint := m["checkpoint"].(string)

	// Two witnesses, run by the real binary, cosign the checkpoint.
	witnessPolicy := writePolicy(t, dir, "log "+s.vkey(), "quorum none")
	var vkeys []string
	for _, typ := range []string{"ed25519", "mldsa44"} {
		key, vkey := witnessKey(t, dir, typ)
		w := startWitness(t, key, witnessPolicy, filepath.Join(dir, "state-"+typ))
		status, _, lines := w.post(t, addBody(0, nil, []byte(checkpoint)))
		if status != 200 {
			t.Fatalf("add-checkpoint = %d %q", status, lines)
		}
		checkpoint += lines
		vkeys = append(vkeys, vkey)
		w.stop()
	}
	m["checkpoint"] = checkpoint
	data, _ := json.Marshal(m)
	file := writeFile(t, "b.json", data)

	policy := func(lines ...string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "policy")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	log := "log " + s.vkey()
	both := policy("# the test log", log, "witness e "+vkeys[0], "", "witness pq "+vkeys[1]+" https://pq.example/", "group both all e pq", "quorum both")
	want(t, 0, []string{"entry 172 included", "cosigned by witness witness.example.org/ed25519+", "cosigned by witness witness.example.org/mldsa44+",
		"witness quorum met: both over 2 witnesses"}, "bundle", file, "--policy", both, "--registrar-key", registrar)
	want(t, 0, []string{"entry 3 included", "witness quorum met: none over 0 witnesses"},
		"inclusion", "--url", s.url, "--index", "3", "--policy", policy(log, "quorum none"))
	want(t, 0, []string{"entry 172 included"}, "bundle", file, "--policy", policy(log, "witness pq "+vkeys[1], "quorum pq"), "--registrar-key", s.registrarID())
	want(t, 0, []string{"audited " + origin, "witness quorum met: none over 1 witnesses"},
		"audit", "--url", s.url, "--state", t.TempDir(), "--policy", policy(log, "witness pq "+vkeys[1], "quorum none"))

	// A quorum the cosignatures do not meet.
	unmet := policy(log, "witness e "+vkeys[0], "witness x "+witnessVKey, "group g all e x", "quorum g")
	want(t, 1, []string{"quorum"}, "bundle", file, "--policy", unmet, "--registrar-key", registrar)
	// The log's published checkpoint is not cosigned.
	want(t, 1, []string{"quorum"}, "inclusion", "--url", s.url, "--index", "3", "--policy", policy(log, "witness pq "+vkeys[1], "quorum pq"))

	// Bad policies and flags: usage errors that say what is wrong.
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--policy", policy(log, "registrar "+s.registrarID(), "quorum none")}, "--registrar-key"},
		{[]string{"--policy", policy(log)}, "no quorum line"},
		{[]string{"--policy", policy("quorum none")}, "no log line"},
		{[]string{"--policy", policy(log, "log "+witnessLogVKey(t), "quorum none")}, "2 origins"},
		{[]string{"--policy", both, "--log-key", s.vkey()}, "--policy replaces"},
		{[]string{"--policy", both, "--quorum", "1"}, "--policy replaces"},
		{[]string{"--log-key", s.vkey(), "--witness", vkeys[1], "--quorum", "2"}, "quorum 2 with 1 witnesses"},
	} {
		want(t, 2, []string{tc.msg}, append([]string{"bundle", file, "--registrar-key", registrar}, tc.args...)...)
	}
}

// witnessLogVKey returns the vkey of a log other than the test server's.
func witnessLogVKey(t *testing.T) string {
	return newTestLog("log.example.org/other", 77).vkey
}
