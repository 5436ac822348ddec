package main

import (
	"bufio"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// makeRunArgs returns the arguments that make run gives ./bin/pledgelog,
// as make -n prints them for data directory data and origin: the test
// runs what make run runs, but for its build.
func makeRunArgs(t *testing.T, data, origin string) []string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("make is not installed")
		}
		t.Skip("make is not installed")
	}
	out, err := exec.Command("make", "-n", "-s", "-C", "../..", "run", "DATA="+data, "ORIGIN="+origin, "LISTEN=127.0.0.1:0").Output()
	if err != nil {
		t.Fatalf("make -n run: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if args, ok := strings.CutPrefix(strings.TrimSpace(line), "./bin/pledgelog "); ok {
			return strings.Fields(args)
		}
	}
	t.Fatalf("make -n run runs no ./bin/pledgelog:\n%s", out)
	return nil
}

// demoRun is a running make run, with the real witness processes.
type demoRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout []string // the lines of serve's banner
	url    string
	stderr syncBuffer
}

// startBanner runs pledgelog with args (demo or serve) and waits for its
// banner: where it serves, its vkey and its witnesses.
func startBanner(t *testing.T, args []string) *demoRun {
	t.Helper()
	r := &demoRun{t: t, cmd: exec.Command(binary, args...)}
	r.cmd.Env = cleanEnv()
	r.cmd.Stderr = &r.stderr
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	br := bufio.NewReader(stdout)
	for !strings.HasPrefix(lastOf(r.stdout), "witnesses: ") {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("pledgelog %s printed %q (%v): %s", strings.Join(args, " "), r.stdout, err, r.stderr.String())
		}
		r.stdout = append(r.stdout, strings.TrimSpace(line))
		if _, url, ok := strings.Cut(line, "serving "); ok {
			_, url, _ = strings.Cut(url, " at ")
			r.url = strings.TrimSuffix(strings.TrimSpace(url), "/")
		}
	}
	go io.Copy(io.Discard, br)
	return r
}

// stop sends SIGTERM and waits for a clean exit.
func (r *demoRun) stop() {
	r.t.Helper()
	r.cmd.Process.Signal(syscall.SIGTERM)
	if err := r.cmd.Wait(); err != nil {
		r.t.Errorf("pledgelog after SIGTERM: %v: %s", err, r.stderr.String())
	}
}

func lastOf(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

// get returns the body of a GET of path, which must be 200.
func (r *demoRun) get(path string) string {
	r.t.Helper()
	resp, err := http.Get(r.url + path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		r.t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// waitCosigned waits up to 20s for /checkpoint to meet pol with the log
// key vkey, and returns the names of the witnesses that cosigned it.
func (r *demoRun) waitCosigned(pol *policy.Policy, vkey, origin string) []string {
	r.t.Helper()
	v, err := verify.NewVerifier(vkey)
	if err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, n, err := verify.OpenCosigned([]byte(r.get("/checkpoint")), origin, []verify.Verifier{v}, pol)
		if err == nil {
			var names []string
			for _, c := range verify.Cosignatures(n, pol) {
				names = append(names, c.Witness.Name())
			}
			return names
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("/checkpoint not cosigned by a quorum after 20s (%v): %s", err, r.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// witnessURLs returns the witnesses' URLs in the policy.
func witnessURLs(pol *policy.Policy) []string {
	var urls []string
	for _, w := range pol.Witnesses() {
		urls = append(urls, w.URL)
	}
	return urls
}

// waitDown waits up to 10s until no witness of urls answers.
func waitDown(t *testing.T, urls []string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	for _, u := range urls {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			resp, err := c.Get(u + "/")
			if err != nil {
				break
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatalf("the witness at %s still answers after the demo stopped", u)
			}
		}
	}
}

func readPolicyFile(t *testing.T, file string) (*policy.Policy, string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return pol, string(b)
}

// TestMakeRun runs what make run runs, with the real pledge-verify witness
// processes: on first use it makes the demo log and three witnesses;
// /checkpoint gets cosigned by at least two of them, the policy demands
// two of three, and the home page shows the cosignatures and pins the
// witnesses. Killed with SIGKILL, the demo takes its witnesses with it;
// run again, it serves the same log with the same witnesses; stopped with
// SIGTERM, it stops them.
func TestMakeRun(t *testing.T) {
	const origin = "example.com/make-run"
	data := filepath.Join(t.TempDir(), "data")
	args := makeRunArgs(t, data, origin)
	if args[0] != "demo" {
		t.Fatalf("make run runs pledgelog %q, want demo", args)
	}
	r := startBanner(t, args)
	if !strings.Contains(strings.Join(r.stdout, "\n"), "created a log in "+data) {
		t.Errorf("the first make run made no log: %q", r.stdout)
	}
	vkey, _ := strings.CutPrefix(r.stdout[len(r.stdout)-2], "vkey: ")
	d := dataDir(data)
	pol, text := readPolicyFile(t, filepath.Join(d.demoWitnessDir(), "policy"))
	ws := pol.Witnesses()
	switch {
	case len(ws) != 3:
		t.Fatalf("the demo's policy has %d witnesses, want 3:\n%s", len(ws), text)
	case pol.Met([]bool{true, false, false}) || !pol.Met([]bool{false, true, true}):
		t.Fatalf("the demo's policy does not ask for two of three:\n%s", text)
	case !strings.Contains(lastOf(r.stdout), "w1, w2, w3") || !strings.Contains(lastOf(r.stdout), "at least 2"):
		t.Errorf("serve's banner says %q", lastOf(r.stdout))
	}
	cosigners := r.waitCosigned(pol, vkey, origin)
	if len(cosigners) < 2 {
		t.Fatalf("cosigned by %v", cosigners)
	}
	if got := r.get("/api/v1/policy"); got != text {
		t.Errorf("/api/v1/policy = %q, want the demo's policy %q", got, text)
	}
	home := r.get("/")
	for _, name := range cosigners {
		if !strings.Contains(home, "<code>"+name+"</code>") {
			t.Errorf("the home page does not show the cosignature of %s", name)
		}
	}
	page := html.UnescapeString(r.get("/verify"))
	for _, w := range ws {
		if !strings.Contains(page, fmt.Sprint(w.Key)) {
			t.Errorf("the verify page does not pin witness %s (%s)", w.Name, w.Key)
		}
	}
	for _, w := range []string{"w1", "w2", "w3"} {
		if info, err := os.Stat(filepath.Join(d.demoWitnessDir(), w, "key")); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("demo witness %s key: %v", w, err)
		}
	}

	r.cmd.Process.Kill()
	r.cmd.Wait()
	waitDown(t, witnessURLs(pol))

	r = startBanner(t, args)
	if strings.Contains(strings.Join(r.stdout, "\n"), "created a log") {
		t.Errorf("the second make run made a new log: %q", r.stdout)
	}
	pol2, text2 := readPolicyFile(t, filepath.Join(d.demoWitnessDir(), "policy"))
	for i, w := range pol2.Witnesses() {
		if fmt.Sprint(w.Key) != fmt.Sprint(ws[i].Key) {
			t.Errorf("witness %s has a new key after a restart: %s, was %s", w.Name, w.Key, ws[i].Key)
		}
	}
	if len(r.waitCosigned(pol2, vkey, origin)) < 2 {
		t.Errorf("after a restart: %s", text2)
	}
	r.stop()
	waitDown(t, witnessURLs(pol2))
}

// TestDemoRefuses: demo adds no witnesses to a real log, and says what to
// do when pledge-verify is missing.
func TestDemoRefuses(t *testing.T) {
	d, _ := mustInit(t)
	code, _, stderr := pledgelog(t, nil, "demo", "--data", string(d), "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, "not a demo log") {
		t.Errorf("demo on a real log = %d: %s", code, stderr)
	}
	if _, err := os.Stat(d.demoWitnessDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("demo on a real log made %s: %v", d.demoWitnessDir(), err)
	}
	data := filepath.Join(t.TempDir(), "demo")
	code, _, stderr = pledgelog(t, nil, "demo", "--data", data, "--listen", "127.0.0.1:0", "--pledge-verify", filepath.Join(t.TempDir(), "none"))
	if code != 2 || !strings.Contains(stderr, "demo witness w1") {
		t.Errorf("demo without pledge-verify = %d: %s", code, stderr)
	}
}

// TestServeWithoutWitnesses: serve without --policy publishes unwitnessed
// and says so loudly, on stdout and in its log; with a policy whose quorum
// is none it says that this is on purpose, and does not warn.
func TestServeWithoutWitnesses(t *testing.T) {
	d, vkey := mustInit(t)
	r := startBanner(t, []string{"serve", "--data", string(d), "--listen", "127.0.0.1:0"})
	if got := lastOf(r.stdout); !strings.HasPrefix(got, "witnesses: NONE. WARNING: no --policy") || !strings.Contains(got, "quorum is none") {
		t.Errorf("serve without --policy printed %q", got)
	}
	r.stop()
	if !strings.Contains(r.stderr.String(), "level=WARN") || !strings.Contains(r.stderr.String(), "WITHOUT WITNESSES") {
		t.Errorf("serve without --policy logged no warning: %s", r.stderr.String())
	}
	none := filepath.Join(t.TempDir(), "policy")
	if err := os.WriteFile(none, []byte("log "+vkey+"\nquorum none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = startBanner(t, []string{"serve", "--data", string(d), "--listen", "127.0.0.1:0", "--policy", none})
	if got := lastOf(r.stdout); got != "witnesses: none, on purpose ("+none+": quorum none)" {
		t.Errorf("serve with quorum none printed %q", got)
	}
	r.stop()
	if strings.Contains(r.stderr.String(), "level=WARN") {
		t.Errorf("serve with quorum none warned: %s", r.stderr.String())
	}
}
