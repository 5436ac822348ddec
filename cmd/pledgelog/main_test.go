package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"golang.org/x/mod/sumdb/note"
)

// binary is the pledgelog command built by TestMain; verifyBinary is
// pledge-verify, for its witness.
var binary, verifyBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pledgelog-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "pledgelog")
	verifyBinary = filepath.Join(dir, "pledge-verify")
	build := exec.Command("go", "build", "-o", dir+"/", ".", "../pledge-verify")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building pledgelog and pledge-verify:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pledgelog runs the binary to completion and returns its exit code,
// stdout and stderr.
func pledgelog(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// cleanEnv is the environment without PLEDGELOG_ variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PLEDGELOG_") {
			env = append(env, kv)
		}
	}
	return env
}

// mustInit creates a log in a new data directory and returns it with the
// log's vkey.
func mustInit(t *testing.T) (dataDir, string) {
	t.Helper()
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	keyOut := filepath.Join(t.TempDir(), "registrar-key.pem")
	code, stdout, stderr := pledgelog(t, nil, "init", "--data", string(d), "--origin", "example.com/cmd-test", "--registrar-key-out", keyOut)
	if code != 0 {
		t.Fatalf("init = %d: %s", code, stderr)
	}
	_, vkey, ok := strings.Cut(stdout, "vkey: ")
	if !ok || !strings.Contains(stdout, "origin: example.com/cmd-test\n") {
		t.Fatalf("init printed %q", stdout)
	}
	return d, strings.TrimSpace(strings.SplitN(vkey, "\n", 2)[0])
}

func TestInit(t *testing.T) {
	d, vkey := mustInit(t)
	if _, err := note.NewVerifier(vkey); err != nil {
		t.Errorf("init printed vkey %q: %v", vkey, err)
	}
	for _, f := range []string{d.keyFile(), d.tokenFile()} {
		if info, err := os.Stat(f); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, info.Mode())
		}
	}
	code, _, stderr := pledgelog(t, nil, "init", "--data", string(d), "--origin", "example.com/other", "--demo")
	if code != 2 || !strings.Contains(stderr, "not empty") {
		t.Errorf("init twice = %d: %s", code, stderr)
	}
	if _, err := os.Stat(d.keyFile()); err != nil {
		t.Errorf("init twice damaged the first log: %v", err)
	}
}

func TestInitBadOrigin(t *testing.T) {
	for _, origin := range []string{"", "log example", "log+1", "https://log.example/a", "log.example/a/", "tab\there"} {
		dir := filepath.Join(t.TempDir(), "data")
		code, _, stderr := pledgelog(t, []string{"PLEDGELOG_DATA=" + dir}, "init", "--origin", origin)
		if code != 2 || !strings.Contains(stderr, "--origin") {
			t.Errorf("init --origin %q = %d: %s", origin, code, stderr)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("init --origin %q created %s", origin, dir)
		}
	}
}

func TestServeRefuses(t *testing.T) {
	d, _ := mustInit(t)
	notData := t.TempDir()
	os.WriteFile(filepath.Join(notData, "notes.txt"), []byte("hi"), 0o644)

	wrongKey, _ := mustInit(t)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pemBytes, _ := cryptoutils.MarshalPrivateKeyToPEM(priv)
	if err := os.WriteFile(wrongKey.keyFile(), pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	openKey, _ := mustInit(t)
	os.Chmod(openKey.keyFile(), 0o644)
	noDB, _ := mustInit(t)
	os.RemoveAll(noDB.db())

	for _, tc := range []struct{ name, dir, want string }{
		{"missing", string(d) + "-typo", "no such directory"},
		{"not a data directory", notData, "not a pledgelog data directory"},
		{"wrong key", string(wrongKey), "is not signed by"},
		{"readable key", string(openKey), "chmod 600"},
		{"no store", string(noDB), "no log store"},
	} {
		code, _, stderr := pledgelog(t, nil, "serve", "--data", tc.dir, "--listen", "127.0.0.1:0")
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve, %s: exit %d, stderr %q; want 2 and %q", tc.name, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(string(d) + "-typo"); err == nil {
		t.Error("serve created the mistyped directory")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"serve", "--nope"}, {"serve", "extra"}, {"backup"}} {
		if code, _, stderr := pledgelog(t, nil, args...); code != 2 {
			t.Errorf("pledgelog %q = %d, want 2: %s", args, code, stderr)
		}
	}
	code, _, stderr := pledgelog(t, []string{"PLEDGELOG_PUBLISH_INTERVAL=soon"}, "serve")
	if code != 2 || !strings.Contains(stderr, "PLEDGELOG_PUBLISH_INTERVAL") {
		t.Errorf("serve with a bad environment variable = %d: %s", code, stderr)
	}
	if code, _, _ := pledgelog(t, nil, "serve", "-h"); code != 0 {
		t.Errorf("serve -h = %d, want 0", code)
	}
}

// seed appends n entries to the stopped log in d, in process.
func seed(t *testing.T, d dataDir, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l, st, err := openLog(ctx, d, d.db(), log.Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	var entries [][]byte
	for i := range n {
		entries = append(entries, fmt.Appendf(nil, "seed %d", l.Latest().Size+uint64(i)))
	}
	if _, err := l.AppendBatch(ctx, entries); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// server is a running pledgelog serve.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr syncBuffer
}

// syncBuffer is a bytes.Buffer that a process may write while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe starts serve on d, with extra flags if any, and waits until
// it says where it serves.
func startServe(t *testing.T, d dataDir, extra ...string) *server {
	t.Helper()
	return startServeEnv(t, d, nil, extra...)
}

// startServeEnv is startServe with extra environment variables.
func startServeEnv(t *testing.T, d dataDir, env []string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--publish-interval", "10ms"}, extra...)
	s := &server{cmd: exec.Command(binary, args...)}
	s.cmd.Env = append(append(cleanEnv(), "PLEDGELOG_DATA="+string(d)), env...)
	s.cmd.Stderr = &s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, url, ok := strings.Cut(strings.TrimSpace(line), " at ")
	if err != nil || !ok {
		t.Fatalf("serve printed %q (%v): %s", line, err, s.stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	s.url = strings.TrimSuffix(url, "/")
	return s
}

// stop sends SIGTERM and wants a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v: %s", err, s.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
}

// checkpointSize fetches and verifies the served checkpoint.
func checkpointSize(t *testing.T, url, vkey string) string {
	t.Helper()
	resp, err := http.Get(url + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return verifiedSize(t, body, vkey)
}

func verifiedSize(t *testing.T, signed []byte, vkey string) string {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint %q does not verify: %v", signed, err)
	}
	return strings.Split(n.Text, "\n")[1]
}

func TestServeAndBackup(t *testing.T) {
	d, vkey := mustInit(t)
	seed(t, d, 299) // after the genesis
	s := startServe(t, d)
	if size := checkpointSize(t, s.url, vkey); size != "300" {
		t.Fatalf("served checkpoint size %s, want 300", size)
	}

	code, _, stderr := pledgelog(t, nil, "serve", "--data", string(d), "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, "in use by another process") {
		t.Errorf("a second serve = %d: %s", code, stderr)
	}

	out := filepath.Join(t.TempDir(), "backup")
	code, stdout, stderr := pledgelog(t, nil, "backup", "--data", string(d), "--out", out)
	if code != 0 || !strings.Contains(stdout, "tree size 300") {
		t.Fatalf("backup of a running log = %d: %s%s", code, stdout, stderr)
	}
	if !strings.Contains(s.stderr.String(), "backup done") {
		t.Errorf("backup did not go through the server: %s", s.stderr.String())
	}
	if code, _, _ := pledgelog(t, nil, "backup", "--data", string(d), "--out", out); code != 2 {
		t.Errorf("backup to an existing directory = %d, want 1", code)
	}
	s.stop(t)
	if _, err := os.Stat(d.urlFile()); err == nil {
		t.Error("serve left serve.url behind")
	}
	restored := restore(t, d, out)
	checkRestored(t, restored, vkey, 300)

	out2 := filepath.Join(t.TempDir(), "backup")
	code, stdout, stderr = pledgelog(t, []string{"PLEDGELOG_DATA=" + string(d), "PLEDGELOG_OUT=" + out2}, "backup")
	if code != 0 || !strings.Contains(stdout, "tree size 300") {
		t.Fatalf("backup of a stopped log = %d: %s%s", code, stdout, stderr)
	}
}

// restore makes a data directory from a backup and d's origin and key, as
// docs/operations.md says.
func restore(t *testing.T, d dataDir, backup string) dataDir {
	t.Helper()
	r := dataDir(filepath.Join(t.TempDir(), "restored"))
	os.Mkdir(string(r), 0o700)
	for _, f := range []string{"origin", "log-key.pem"} {
		b, err := os.ReadFile(d.path(f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(r.path(f), b, 0o600)
	}
	if err := os.Rename(backup, r.db()); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkRestored opens the restored log and checks its checkpoint and last
// entry.
func checkRestored(t *testing.T, r dataDir, vkey string, size uint64) {
	t.Helper()
	l, st, err := openLog(context.Background(), r, r.db(), log.Config{})
	if err != nil {
		t.Fatalf("opening the restored log: %v", err)
	}
	defer st.Close()
	if got := verifiedSize(t, l.Latest().Checkpoint, vkey); got != fmt.Sprint(size) {
		t.Fatalf("restored log size %s, want %d", got, size)
	}
	e, err := l.Entry(context.Background(), size-1)
	if want := fmt.Sprintf("seed %d", size-1); err != nil || string(e) != want {
		t.Fatalf("restored entry %d = %q, %v; want %q", size-1, e, err, want)
	}
}
