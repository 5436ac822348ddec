package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/internal/durable"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// dataDir is a pledgelog data directory:
//
//	origin        the log's origin, one line
//	log-key.pem   the log's Ed25519 private key, PKCS#8 PEM, mode 0600
//	admin-token   the bearer token of /admin/backup, mode 0600
//	db/           the Pebble store
//	storage       "postgres" if the log is on PostgreSQL (then no db/), and
//	               the DSN file init was given, if any (see pg.go)
//	serve.url     the URL of the running server (written by serve)
//	registrar-jti the ids of used registrar tokens, until they expire
//	demo-registrar-key.pem  the demo's registrar key (init --demo only)
//	log-key-new.pem  a new log key, during a key rotation (pledgelog key)
//	cosigned-checkpoint  the last checkpoint a quorum of witnesses cosigned
//	               (serve --policy)
//	demo-witnesses/  the demo's three witnesses and its policy (pledgelog
//	               demo; see demo.go)
type dataDir string

func (d dataDir) path(name string) string { return filepath.Join(string(d), name) }
func (d dataDir) originFile() string      { return d.path("origin") }
func (d dataDir) keyFile() string         { return d.path("log-key.pem") }
func (d dataDir) tokenFile() string       { return d.path("admin-token") }
func (d dataDir) db() string              { return d.path("db") }
func (d dataDir) urlFile() string         { return d.path("serve.url") }
func (d dataDir) jtiFile() string         { return d.path("registrar-jti") }
func (d dataDir) demoKeyFile() string     { return d.path("demo-registrar-key.pem") }
func (d dataDir) newKeyFile() string      { return d.path("log-key-new.pem") }
func (d dataDir) cosignedFile() string    { return d.path("cosigned-checkpoint") }

// checkOrigin checks that origin can name a log and its key: not empty, no
// white space or '+', and no URL scheme or trailing slash.
func checkOrigin(origin string) error {
	switch {
	case origin == "":
		return errors.New("--origin is required, e.g. --origin log.example.org/pledges")
	case !utf8.ValidString(origin):
		return fmt.Errorf("--origin %q: must be UTF-8", origin)
	case strings.ContainsFunc(origin, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return fmt.Errorf("--origin %q: must not contain white space or control characters", origin)
	case strings.Contains(origin, "+"):
		return fmt.Errorf("--origin %q: must not contain '+'", origin)
	case strings.Contains(origin, "://"):
		return fmt.Errorf("--origin %q: must not have a scheme: drop %q", origin, origin[:strings.Index(origin, "://")+3])
	case strings.HasSuffix(origin, "/"):
		return fmt.Errorf("--origin %q: must not end with '/'", origin)
	}
	return nil
}

// readOrigin reads the origin of the log in d, failing with a message that
// says what to do if d is not a data directory.
func (d dataDir) readOrigin() (string, error) {
	info, err := os.Stat(string(d))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("--data %s: no such directory (create a log with: pledgelog init --data %s --origin ORIGIN)", d, d)
	case err != nil:
		return "", fmt.Errorf("--data %s: %w", d, err)
	case !info.IsDir():
		return "", fmt.Errorf("--data %s: not a directory", d)
	}
	b, err := os.ReadFile(d.originFile())
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("--data %s: not a pledgelog data directory (no %s)", d, d.originFile())
	} else if err != nil {
		return "", fmt.Errorf("reading the origin: %w", err)
	}
	origin := strings.TrimSuffix(string(b), "\n")
	if err := checkOrigin(origin); err != nil {
		return "", fmt.Errorf("%s: %w", d.originFile(), err)
	}
	return origin, nil
}

// writeSecret writes a new file readable by its owner only, durably.
func writeSecret(path string, data []byte) error { return durable.CreateFile(path, data, 0o600) }

// newKey generates an Ed25519 log key into path as PKCS#8 PEM.
func newKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	pemBytes, err := cryptoutils.MarshalPrivateKeyToPEM(priv)
	if err != nil {
		return err
	}
	return writeSecret(path, pemBytes)
}

// private fails unless path (a secret, or the data directory) is
// accessible to its owner only, with an error that says the chmod to run:
// 600 for a file, 700 for a directory.
func private(what, path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	perm, mode := info.Mode().Perm(), "600"
	if info.IsDir() {
		mode = "700"
	}
	if perm&0o077 != 0 {
		return fmt.Errorf("%s %s is accessible to others (mode %04o): run chmod %s %s", what, path, perm, mode, path)
	}
	return nil
}

// loadKey loads the log key of d as a sigstore signer, refusing a key file
// or a data directory that others can access.
func (d dataDir) loadKey() (signature.Signer, error) {
	if err := private("data directory", string(d)); err != nil {
		return nil, err
	}
	return loadKeyFile(d.keyFile())
}

// loadNewKey loads the new log key of a key rotation, or returns nil if
// there is none.
func (d dataDir) loadNewKey() (signature.Signer, error) {
	if _, err := os.Stat(d.newKeyFile()); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return loadKeyFile(d.newKeyFile())
}

// loadKeyFile loads a log key file, refusing one that others can read.
func loadKeyFile(path string) (signature.Signer, error) {
	if err := private("log key", path); err != nil {
		return nil, err
	}
	k, err := client.LoadKeyFile("log key", path)
	if err != nil {
		return nil, err
	}
	return k.Signer, nil
}

// adminToken returns the admin token of d, creating it if there is none
// (a restored data directory has none), and refusing one that others can
// read.
func (d dataDir) adminToken() ([]byte, error) {
	token, err := os.ReadFile(d.tokenFile())
	if errors.Is(err, fs.ErrNotExist) {
		token = []byte(rand.Text())
		err = writeSecret(d.tokenFile(), append(token, '\n'))
	} else if err == nil {
		err = private("admin token", d.tokenFile())
	}
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	if token = bytes.TrimSpace(token); len(token) == 0 {
		return nil, fmt.Errorf("admin token %s is empty: remove it, and serve makes a new one", d.tokenFile())
	}
	return token, nil
}
