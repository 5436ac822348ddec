package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
)

const (
	witnessOrigin = "example.com/witnessed"
	witnessSeed   = "witness test"
)

// witnessProc is a real pledge-verify witness serve process.
type witnessProc struct {
	t                        *testing.T
	key, policy, state, addr string
	vkey                     string
	cmd                      *exec.Cmd
}

// newWitness makes a key of type typ (ed25519 or mldsa44) for a witness
// of the log with key logVKey, and starts it.
func newWitness(t *testing.T, i int, typ, logVKey string) *witnessProc {
	dir := t.TempDir()
	w := &witnessProc{t: t, key: filepath.Join(dir, "key"), policy: filepath.Join(dir, "policy"), state: filepath.Join(dir, "state"), addr: "127.0.0.1:0"}
	out, err := exec.Command(verifyBinary, "witness", "keygen", "--name", fmt.Sprintf("witness.example/w%d", i), "--type", typ, "--out", w.key).Output()
	if err != nil {
		t.Fatalf("witness keygen: %v", err)
	}
	w.vkey = strings.TrimSpace(string(out))
	if err := os.WriteFile(w.policy, []byte("log "+logVKey+"\nquorum none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.start()
	t.Cleanup(w.kill)
	return w
}

// start starts the witness on w.addr (the same address after a kill).
func (w *witnessProc) start() {
	w.t.Helper()
	w.cmd = exec.Command(verifyBinary, "witness", "serve", "--key", w.key, "--policy", w.policy, "--state", w.state,
		"--listen", w.addr, "--rate", "10000", "--burst", "10000")
	w.cmd.Stderr = io.Discard
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, url, ok := strings.Cut(strings.TrimSpace(line), "witnessing at http://")
	if err != nil || !ok {
		w.t.Fatalf("witness serve printed %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	w.addr = strings.TrimSuffix(url, "/")
}

// kill SIGKILLs the witness.
func (w *witnessProc) kill() {
	if w.cmd != nil {
		w.cmd.Process.Kill()
		w.cmd.Wait()
		w.cmd = nil
	}
}

// stored returns the checkpoint the witness holds for the log.
func (w *witnessProc) stored() []byte {
	sum := sha256.Sum256([]byte(witnessOrigin))
	resp, err := http.Get("http://" + w.addr + "/" + hex.EncodeToString(sum[:]) + "/checkpoint")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// witnessedLog is a demo log with three witnesses and a policy of two.
type witnessedLog struct {
	t      *testing.T
	d      dataDir
	vkey   string
	ws     []*witnessProc
	policy string
	pol    *policy.Policy
	demo   *attest.Demo
	n      int
}

func newWitnessedLog(t *testing.T) *witnessedLog {
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	code, stdout, stderr := pledgelog(t, nil, "init", "--demo", "--demo-seed", witnessSeed, "--data", string(d), "--origin", witnessOrigin)
	if code != 0 {
		t.Fatalf("init = %d: %s", code, stderr)
	}
	_, vkey, _ := strings.Cut(stdout, "vkey: ")
	wl := &witnessedLog{t: t, d: d, vkey: strings.TrimSpace(strings.SplitN(vkey, "\n", 2)[0])}
	text := "log " + wl.vkey + "\n"
	for i, typ := range []string{"ed25519", "ed25519", "mldsa44"} {
		w := newWitness(t, i+1, typ, wl.vkey)
		wl.ws = append(wl.ws, w)
		text += fmt.Sprintf("witness w%d %s http://%s\n", i+1, w.vkey, w.addr)
	}
	text += "group two-of-three 2 w1 w2 w3\nquorum two-of-three\n"
	wl.policy = filepath.Join(t.TempDir(), "policy")
	if err := os.WriteFile(wl.policy, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if wl.pol, err = policy.Parse([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if wl.demo, err = attest.NewDemo(witnessOrigin, []byte(witnessSeed)); err != nil {
		t.Fatal(err)
	}
	return wl
}

func (wl *witnessedLog) serve(d dataDir) *server {
	return startServe(wl.t, d, "--policy", wl.policy, "--max-staleness", "1s")
}

// submit logs a new pledge through the API and returns its index and
// leaf; it never waits for witnesses.
func (wl *witnessedLog) submit(url string) (uint64, []byte) {
	wl.t.Helper()
	i, leaf, _ := wl.submitBundle(url)
	return i, leaf
}

// submitBundle is submit, and returns the proof bundle too.
func (wl *witnessedLog) submitBundle(url string) (uint64, []byte, []byte) {
	wl.t.Helper()
	ctx := context.Background()
	c := client.New(url)
	info, err := c.Log(ctx)
	if err != nil {
		wl.t.Fatal(err)
	}
	a, err := c.Accord(ctx, "cybersecurity-tech-accord-2018")
	if err != nil {
		wl.t.Fatal(err)
	}
	wl.n++
	p := &attest.Pledge{Origin: witnessOrigin, Signatory: "microsoft", Accord: a.ID, Principle: a.Principles[0].ID,
		Status: attest.StatusReaffirmed, Statement: fmt.Sprintf("Witnessed pledge %d.", wl.n), Effective: "2026-01-02"}
	leaf, err := attest.SignWithKeys(attest.NewPledgeStatement(p, a.Digest), wl.demo.Keys["microsoft"])
	if err != nil {
		wl.t.Fatal(err)
	}
	key, err := client.NewKeyFrom(wl.demo.Keys["microsoft"])
	if err != nil {
		wl.t.Fatal(err)
	}
	start := time.Now()
	data, res, _, err := c.Submit(ctx, key, "microsoft", leaf, info, wl.vkey)
	if err != nil {
		wl.t.Fatalf("submit: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		wl.t.Errorf("a submission took %v: it must not wait for witnesses", took)
	}
	return res.Index, leaf, data
}

// cosigned returns the size of url's /checkpoint, which must meet the
// policy's quorum.
func (wl *witnessedLog) cosigned(url string) uint64 {
	wl.t.Helper()
	resp, err := http.Get(url + "/checkpoint")
	if err != nil {
		wl.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v, err := verify.NewVerifier(wl.vkey)
	if err != nil {
		wl.t.Fatal(err)
	}
	c, _, err := verify.OpenCosigned(b, witnessOrigin, []verify.Verifier{v}, wl.pol)
	if err != nil {
		return 0 // not cosigned yet (the first start publishes the stored checkpoint)
	}
	return c.Size
}

// waitCosigned waits up to 15s for a cosigned /checkpoint of size > index.
func (wl *witnessedLog) waitCosigned(s *server, index uint64) {
	wl.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); wl.cosigned(s.url) <= index; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			wl.t.Fatalf("no cosigned checkpoint covering entry %d after 15s: %s", index, s.stderr.String())
		}
	}
}

func readyz(t *testing.T, url string) (int, string) {
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWitnessed runs issue 14's checks with three witness processes on
// loopback and a quorum of two: publication waits for the quorum, goes on
// with one witness killed, stops with two killed while submissions go on
// (and /readyz says why); restarted witnesses catch up; a server restored
// from an old backup refuses to sequence; two servers from copies of one
// data directory fork, and no witness cosigns both branches.
func TestWitnessed(t *testing.T) {
	wl := newWitnessedLog(t)
	s := wl.serve(wl.d)
	i, _ := wl.submit(s.url)
	wl.waitCosigned(s, i)

	backup := filepath.Join(t.TempDir(), "backup")
	if code, stdout, stderr := pledgelog(t, nil, "backup", "--data", string(wl.d), "--out", backup); code != 0 {
		t.Fatalf("backup = %d: %s%s", code, stdout, stderr)
	}

	wl.ws[0].kill()
	i, _ = wl.submit(s.url)
	wl.waitCosigned(s, i)

	wl.ws[1].kill()
	i, leaf := wl.submit(s.url)
	time.Sleep(2500 * time.Millisecond) // beyond --max-staleness
	if got := wl.cosigned(s.url); got > i {
		t.Fatalf("published a checkpoint of size %d with one witness of three", got)
	}
	code, body := readyz(t, s.url)
	if code != 503 || !strings.Contains(body, "no witness quorum") || !strings.Contains(body, "w1") {
		t.Errorf("/readyz with two witnesses down = %d %s, want 503 naming the missing quorum", code, body)
	}

	wl.ws[0].start()
	wl.ws[1].start()
	wl.waitCosigned(s, i)
	if code, body := readyz(t, s.url); code != 200 {
		t.Errorf("/readyz after the witnesses came back = %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, res, err := client.New(s.url).WaitWitnessed(ctx, i, leaf, witnessOrigin, wl.vkey, wl.pol, 50*time.Millisecond); err != nil || res.Index != i {
		t.Errorf("WaitWitnessed(%d) = %v, %v", i, res, err)
	}
	s.stop(t)

	// A server restored from the old backup refuses to sequence.
	restored := restore(t, wl.d, backup)
	code, _, stderr := pledgelog(t, nil, "serve", "--data", string(restored), "--listen", "127.0.0.1:0", "--policy", wl.policy)
	if code != 1 || !strings.Contains(stderr, "refusing to sequence") || !strings.Contains(stderr, "backup") {
		t.Errorf("serve on an old backup = %d: %s", code, stderr)
	}

	// Two servers from copies of one data directory, given different entries.
	copyDir := dataDir(filepath.Join(t.TempDir(), "copy"))
	if out, err := exec.Command("cp", "-a", string(wl.d), string(copyDir)).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	a, b := wl.serve(wl.d), wl.serve(copyDir)
	base := wl.cosigned(a.url)
	ia, _ := wl.submit(a.url)
	wl.waitCosigned(a, ia)
	ib, _ := wl.submit(b.url)
	if ib != ia {
		t.Fatalf("the copies gave indexes %d and %d to their first new entries", ia, ib)
	}
	time.Sleep(time.Second)
	if got := wl.cosigned(b.url); got != base {
		t.Errorf("the second branch published cosigned size %d, want %d", got, base)
	}
	resp, err := http.Get(a.url + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wn, _ := verify.ParseNote(want)
	for k, w := range wl.ws {
		n, err := verify.ParseNote(w.stored())
		if err != nil || !bytes.Equal(n.Text, wn.Text) {
			t.Errorf("witness %d holds %v (%v), want branch a's checkpoint %q", k+1, n, err, wn.Text)
		}
	}
	if !strings.Contains(b.stderr.String(), "status=fork") {
		t.Errorf("the second branch logged no fork: %s", b.stderr.String())
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	b.cmd.Process.Signal(syscall.SIGTERM)
}
