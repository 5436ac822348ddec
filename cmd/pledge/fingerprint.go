package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// runFingerprint prints what to compare out of band: with --key, the key
// id of a signatory key file (private or public PEM), as the signatory
// pages show it; else the fingerprint of the log's verifier key
// (--log-key, or the one --url serves), as the log's pages show it ("Its
// fingerprint" on /verify, the pinned-key banner).
func runFingerprint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var key, vkey string
	fl := newFlags("fingerprint", "[--key FILE | --log-key VKEY]", stderr)
	c.register(fl)
	fl.StringVar(&key, "key", "", "a key file (private or public PEM): print its key id")
	fl.StringVar(&vkey, "log-key", "", "the log's verifier key to print the fingerprint of (default: the one --url serves)")
	if err := parse(fl, args); err != nil {
		return err
	}
	if key != "" {
		if vkey != "" {
			return usagef("give --key or --log-key, not both")
		}
		return printKeyID(&c, key, stdout)
	}
	if vkey == "" {
		info, err := client.New(c.url).Log(ctx)
		if err != nil {
			return fmt.Errorf("--url: %w", err)
		}
		vkey = info.VerifierKey
		fmt.Fprintf(stderr, "pledge: the key %s serves (compare the fingerprint with one you got elsewhere)\n", c.url)
	} else if err := checkLogKey(vkey); err != nil {
		return err
	}
	fp := vkeyFingerprint(vkey)
	return c.print(stdout, map[string]string{"vkey": vkey, "fingerprint": fp}, fmt.Sprintf("%s\nfingerprint: %s\n", vkey, fp))
}

// printKeyID prints the key id of a key file.
func printKeyID(c *common, name string, stdout io.Writer) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	pk, err := attest.ParsePublicKey(b)
	if err != nil {
		k, kerr := client.LoadKey(b)
		if kerr != nil {
			return fmt.Errorf("--key %s: neither a public key (%v) nor a private key (%w)", name, err, kerr)
		}
		pk = k.Public
	}
	return c.print(stdout, map[string]string{"keyid": pk.ID(), "type": string(pk.Type)}, fmt.Sprintf("keyid: %s (%s)\n", pk.ID(), pk.Type))
}

// vkeyFingerprint is what the log's pages show of a verifier key: the
// first 16 bytes of the SHA-256 of its text, in hex groups of four (web's
// fingerprint, static/note.js's).
func vkeyFingerprint(vkey string) string {
	sum := sha256.Sum256([]byte(vkey))
	h := hex.EncodeToString(sum[:16])
	var groups []string
	for i := 0; i < len(h); i += 4 {
		groups = append(groups, h[i:i+4])
	}
	return strings.Join(groups, " ")
}
