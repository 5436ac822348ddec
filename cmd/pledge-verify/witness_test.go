package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pledgelog/pledgelog/verify"
)

// testTree is a Merkle tree computed with golang.org/x/mod/sumdb/tlog, an
// implementation independent of ours, for the witness's tests.
type testTree struct {
	hashes []tlog.Hash
	n      int64
}

func newTestTree(t testing.TB, prefix string, n int) *testTree {
	t.Helper()
	tr := &testTree{}
	for i := range n {
		data := []byte(fmt.Sprintf("%s entry %d", prefix, i))
		if i < 2 {
			data = []byte(fmt.Sprintf("shared entry %d", i)) // every tree shares its first two entries
		}
		hs, err := tlog.StoredHashes(tr.n, data, tr)
		if err != nil {
			t.Fatal(err)
		}
		tr.hashes = append(tr.hashes, hs...)
		tr.n++
	}
	return tr
}

func (tr *testTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = tr.hashes[x]
	}
	return out, nil
}

func (tr *testTree) root(t testing.TB, n int64) verify.Hash {
	t.Helper()
	if n == 0 {
		return verify.EmptyRoot
	}
	h, err := tlog.TreeHash(n, tr)
	if err != nil {
		t.Fatal(err)
	}
	return verify.Hash(h)
}

// proof returns the consistency proof from size old to size n.
func (tr *testTree) proof(t testing.TB, old, n int64) []verify.Hash {
	t.Helper()
	if old == 0 || old == n {
		return nil
	}
	p, err := tlog.ProveTree(n, old, tr)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]verify.Hash, len(p))
	for i, h := range p {
		out[i] = verify.Hash(h)
	}
	return out
}

// testLog signs checkpoints of trees under one origin.
type testLog struct {
	origin string
	signer verify.Signer
	vkey   string
}

func newTestLog(origin string, seed byte) *testLog {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	return &testLog{origin: origin, signer: verify.NewEd25519Signer(origin, k),
		vkey: verify.Ed25519VerifierKey(origin, k.Public().(ed25519.PublicKey))}
}

func (l *testLog) checkpoint(t testing.TB, size int64, root verify.Hash) []byte {
	t.Helper()
	msg, err := verify.Sign(verify.Checkpoint{Origin: l.origin, Size: uint64(size), Root: root}.Text(), l.signer)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// addBody returns an add-checkpoint request body.
func addBody(old int64, proof []verify.Hash, checkpoint []byte) []byte {
	b := fmt.Appendf(nil, "old %d\n", old)
	for _, h := range proof {
		b = append(b, h.String()+"\n"...)
	}
	return append(append(b, '\n'), checkpoint...)
}

// witnessProc is a witness run by the real binary.
type witnessProc struct {
	cmd *exec.Cmd
	url string
}

// startWitness runs pledge-verify witness serve and waits until it serves.
func startWitness(t testing.TB, key, policy, state string, extra ...string) *witnessProc {
	t.Helper()
	args := append([]string{"witness", "serve", "--key", key, "--policy", policy, "--state", state, "--listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(binary, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "witnessing at ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("witness serve printed %q, %v; stderr:\n%s", line, err, stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	return &witnessProc{cmd: cmd, url: strings.TrimSuffix(url, "/")}
}

func (w *witnessProc) stop() {
	w.cmd.Process.Kill()
	w.cmd.Wait()
}

// post sends an add-checkpoint body and returns the status, Content-Type
// and body of the answer.
func (w *witnessProc) post(t testing.TB, body []byte) (int, string, string) {
	t.Helper()
	resp, err := http.Post(w.url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func (w *witnessProc) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(w.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func monitoringPath(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return "/" + hex.EncodeToString(h[:]) + "/checkpoint"
}

// witnessKey runs witness keygen and returns the key file and the vkey.
func witnessKey(t testing.TB, dir, typ string) (string, string) {
	t.Helper()
	file := filepath.Join(dir, "witness-"+typ+".key")
	code, stdout, stderr := pv(t.(*testing.T), "witness", "keygen", "--name", "witness.example.org/"+typ, "--type", typ, "--out", file)
	if code != 0 {
		t.Fatalf("witness keygen = %d: %s", code, stderr)
	}
	return file, strings.TrimSpace(stdout)
}

func writePolicy(t testing.TB, dir string, lines ...string) string {
	t.Helper()
	file := filepath.Join(dir, "policy")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestWitnessKeygen checks the key file and the verifier key printed.
func TestWitnessKeygen(t *testing.T) {
	dir := t.TempDir()
	for _, typ := range []string{"ed25519", "mldsa44"} {
		file, vkey := witnessKey(t, dir, typ)
		v, err := verify.NewVerifier(vkey)
		if err != nil || v.Name() != "witness.example.org/"+typ {
			t.Errorf("keygen --type %s printed %q: %v", typ, vkey, err)
		}
		if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("key file %s: %v, %v, want mode 0600", file, fi.Mode(), err)
		}
		want(t, 2, []string{"exists"}, "witness", "keygen", "--name", "w.example", "--type", typ, "--out", file)
	}
	want(t, 2, []string{"--type"}, "witness", "keygen", "--name", "w.example", "--type", "rsa", "--out", filepath.Join(dir, "x"))
	want(t, 2, []string{"--name"}, "witness", "keygen", "--name", "bad name", "--out", filepath.Join(dir, "y"))
	want(t, 2, []string{"required"}, "witness", "serve", "--key", filepath.Join(dir, "witness-ed25519.key"))
	// A second witness on one state refuses to start.
	lg := newTestLog("log.example.org/a", 1)
	key, policy, state := filepath.Join(dir, "witness-ed25519.key"), writePolicy(t, dir, "log "+lg.vkey, "quorum none"), filepath.Join(dir, "state")
	startWitness(t, key, policy, state)
	want(t, 2, []string{"another witness is running on this state"}, "witness", "serve", "--key", key, "--policy", policy, "--state", state, "--listen", "127.0.0.1:0")
}
