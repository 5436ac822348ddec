package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/pledgelog/pledgelog/attest"
)

// toolDir is where the tools are built, kept between runs.
func toolDir(t *testing.T) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "pledgelog-tests")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sigstoreVerify builds testdata/sigstoreverify (sigstore-go at the
// version its go.mod pins) once per content, and returns its path.
func sigstoreVerify(t *testing.T) string {
	t.Helper()
	src := filepath.Join("testdata", "sigstoreverify")
	h := sha256.New()
	for _, f := range []string{"main.go", "go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	exe := filepath.Join(toolDir(t), fmt.Sprintf("sigstoreverify-%x", h.Sum(nil)[:8]))
	if _, err := os.Stat(exe); err == nil {
		return exe
	}
	t.Logf("building sigstore-go's verifier into %s (the first time takes minutes)", exe)
	cmd := exec.Command("go", "build", "-o", exe+".tmp", ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", src, err, out)
	}
	if err := os.Rename(exe+".tmp", exe); err != nil {
		t.Fatal(err)
	}
	return exe
}

// verification is one bundle for sigstoreverify: the key it must verify
// with and the artifact digest its subject must name.
type verification struct{ bundle, key, digest string }

// runSigstoreVerify runs sigstore-go on vs and returns the bundles it
// verified and those it refused, with its reasons.
func runSigstoreVerify(t *testing.T, exe string, vs []verification) (ok map[string]bool, fail map[string]string) {
	t.Helper()
	var args []string
	for _, v := range vs {
		args = append(args, v.bundle, v.key, v.digest)
	}
	cmd := exec.Command(exe, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("sigstoreverify: %v\n%s%s", err, out, stderr.Bytes())
	}
	ok, fail = map[string]bool{}, map[string]string{}
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		if name, found := strings.CutPrefix(line, "ok "); found {
			ok[name] = true
		} else if rest, found := strings.CutPrefix(line, "FAIL "); found {
			name, reason, _ := strings.Cut(rest, ": ")
			fail[name] = reason
		}
	}
	if len(ok)+len(fail) != len(vs) {
		t.Fatalf("sigstoreverify answered %d of %d bundles:\n%s", len(ok)+len(fail), len(vs), out)
	}
	return ok, fail
}

// subjectDigest is the SHA-256 an envelope's statement names as subject.
func subjectDigest(t *testing.T, envelope []byte) string {
	t.Helper()
	_, env, err := attest.Canonicalize(envelope)
	if err != nil {
		t.Fatal(err)
	}
	return env.Statement.Subject[0].Digest.SHA256
}

func exportIn(t *testing.T, in, out string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"export", "--in", in, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("pledge export --in %s: %v\n%s", in, err, stderr.Bytes())
	}
}

// TestExportSigstoreGo exports pledges as Sigstore bundles and verifies
// them with sigstore-go and the signatory's public key (issue 18): those
// a signatory submits with both key types, from the proof bundle and from
// the envelope, and every single-signature entry of a demo log (138:
// genesis, accord, 136 pledges). Controls that must fail: the envelope
// with pledgelog's keyid left in (what sigstore-go refused before), a
// changed payload, another key, another artifact digest.
func TestExportSigstoreGo(t *testing.T) {
	exe := sigstoreVerify(t)
	var vs []verification

	// The signatory's path: sign, submit, export (keys of both types).
	for _, typ := range []string{"ed25519", "ecdsa-p256"} {
		e := newEnv(t)
		id := "sigstore-" + strings.TrimPrefix(typ, "ecdsa-")
		e.register(id, "--type", typ)
		e.must("pledge", "sign", "--signatory", id, "--accord", accord, "--principle", "stronger-defense",
			"--status", "committed", "--statement", "We commit.")
		e.must("pledge", "submit", "--in", "envelope.json")
		r := e.must("pledge", "export", "--out", "pledge.sigstore.json")
		if !strings.Contains(r.stdout, "wrote pledge.sigstore.json") {
			t.Errorf("export printed %q", r.stdout)
		}
		e.must("pledge", "export", "--in", "envelope.json", "--out", "envelope.sigstore.json")
		leaf, err := os.ReadFile(filepath.Join(e.dir, "envelope.json"))
		if err != nil {
			t.Fatal(err)
		}
		key, digest := filepath.Join(e.dir, "config", "key.pub.pem"), subjectDigest(t, leaf)
		for _, b := range []string{"pledge.sigstore.json", "envelope.sigstore.json"} {
			vs = append(vs, verification{filepath.Join(e.dir, b), key, digest})
		}
		checkBundleJSON(t, filepath.Join(e.dir, "pledge.sigstore.json"))
	}

	// Every single-signature entry of a demo log.
	dir := t.TempDir()
	demo, err := attest.NewDemo("localhost/export-test", []byte("export test"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{} // key id -> public key file
	privs := []ed25519.PrivateKey{demo.Registrar}
	for _, k := range demo.Keys {
		privs = append(privs, k)
	}
	for i, priv := range privs {
		pub, err := attest.MarshalPublicKey(priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		pk, err := attest.ParsePublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		keys[pk.ID()] = filepath.Join(dir, fmt.Sprintf("key%d.pub.pem", i))
		if err := os.WriteFile(keys[pk.ID()], pub, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	demoBundles := 0
	var first verification
	var firstLeaf []byte
	for i, leaf := range demo.Entries {
		env, err := attest.ParseLeaf(leaf)
		if err != nil {
			t.Fatal(err)
		}
		if len(env.Signatures) != 1 {
			continue
		}
		in, out := filepath.Join(dir, fmt.Sprintf("%d.json", i)), filepath.Join(dir, fmt.Sprintf("%d.sigstore.json", i))
		if err := os.WriteFile(in, leaf, 0o644); err != nil {
			t.Fatal(err)
		}
		exportIn(t, in, out)
		v := verification{out, keys[env.Signatures[0].KeyID], env.Statement.Subject[0].Digest.SHA256}
		if v.key == "" {
			t.Fatalf("entry %d: no demo key %s", i, env.Signatures[0].KeyID)
		}
		if demoBundles == 0 {
			first, firstLeaf = v, leaf
		}
		vs = append(vs, v)
		demoBundles++
	}
	if demoBundles != 138 {
		t.Errorf("exported %d single-signature demo entries, want 138", demoBundles)
	}

	// The controls, made from the first demo bundle (the genesis).
	controls := map[string]verification{}
	control := func(name string, edit func(b map[string]any) verification) {
		var b map[string]any
		data, err := os.ReadFile(first.bundle)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		v := edit(b)
		v.bundle = filepath.Join(dir, name+".sigstore.json")
		data, _ = json.Marshal(b)
		if err := os.WriteFile(v.bundle, data, 0o644); err != nil {
			t.Fatal(err)
		}
		controls[v.bundle] = v
		vs = append(vs, v)
	}
	sig := func(b map[string]any) map[string]any {
		return b["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
	}
	env0, _ := attest.ParseLeaf(firstLeaf)
	control("pledgelog-keyid", func(b map[string]any) verification {
		sig(b)["keyid"] = env0.Signatures[0].KeyID
		return first
	})
	// Not a control: the keyid sigstore-go derives itself (docs/formats.md).
	sshKeyID := filepath.Join(dir, "ssh-keyid.sigstore.json")
	{
		var b map[string]any
		data, _ := os.ReadFile(first.bundle)
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		spub, err := ssh.NewPublicKey(demo.Registrar.Public()) // the first is the genesis
		if err != nil {
			t.Fatal(err)
		}
		sig(b)["keyid"] = ssh.FingerprintSHA256(spub)
		data, _ = json.Marshal(b)
		if err := os.WriteFile(sshKeyID, data, 0o644); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, verification{sshKeyID, first.key, first.digest})
	}
	control("changed-payload", func(b map[string]any) verification {
		d := b["dsseEnvelope"].(map[string]any)
		p := d["payload"].(string)
		d["payload"] = p[:10] + string(p[10]^1) + p[11:]
		return first
	})
	control("other-key", func(map[string]any) verification {
		v := first
		for _, k := range keys {
			if k != first.key {
				v.key = k
				break
			}
		}
		return v
	})
	control("other-digest", func(map[string]any) verification {
		v := first
		v.digest = hex.EncodeToString(make([]byte, 32))
		return v
	})

	ok, fail := runSigstoreVerify(t, exe, vs)
	for _, v := range vs {
		_, isControl := controls[v.bundle]
		switch {
		case isControl && ok[v.bundle]:
			t.Errorf("sigstore-go verified the control %s", filepath.Base(v.bundle))
		case !isControl && !ok[v.bundle]:
			t.Errorf("sigstore-go refused %s: %s", v.bundle, fail[v.bundle])
		}
	}
	if r := fail[filepath.Join(dir, "pledgelog-keyid.sigstore.json")]; !strings.Contains(r, "could not verify envelope") {
		t.Errorf("the envelope with pledgelog's keyid failed for %q, want its signature refused", r)
	}
	t.Logf("sigstore-go verified %d bundles and refused the %d controls", len(ok), len(fail))
}

// checkBundleJSON checks the fields of the Sigstore bundle format a
// verifier reads first.
func checkBundleJSON(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey struct {
				Hint string `json:"hint"`
			} `json:"publicKey"`
		} `json:"verificationMaterial"`
		DsseEnvelope struct {
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				Keyid *string `json:"keyid"`
			} `json:"signatures"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	if b.MediaType != SigstoreMediaType || len(b.VerificationMaterial.PublicKey.Hint) != 64 ||
		b.DsseEnvelope.PayloadType != attest.PayloadType || len(b.DsseEnvelope.Signatures) != 1 || b.DsseEnvelope.Signatures[0].Keyid != nil {
		t.Errorf("%s:\n%s", file, data)
	}
}

// TestExportErrors: what export refuses, with the flag named.
func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	demo, err := attest.NewDemo("localhost/export-test", []byte("export test"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"missing", filepath.Join(dir, "nosuch.json"), "--in: "},
		{"two signatures", write("register.json", demo.Entries[2]), "one signature"},
		{"not JSON", write("junk.json", []byte("junk")), "neither a proof bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".out")
			err := run(context.Background(), []string{"export", "--in", tc.in, "--out", out}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 2 {
				t.Errorf("export = %v, want an error with %q, exit 2", err, tc.want)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("export wrote %s after an error", out)
			}
		})
	}
}
