package main

// Tests of issue 12's findings that need a real serve process: its memory
// is read from /proc/PID/status. docs/reliability.md ("Attack findings")
// has the figures.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/cmd/pledge/client"
)

// procKiB returns a field of /proc/pid/status in KiB, e.g. VmHWM (the
// peak resident set) or VmRSS.
func procKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// demoServe creates a demo log and serves it with extra flags and
// environment.
func demoServe(t *testing.T, env []string, extra ...string) (*server, dataDir) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	d := dataDir(filepath.Join(t.TempDir(), "demo"))
	if code, _, stderr := pledgelog(t, nil, "init", "--demo", "--data", string(d), "--origin", "example.com/attack"); code != 0 {
		t.Fatalf("init --demo = %d: %s", code, stderr)
	}
	s := startServeEnv(t, d, env, extra...)
	return s, d
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// flood posts n bodies at once to url, from five loopback addresses
// (which the per-client limits count as five clients), with the tokens
// token(i), and returns how many got each status (0: no answer).
func flood(t *testing.T, url string, n int, body func(i int) []byte, token func(i int, body []byte) string) map[int]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b := body(i)
			req, _ := http.NewRequest("POST", url+"/api/v1/entries/batch", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token(i, b))
			code := 0
			if resp, err := clientFrom(fmt.Sprintf("127.0.0.%d", 2+i%5)).Do(req); err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return codes
}

// TestUnauthenticatedBodies posts 40 bodies of 8 MiB at once without a
// valid token and wants the server's peak RSS to grow by less than
// 48 MiB: before the fix, each body was read before the token was
// checked (RSS 113 → 388 MB at the issue).
func TestUnauthenticatedBodies(t *testing.T) {
	s, _ := demoServe(t, nil)
	pid := s.cmd.Process.Pid
	before := procKiB(t, pid, "VmHWM")
	body := bytes.Repeat([]byte(" "), 8<<20)
	// A well-formed JWT whose kid names no key.
	const bogus = "eyJhbGciOiJFZERTQSIsImtpZCI6Im5vbmUifQ.eyJpc3MiOiJub2JvZHkifQ.c2ln"
	codes := flood(t, s.url, 40, func(int) []byte { return body }, func(int, []byte) string { return bogus })
	after := procKiB(t, pid, "VmHWM")
	t.Logf("40 unauthenticated 8 MiB posts: answers %v; serve's VmHWM %d → %d KiB", codes, before, after)
	if grown := after - before; grown > 48<<10 {
		t.Errorf("40 unauthenticated 8 MiB posts raised serve's peak RSS by %d MiB, want under 48 MiB", grown>>10)
	}
	if codes[http.StatusOK]+codes[http.StatusCreated] > 0 {
		t.Errorf("unauthenticated posts were accepted: %v", codes)
	}
}

// TestBufferedBodies posts 24 bodies of 8 MiB at once with valid
// (registrar) tokens to a server that holds at most 16 MiB of bodies at
// once, and wants its peak RSS to grow by less than 160 MiB: a body is
// held about three times while it is parsed, and the garbage collector
// lets the heap double; before the fix, every body was read and parsed
// at once (RSS +739 MiB).
func TestBufferedBodies(t *testing.T) {
	s, d := demoServe(t, []string{"PLEDGELOG_MAX_BUFFERED_MIB=16"})
	pid := s.cmd.Process.Pid
	pem, err := os.ReadFile(d.demoKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	key, err := client.LoadKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	info, err := client.New(s.url).Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	before := procKiB(t, pid, "VmHWM")
	body := func(i int) []byte {
		pad := bytes.Repeat([]byte("A"), 8<<20-64)
		return fmt.Appendf(nil, `{"entries":["%d%s"]}`, i, pad)
	}
	token := func(_ int, b []byte) string {
		tok, err := key.RegistrarToken(info.Origin, b, time.Now())
		if err != nil {
			t.Error(err)
		}
		return tok
	}
	codes := flood(t, s.url, 24, body, token)
	after := procKiB(t, pid, "VmHWM")
	t.Logf("24 authenticated 8 MiB posts, 16 MiB buffer: answers %v; serve's VmHWM %d → %d KiB", codes, before, after)
	if grown := after - before; grown > 160<<10 {
		t.Errorf("24 authenticated 8 MiB posts raised serve's peak RSS by %d MiB, want under 160 MiB", grown>>10)
	}
	// Each envelope is over the 131,070-byte limit: 413 once read.
	if codes[http.StatusRequestEntityTooLarge] == 0 || codes[0] > 0 || codes[http.StatusCreated] > 0 {
		t.Errorf("answers %v, want some 413 (read and parsed), the rest 503 busy", codes)
	}
}
