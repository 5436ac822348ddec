package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pledgelog/pledgelog/internal/durable"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// runKeygen makes a key pair: the private key (PKCS #8 PEM, mode 0600) and
// its public key next to it (.pub.pem), and prints the key id.
func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var typ, out string
	fl := newFlags("keygen", "[--type ed25519|ecdsa-p256] [--out FILE]", stderr)
	c.register(fl)
	fl.StringVar(&typ, "type", string(attest.Ed25519), "the key type: ed25519 or ecdsa-p256")
	fl.StringVar(&out, "out", "", "the private key file (default key.pem in --config-dir); the public key goes to FILE without .pem plus .pub.pem")
	if err := parse(fl, args); err != nil {
		return err
	}
	if typ != string(attest.Ed25519) && typ != string(attest.ECDSAP256) {
		return usagef("--type %q: want ed25519 or ecdsa-p256", typ)
	}
	out = c.keyFile(out)
	id, err := keygen(attest.KeyType(typ), out)
	if err != nil {
		return err
	}
	return c.print(stdout, map[string]string{"keyid": id, "type": typ, "private": out, "public": pubFile(out)},
		fmt.Sprintf("keyid: %s\nprivate key: %s (keep it secret)\npublic key: %s\n", id, out, pubFile(out)))
}

// pubFile is the public key file of a private key file.
func pubFile(priv string) string { return strings.TrimSuffix(priv, ".pem") + ".pub.pem" }

func keygen(t attest.KeyType, out string) (string, error) {
	priv, err := attest.GenerateKey(t)
	if err != nil {
		return "", err
	}
	privPEM, err := attest.MarshalPrivateKey(priv)
	if err != nil {
		return "", err
	}
	pubPEM, err := attest.MarshalPublicKey(priv.Public())
	if err != nil {
		return "", err
	}
	pk, err := attest.ParsePublicKey(pubPEM)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return "", err
	}
	if err := writeNew(out, privPEM, 0o600); err != nil {
		return "", err
	}
	return pk.ID(), writeNew(pubFile(out), pubPEM, 0o644)
}

// writeNew writes a file that must not exist yet, durably.
func writeNew(name string, data []byte, perm os.FileMode) error {
	err := durable.CreateFile(name, data, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: refusing to overwrite it", name)
	}
	return err
}

// loadKey reads a private key file (--key or --new-key).
func loadKey(name string) (*client.Key, error) {
	k, err := client.LoadKeyFile("--key", name)
	if errors.As(err, new(*fs.PathError)) {
		err = fmt.Errorf("%w (make one with: pledge keygen)", err)
	}
	return k, err
}
