package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// TestRegistrarKey checks that init prints the registrar key's id and
// registrar key exports the key that --registrar-key-out holds: as PEM,
// and with --id as its key id, from the store of a stopped log and from
// the server of a running one.
func TestRegistrarKey(t *testing.T) {
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	keyOut := filepath.Join(t.TempDir(), "registrar-key.pem")
	code, stdout, stderr := pledgelog(t, nil, "init", "--data", string(d), "--origin", "example.com/registrar-key", "--registrar-key-out", keyOut)
	if code != 0 {
		t.Fatalf("init = %d: %s", code, stderr)
	}
	k, err := client.LoadKeyFile("key", keyOut)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.Signer.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	wantPEM, err := attest.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\nregistrar key: " + k.ID() + " "; !strings.Contains(stdout, want) {
		t.Errorf("init printed %q, want a line %q…", stdout, want)
	}
	check := func(when string) {
		t.Helper()
		if code, stdout, stderr := pledgelog(t, nil, "registrar", "key", "--data", string(d)); code != 0 || stdout != string(wantPEM) {
			t.Errorf("%s: registrar key = %d, %q, want %q: %s", when, code, stdout, wantPEM, stderr)
		}
		if code, stdout, stderr := pledgelog(t, nil, "registrar", "key", "--id", "--data", string(d)); code != 0 || stdout != k.ID()+"\n" {
			t.Errorf("%s: registrar key --id = %d, %q, want %s: %s", when, code, stdout, k.ID(), stderr)
		}
	}
	check("stopped")
	startServe(t, d)
	check("served")

	if err := os.WriteFile(d.originFile(), []byte("example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := pledgelog(t, nil, "registrar", "key", "--data", string(d)); code != 2 || !strings.Contains(stderr, `not of this log's origin "example.com/other"`) {
		t.Errorf("registrar key of a served genesis of another origin = %d: %s", code, stderr)
	}
}
