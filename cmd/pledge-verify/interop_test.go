package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/verify/client"
)

// Independent implementations of c2sp.org/tlog-witness, built by the tests
// from the Go module proxy in a scratch module (go's build cache keeps
// them between runs).
var interopTools = map[string]string{
	"litewitness":   "filippo.io/torchwood/cmd/litewitness@v0.9.0",
	"witnessctl":    "filippo.io/torchwood/cmd/witnessctl@v0.9.0",
	"posix-oneshot": "github.com/transparency-dev/tessera/cmd/examples/posix-oneshot@v1.0.1",
}

var (
	interopOnce sync.Once
	interopDir  string
	interopErr  error
)

// interopTool returns the path of an independent tool, building them all
// the first time.
func interopTool(t *testing.T, name string) string {
	t.Helper()
	interopOnce.Do(func() { interopDir, interopErr = buildInteropTools() })
	if interopErr != nil {
		t.Fatalf("building the independent implementations: %v", interopErr)
	}
	return filepath.Join(interopDir, name)
}

// buildInteropTools builds them in a scratch module beside the binaries
// TestMain built, which it removes at the end.
func buildInteropTools() (string, error) {
	dir := filepath.Join(filepath.Dir(binary), "interop")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module interop\n\ngo 1.26.0\n"), 0o644); err != nil {
		return "", err
	}
	run := func(args ...string) error {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	var pkgs []string
	for _, p := range interopTools {
		path, version, _ := strings.Cut(p, "@")
		mod := strings.Join(strings.SplitN(path, "/", 4)[:3], "/")
		if strings.HasPrefix(path, "filippo.io/") {
			mod = "filippo.io/torchwood"
		}
		if err := run("get", mod+"@"+version); err != nil {
			return "", err
		}
		pkgs = append(pkgs, path)
	}
	return dir, run(append([]string{"build", "-o", dir + "/"}, pkgs...)...)
}

// TestInteropTesseraClient has Tessera's witness client (its posix-oneshot
// example log) get its checkpoints cosigned by our witness, reading our
// witness's vkey from a tlog-policy file with its own parser: a first
// checkpoint (the client starts from old size 0 or asks), then a grown
// one with a consistency proof. (Tessera v1.0.1 reads only Ed25519
// witness keys; our ML-DSA-44 cosignatures are checked against
// transparency-dev/formats and CIRCL in package verify.)
func TestInteropTesseraClient(t *testing.T) {
	oneshot := interopTool(t, "posix-oneshot")
	const origin = "example.org/tessera-interop"
	seed := bytes.Repeat([]byte{33}, 32)
	lk := ed25519.NewKeyFromSeed(seed)
	logVkey := verify.Ed25519VerifierKey(origin, lk.Public().(ed25519.PublicKey))
	logV := mustNewVerifier(t, logVkey)
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", origin, logV.KeyID(), base64.StdEncoding.EncodeToString(append([]byte{1}, seed...)))
	keyFile := writeFile(t, "log.key", []byte(skey))

	for _, typ := range []string{"ed25519"} {
		t.Run(typ, func(t *testing.T) {
			key, vkey := witnessKey(t, t.TempDir(), typ)
			w := startWitness(t, key, writePolicy(t, t.TempDir(), "log "+logVkey, "quorum none"), t.TempDir())
			tpolicy := writePolicy(t, t.TempDir(), "witness ours "+vkey+" "+w.url, "quorum ours")
			storage, entries := filepath.Join(t.TempDir(), "log"), t.TempDir()
			for round, n := range []int{5, 4} {
				for i := range n {
					os.WriteFile(filepath.Join(entries, fmt.Sprintf("%d-%d", round, i)), []byte(fmt.Sprintf("entry %d of round %d", i, round)), 0o644)
				}
				cmd := exec.Command(oneshot, "--storage_dir", storage, "--entries", filepath.Join(entries, fmt.Sprintf("%d-*", round)),
					"--private_key", keyFile, "--witness_policy_file", tpolicy, "--witness_timeout", "20s")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("posix-oneshot round %d: %v\n%s", round, err, out)
				}
				note, err := os.ReadFile(filepath.Join(storage, "checkpoint"))
				if err != nil {
					t.Fatal(err)
				}
				c, _, err := verify.OpenCheckpoint(note, origin, []verify.Verifier{logV}, []verify.Verifier{mustNewVerifier(t, vkey)}, 1)
				if want := uint64(5 + 4*round); err != nil || c.Size != want {
					t.Fatalf("round %d: Tessera's checkpoint %q: %+v, %v; want size %d cosigned by our witness", round, note, c, err, want)
				}
			}
			status, body := w.get(t, monitoringPath(origin))
			if status != 200 || !strings.Contains(body, "\n9\n") {
				t.Errorf("our witness's checkpoint of Tessera's log: %d %q", status, body)
			}
		})
	}
}

// TestInteropLitewitness has torchwood's litewitness cosign our log's
// checkpoints (the real server's, with consistency proofs built from its
// tiles), and checks a bundle under a tlog-policy quorum of litewitness
// with pledge-verify.
func TestInteropLitewitness(t *testing.T) {
	lw, ctl := interopTool(t, "litewitness"), interopTool(t, "witnessctl")
	s := newServer(t, "litewitness interop")
	dir := t.TempDir()

	// litewitness signs with a key held by an ssh-agent: ours, in process.
	wkey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{44}, 32))
	sock := filepath.Join(dir, "agent.sock")
	serveAgent(t, sock, wkey)
	sshPub, err := ssh.NewPublicKey(wkey.Public())
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "litewitness.db")
	for _, args := range [][]string{{"add-log", "-db", db, "-origin", origin}, {"add-key", "-db", db, "-origin", origin, "-key", s.vkey()}} {
		if out, err := exec.Command(ctl, args...).CombinedOutput(); err != nil {
			t.Fatalf("witnessctl %v: %v\n%s", args, err, out)
		}
	}
	addr := freeAddr(t)
	const name = "example.org/litewitness"
	cmd := exec.Command(lw, "-db", db, "-ssh-agent", sock, "-name", name, "-key", ssh.FingerprintSHA256(sshPub), "-listen", addr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitListening(t, addr, &stderr)
	lwVkey := verify.CosignatureVerifierKey(name, wkey.Public().(ed25519.PublicKey))
	wurl := "http://" + addr

	// A first checkpoint, from old size 0; then a bundle's, from there.
	c, err := client.New(client.Config{URL: s.url})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	firstCp, err := openCheckpoint(mustPolicy(t, s), first)
	if err != nil {
		t.Fatal(err)
	}
	cosignWith(t, wurl, 0, nil, first)
	var m map[string]any
	if err := json.Unmarshal(s.submit("cisco", s.pledge("cisco", 2)), &m); err != nil {
		t.Fatal(err)
	}
	note := []byte(m["checkpoint"].(string))
	cp, err := openCheckpoint(mustPolicy(t, s), note)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := verify.ProveConsistency(context.Background(), c, firstCp.Size, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	m["checkpoint"] = string(note) + cosignWith(t, wurl, firstCp.Size, proof, note)
	data, _ := json.Marshal(m)
	file := writeFile(t, "b.json", data)
	policy := writePolicy(t, dir, "log "+s.vkey(), "witness lite "+lwVkey+" "+wurl, "quorum lite")
	want(t, 0, []string{"cosigned by witness " + name, "witness quorum met: lite over 1 witnesses"},
		"bundle", file, "--policy", policy, "--registrar-key", s.registrarID())
	// litewitness refuses a fork: the first checkpoint again, from size 0.
	if status, _ := postAdd(t, wurl, 0, nil, first); status != http.StatusConflict {
		t.Errorf("litewitness, old size 0 after cosigning = %d, want 409", status)
	}
}

func mustPolicy(t *testing.T, s *testServer) *bundle.Policy {
	t.Helper()
	p, err := policyFromFlags([]string{s.vkey()}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cosignWith asks a witness to cosign note and returns its signature lines.
func cosignWith(t *testing.T, url string, old uint64, proof []verify.Hash, note []byte) string {
	t.Helper()
	status, body := postAdd(t, url, old, proof, note)
	if status != http.StatusOK {
		t.Fatalf("add-checkpoint to %s = %d %q", url, status, body)
	}
	return body
}

func postAdd(t *testing.T, url string, old uint64, proof []verify.Hash, note []byte) (int, string) {
	t.Helper()
	w := &witnessProc{url: url}
	status, _, body := w.post(t, addBody(int64(old), proof, note))
	return status, body
}

// serveAgent serves an ssh-agent holding key on a unix socket until the
// test ends.
func serveAgent(t *testing.T, sock string, key ed25519.PrivateKey) {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, conn); conn.Close() }()
		}
	}()
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(t *testing.T, addr string, stderr *bytes.Buffer) {
	t.Helper()
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never listened:\n%s", addr, stderr.String())
}
