package client

import (
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

// TestLoadKeyFile checks the one key-file loader: a key it loads, and
// errors that name the flag, the file and what is wrong.
func TestLoadKeyFile(t *testing.T) {
	dir := t.TempDir()
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pem, _ := attest.MarshalPrivateKey(priv)
	good, bad, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "bad.pem"), filepath.Join(dir, "k.pub.pem")
	pubPEM, _ := attest.MarshalPublicKey(priv.Public())
	os.WriteFile(good, pem, 0o600)
	os.WriteFile(bad, []byte("not a key"), 0o600)
	os.WriteFile(pub, pubPEM, 0o600)
	k, err := LoadKeyFile("--key", good)
	if want, _ := attest.NewPublicKey(priv.Public()); err != nil || k.ID() != want.ID() {
		t.Fatalf("LoadKeyFile = %v, %v; want key %s", k, err, want.ID())
	}
	missing := filepath.Join(dir, "none.pem")
	if _, err := LoadKeyFile("--key", missing); !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "--key: open "+missing+":") {
		t.Errorf("missing file: %v", err)
	}
	for _, name := range []string{bad, pub} {
		if _, err := LoadKeyFile("--new-key", name); err == nil || !strings.HasPrefix(err.Error(), "--new-key "+name+": parse private key") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
