// Command sigstoreverify verifies Sigstore bundles with sigstore-go, as a
// Sigstore user would verify a bundle signed with a long-lived key: no
// transparency log, no timestamps, the public key given. The tests of
// cmd/pledge build it (this directory is its own module, so the
// project's go.mod does not take sigstore-go in) and run it on bundles
// that pledge export wrote.
//
// Usage: sigstoreverify BUNDLE KEY.pem SHA256HEX [BUNDLE KEY.pem SHA256HEX]...
//
// For each triple it prints "ok BUNDLE" or "FAIL BUNDLE: reason"; the
// SHA-256 is the artifact digest the statement's subject must name. It
// exits 1 if any fails, 2 on bad usage.
package main

import (
	"crypto"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 || len(args)%3 != 0 {
		fmt.Fprintln(os.Stderr, "usage: sigstoreverify BUNDLE KEY.pem SHA256HEX...")
		os.Exit(2)
	}
	failed := false
	for ; len(args) > 0; args = args[3:] {
		if err := check(args[0], args[1], args[2]); err != nil {
			fmt.Printf("FAIL %s: %v\n", args[0], err)
			failed = true
		} else {
			fmt.Printf("ok %s\n", args[0])
		}
	}
	if failed {
		os.Exit(1)
	}
}

func check(bundlePath, keyPath, digestHex string) error {
	b, err := bundle.LoadJSONFromPath(bundlePath)
	if err != nil {
		return err
	}
	pemBytes, err := os.ReadFile(keyPath)
	if err != nil {
		return err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return err
	}
	sv, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return err
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		return err
	}
	digest, err := hex.DecodeString(digestHex)
	if err != nil {
		return err
	}
	_, err = v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", digest), verify.WithKey()))
	return err
}
