package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

// CosignVersion is the cosign the interop test runs; `make interop`
// builds it from the Go module proxy.
const CosignVersion = "v2.6.5"

// cosign returns the path of cosign: $PLEDGELOG_COSIGN, or the one
// `make interop` builds into bin/interop. Building cosign takes minutes
// (hundreds of packages), too long for every `make test`; without it the
// test skips and says how to run it.
func cosign(t *testing.T) string {
	t.Helper()
	exe := os.Getenv("PLEDGELOG_COSIGN")
	if exe == "" {
		exe = filepath.Join("..", "..", "bin", "interop", "cosign-"+CosignVersion)
	}
	if _, err := os.Stat(exe); err != nil {
		t.Skipf("cosign %s is not built (%v): `make interop` builds it, minutes the first time, and runs this test", CosignVersion, err)
	}
	abs, err := filepath.Abs(exe)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestExportCosign verifies exported pledges with cosign itself, through
// both of its paths for an attestation signed by a key: the Sigstore
// bundle that `pledge export` writes (--bundle --new-bundle-format) and
// the stored DSSE envelope (--signature), each with the signatory's
// public key, the pledge's predicate type and the subject digest instead
// of the artifact. No transparency log of Sigstore's is involved
// (--insecure-ignore-tlog: the pledge's log is pledgelog's own, which
// `pledge verify` checks). Controls that must fail: another key, a
// changed payload, another digest, another predicate type.
func TestExportCosign(t *testing.T) {
	exe := cosign(t)
	for _, typ := range []string{"ecdsa-p256", "ed25519"} {
		t.Run(typ, func(t *testing.T) {
			e := newEnv(t)
			id := "cosign-" + strings.TrimPrefix(typ, "ecdsa-")
			e.register(id, "--type", typ)
			e.must("pledge", "sign", "--signatory", id, "--accord", accord, "--principle", "stronger-defense",
				"--status", "committed", "--statement", "We commit.")
			e.must("pledge", "submit", "--in", "envelope.json")
			e.must("pledge", "export", "--out", "pledge.sigstore.json")
			leaf, err := os.ReadFile(filepath.Join(e.dir, "envelope.json"))
			if err != nil {
				t.Fatal(err)
			}
			key, digest := filepath.Join(e.dir, "config", "key.pub.pem"), subjectDigest(t, leaf)

			// Another key, of the same type, for the control.
			other := newEnv(t)
			other.must("pledge", "keygen", "--type", typ)
			otherKey := filepath.Join(other.dir, "config", "key.pub.pem")

			// A changed payload: one byte of the statement's base64.
			changed := filepath.Join(e.dir, "changed.sigstore.json")
			b, err := os.ReadFile(filepath.Join(e.dir, "pledge.sigstore.json"))
			if err != nil {
				t.Fatal(err)
			}
			var sb map[string]any
			if err := json.Unmarshal(b, &sb); err != nil {
				t.Fatal(err)
			}
			d := sb["dsseEnvelope"].(map[string]any)
			stmt, err := base64.StdEncoding.DecodeString(d["payload"].(string))
			if err != nil {
				t.Fatal(err)
			}
			d["payload"] = base64.StdEncoding.EncodeToString(bytes.Replace(stmt, []byte("We commit."), []byte("We commit!"), 1))
			if b, err = json.Marshal(sb); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(changed, b, 0o644); err != nil {
				t.Fatal(err)
			}

			emptyRoot := filepath.Join(e.dir, "trusted_root.json")
			if err := os.WriteFile(emptyRoot, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			verify := func(path, key, digest, typ string) (bool, string) {
				args := []string{"verify-blob-attestation", "--key", key, "--type", typ,
					"--digest", digest, "--digestAlg", "sha256", "--insecure-ignore-tlog=true"}
				if strings.HasSuffix(path, ".sigstore.json") {
					// The bundle path wants a trusted root; the key is all
					// the trust there is, so it is an empty one.
					args = append(args, "--bundle", path, "--new-bundle-format", "--trusted-root", emptyRoot)
				} else {
					args = append(args, "--signature", path)
				}
				cmd := exec.Command(exe, args...)
				cmd.Dir = e.dir
				// cosign must not reach for Sigstore's public services:
				// everything it needs is on the command line.
				cmd.Env = append(os.Environ(), "HOME="+e.dir, "TUF_ROOT="+filepath.Join(e.dir, "tuf"),
					"SIGSTORE_NO_CACHE=true")
				out, err := cmd.CombinedOutput()
				return err == nil, string(out)
			}
			bundle, envelope := filepath.Join(e.dir, "pledge.sigstore.json"), filepath.Join(e.dir, "envelope.json")
			for _, path := range []string{bundle, envelope} {
				if ok, out := verify(path, key, digest, attest.PledgeType); !ok {
					t.Errorf("cosign refused %s:\n%s", filepath.Base(path), out)
				}
			}
			const badSig = "accepted signatures do not match threshold"
			for name, c := range map[string]struct{ path, key, digest, typ, why string }{
				"another key":            {bundle, otherKey, digest, attest.PledgeType, badSig},
				"another key, envelope":  {envelope, otherKey, digest, attest.PledgeType, badSig},
				"a changed payload":      {changed, key, digest, attest.PledgeType, badSig},
				"another digest":         {bundle, key, strings.Repeat("0", 64), attest.PledgeType, "digest does not match"},
				"another predicate type": {bundle, key, digest, attest.AccordType, "invalid predicate type"},
			} {
				ok, out := verify(c.path, c.key, c.digest, c.typ)
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if ok || !strings.Contains(out, c.why) {
					t.Errorf("cosign on the control %s: verified %v, want refused for %q:\n%s", name, ok, c.why, out)
				} else {
					t.Logf("cosign refused the control %s: %s", name, lines[len(lines)-1])
				}
			}
		})
	}
}
