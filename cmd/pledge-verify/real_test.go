package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/attest"
)

// TestRealServer runs the real pledgelog binary: the demo log, made by
// init --demo, and a copy of its data directory, served side by side and
// each given a different pledge through the write API, so that they fork.
func TestRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the pledgelog server")
	}
	const seed = "real server test"
	data := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(pledgelog, "init", "--demo", "--demo-seed", seed, "--data", data, "--origin", origin).CombinedOutput()
	if err != nil {
		t.Fatalf("pledgelog init: %v: %s", err, out)
	}
	copyDir(t, data, data+"-copy")
	a, b := startPledgelog(t, data, seed), startPledgelog(t, data+"-copy", seed)
	if a.vkey() != b.vkey() {
		t.Fatalf("copies of one log have two keys, %s and %s", a.vkey(), b.vkey())
	}
	dir := t.TempDir()
	out2 := want(t, 0, nil, append([]string{"audit", "--url", a.url, "--state", dir, "--summary", "--json"}, a.trust()...)...)
	var rep auditJSON
	if err := json.Unmarshal([]byte(out2), &rep); err != nil || rep.Total != 0 || rep.Size != 172 {
		t.Fatalf("audit of the demo: %v: %s", err, out2)
	}
	checkDemoMatrix(t, a.url, a.demo, rep.Matrix)
	cons := func(s *testServer, code int, want_ ...string) {
		t.Helper()
		want(t, code, want_, append([]string{"consistency", "--url", s.url, "--state", dir}, a.trust()...)...)
	}
	cons(a, 0, "first use")
	cons(b, 0, "still at size 172")
	a.submit("microsoft", a.pledge("microsoft", 0))
	b.submit("cisco", b.pledge("cisco", 0))
	cons(a, 0, "grew from 172 to 173")
	cons(b, 1, "split view", "two roots for size 173", "evidence in")
	want(t, 0, []string{"entry 172 included"}, append([]string{"inclusion", "--url", a.url, "--index", "172"}, a.trust()...)...)
}

// startPledgelog serves a data directory with the real binary, as a
// testServer without an in-process log.
func startPledgelog(t *testing.T, data, seed string) *testServer {
	t.Helper()
	cmd := exec.Command(pledgelog, "serve", "--data", data, "--listen", "127.0.0.1:0", "--publish-interval", "10ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stopped bool
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	r := bufio.NewReader(stdout)
	line, _ := r.ReadString('\n')
	vline, _ := r.ReadString('\n')
	_, url, ok := strings.Cut(strings.TrimSpace(line), " at ")
	vkey, ok2 := strings.CutPrefix(strings.TrimSpace(vline), "vkey: ")
	if !ok || !ok2 {
		t.Fatalf("serve printed %q, %q", line, vline)
	}
	go io.Copy(io.Discard, r)
	s := &testServer{t: t, url: strings.TrimSuffix(url, "/"), reg: attest.NewRegistry(origin), remoteVKey: vkey, stop: stop}
	if s.demo, err = attest.NewDemo(origin, []byte(seed)); err != nil {
		t.Fatal(err)
	}
	for i, e := range s.demo.Entries {
		if _, err := s.reg.Replay(uint64(i), e); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// waitRemote waits, a little, for the served checkpoint to grow: a new
// entry is published within the server's publish interval of its answer.
func (s *testServer) waitRemote() {
	s.t.Helper()
	start := s.remoteSize()
	for deadline := time.Now().Add(5 * time.Second); s.remoteSize() == start; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return // already published with the answer
		}
	}
}

// waitSize waits until the served checkpoint has at least size entries.
func (s *testServer) waitSize(size uint64) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.remoteSize() < size; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatalf("the served checkpoint did not reach size %d", size)
		}
	}
}

func (s *testServer) remoteSize() uint64 {
	resp, err := http.Get(s.url + "/checkpoint")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 {
		s.t.Fatalf("checkpoint %q", b)
	}
	n, _ := strconv.ParseUint(lines[1], 10, 64)
	return n
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(filepath.Join(to, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
