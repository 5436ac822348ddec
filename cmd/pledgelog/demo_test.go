package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
)

// TestDemo builds the demo log with the real binary, serves it, and checks
// that reindex reproduces its derived rows byte for byte.
func TestDemo(t *testing.T) {
	d := dataDir(filepath.Join(t.TempDir(), "demo"))
	code, stdout, stderr := pledgelog(t, nil, "init", "--demo", "--demo-seed", "cmd test", "--data", string(d), "--origin", "example.com/demo")
	if code != 0 || !strings.Contains(stdout, "172 entries") {
		t.Fatalf("init --demo = %d: %s%s", code, stdout, stderr)
	}
	if info, err := os.Stat(d.demoKeyFile()); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("demo registrar key: %v", err)
	}
	s := startServe(t, d)
	var sig struct {
		Latest []attest.LatestPledge `json:"latest"`
	}
	resp, err := http.Get(s.url + "/api/v1/signatories/microsoft")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&sig)
	resp.Body.Close()
	if len(sig.Latest) != 4 {
		t.Errorf("microsoft has %d latest pledges, want 4", len(sig.Latest))
	}
	if !strings.Contains(s.stderr.String(), "registry loaded") {
		t.Errorf("serve did not say how long loading the registry took: %s", s.stderr.String())
	}
	s.stop(t)

	before := rowsOf(t, d)
	code, stdout, stderr = pledgelog(t, nil, "reindex", "--data", string(d))
	if code != 0 || !strings.Contains(stdout, "reindexed 172 entries") || !strings.Contains(stderr, "172/172") {
		t.Fatalf("reindex = %d: %s%s", code, stdout, stderr)
	}
	if after := rowsOf(t, d); strings.Join(after, "\n") != strings.Join(before, "\n") || len(after) < 172 {
		t.Errorf("reindex changed the derived rows: %d rows before, %d after", len(before), len(after))
	}
}

// rowsOf reads every derived row of the stopped log in d: the table, the
// key in hex and the value.
func rowsOf(t *testing.T, d dataDir) []string {
	t.Helper()
	l, st, err := openLog(context.Background(), d, d.db(), log.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []string
	for _, table := range attestlog.DerivedTables {
		rows, err := l.Rows(context.Background(), table, nil, nil, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out = append(out, table+" "+hex.EncodeToString(r.Key)+" "+string(r.Value))
		}
	}
	return out
}

func TestInitGenesis(t *testing.T) {
	dir := t.TempDir()
	d := dataDir(filepath.Join(dir, "data"))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no mode", nil, "give one of"},
		{"two modes", []string{"--demo", "--registrar-key-out", filepath.Join(dir, "k.pem")}, "give one of"},
		{"pub without genesis", []string{"--registrar-pub", filepath.Join(dir, "k.pub")}, "give one of"},
		{"key inside the data dir", []string{"--registrar-key-out", filepath.Join(string(d), "k.pem")}, "outside the data directory"},
	} {
		code, _, stderr := pledgelog(t, nil, append([]string{"init", "--data", string(d), "--origin", "example.com/g"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("init, %s = %d: %s; want 2 and %q", tc.name, code, stderr, tc.want)
		}
	}
	keyOut := filepath.Join(dir, "registrar.pem")
	code, stdout, stderr := pledgelog(t, nil, "init", "--data", string(d), "--origin", "example.com/g", "--registrar-key-out", keyOut)
	if code != 0 || !strings.Contains(stdout, keyOut) {
		t.Fatalf("init --registrar-key-out = %d: %s%s", code, stdout, stderr)
	}
	if info, err := os.Stat(keyOut); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("registrar key: %v", err)
	}
	l, st, err := openLog(context.Background(), d, d.db(), log.Config{})
	if err != nil {
		t.Fatal(err)
	}
	genesis, err := l.Entry(context.Background(), 0)
	st.Close()
	if err != nil || l.Latest().Size != 1 {
		t.Fatalf("log size %d, entry 0: %v", l.Latest().Size, err)
	}
	pemBytes, _ := os.ReadFile(keyOut)
	priv, err := attest.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := attest.MarshalPublicKey(priv.Public())
	os.WriteFile(filepath.Join(dir, "registrar.pub"), pubPEM, 0o644)
	os.WriteFile(filepath.Join(dir, "genesis.json"), genesis, 0o644)
	d2 := filepath.Join(dir, "data2")
	code, stdout, stderr = pledgelog(t, nil, "init", "--data", d2, "--origin", "example.com/g",
		"--registrar-pub", filepath.Join(dir, "registrar.pub"), "--genesis", filepath.Join(dir, "genesis.json"))
	if code != 0 || !strings.Contains(stdout, "logged the genesis") {
		t.Fatalf("init --registrar-pub --genesis = %d: %s%s", code, stdout, stderr)
	}
	code, _, stderr = pledgelog(t, nil, "init", "--data", filepath.Join(dir, "data3"), "--origin", "example.com/other",
		"--registrar-pub", filepath.Join(dir, "registrar.pub"), "--genesis", filepath.Join(dir, "genesis.json"))
	if code != 2 || !strings.Contains(stderr, "for origin") {
		t.Errorf("init with another origin's genesis = %d: %s", code, stderr)
	}
}
