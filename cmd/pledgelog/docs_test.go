package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log/storage/postgres/pgtest"
)

// The README's and docs' shell blocks are run as scripts (bash set -eux)
// against a real demo log: pledgelog demo, what make run runs, with its
// three witnesses, on a free port, in a data directory the script sees as
// ./pledgelog-data; ./bin holds the test's pledgelog and pledge-verify and
// is on PATH, and HOME is the script's own directory. The only change made
// to the text is the address: http://127.0.0.1:8080, 127.0.0.1:8080 and
// localhost:8080 become the test server's. Commands that need a server of
// their own that runs until stopped (make run itself, serve, witness
// serve) are stood in for by the test's server, or run until they say
// they serve (mode serves). The signatory walk-through is run by
// cmd/pledge's TestReadme.

// shBlocks returns the ```sh blocks of markdown text, in order.
func shBlocks(text string) []string {
	var blocks []string
	for _, m := range regexp.MustCompile("(?ms)^```sh\n(.*?)^```").FindAllStringSubmatch(text, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// section returns the text under the "## " heading line up to the next
// "## " heading.
func section(t *testing.T, text, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("no heading %q", heading)
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	return rest
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docRun is the demo log the scripts run against.
type docRun struct {
	*demoRun
	data, bin string
}

func startDocDemo(t *testing.T) *docRun {
	t.Helper()
	data := filepath.Join(t.TempDir(), "pledgelog-data")
	r := startBanner(t, []string{"demo", "--data", data, "--listen", "127.0.0.1:0", "--publish-interval", "50ms",
		"--read-rate", "-1", "--ip-rate", "-1"})
	d := &docRun{demoRun: r, data: data, bin: filepath.Dir(binary)}
	pol, _ := readPolicyFile(t, filepath.Join(data, "demo-witnesses", "policy"))
	r.waitCosigned(pol, d.vkey(), demoOrigin) // as make run's first minute does
	return d
}

// demoOrigin is the demo's origin, which docs/witness.md names.
const demoOrigin = "localhost/pledgelog"

// script makes a directory for a script, with ./bin and, if demo,
// ./pledgelog-data, and returns the command that runs it there.
func (r *docRun) script(t *testing.T, ctx context.Context, text string, demo bool, addr string, subst []string) (*exec.Cmd, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(r.bin, filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}
	if demo {
		if err := os.Symlink(r.data, filepath.Join(dir, "pledgelog-data")); err != nil {
			t.Fatal(err)
		}
	}
	host := strings.TrimPrefix(r.url, "http://")
	if addr == "" {
		addr = host
	}
	text = strings.NewReplacer(append(subst, "http://127.0.0.1:8080", "http://"+addr, "127.0.0.1:8080", addr, "localhost:8080", addr)...).Replace(text)
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -eux\n"+text)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "PATH="+r.bin+":"+os.Getenv("PATH"), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"),
		"PLEDGELOG_LISTEN=127.0.0.1:0") // serve's default address, for a block that gives none
	return cmd, dir
}

// setup prepares a script's directory: the files its text names.
type setup func(t *testing.T, r *docRun, dir string)

// run runs text as a script, with subst's replacements (old, new, …)
// made, and fails the test if it fails or its output lacks want.
func (r *docRun) run(t *testing.T, name, text, want string, subst []string, setup setup) {
	t.Helper()
	cmd, dir := r.script(t, t.Context(), text, true, "", subst)
	if setup != nil {
		setup(t, r, dir)
	}
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Errorf("%s fails as written: %v\n%s", name, err, out)
	case !strings.Contains(string(out), want):
		t.Errorf("%s printed no %q:\n%s", name, want, out)
	}
}

// serves runs text, whose last command is a server, until it prints a
// line containing ready, then stops it.
func (r *docRun) serves(t *testing.T, name, text, ready string, subst []string, setup setup) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd, dir := r.script(t, ctx, text, false, "127.0.0.1:0", subst)
	if setup != nil {
		setup(t, r, dir)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); pw.Close() }()
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		fmt.Fprintln(&out, sc.Text())
		if strings.Contains(sc.Text(), ready) && !strings.HasPrefix(sc.Text(), "+") {
			cancel()
			go io.Copy(io.Discard, pr)
			<-done
			t.Logf("%s serves:\n%s", name, out.String())
			return
		}
	}
	t.Errorf("%s did not serve (%v):\n%s", name, <-done, out.String())
}

// TestReadmeAuditors runs the README's curl tour and its "For auditors"
// section. It failed while the section's bundle command had no registrar
// key to pin.
func TestReadmeAuditors(t *testing.T) {
	r := startDocDemo(t)
	readme := readDoc(t, "README.md")
	tour := shBlocks(section(t, readme, "## A tour with curl"))
	auditors := shBlocks(section(t, readme, "## For auditors"))
	if len(tour) != 1 || len(auditors) == 0 {
		t.Fatalf("the README has %d sh blocks in its curl tour, %d for auditors", len(tour), len(auditors))
	}
	r.run(t, "the README's curl tour", tour[0], `"vkey":`, nil, nil)
	r.run(t, `the README's "For auditors"`, strings.Join(auditors, ""), "witness quorum met: demo-witnesses", nil, nil)
}

// TestDocCommands runs the sh blocks of docs/*.md and the README's others.
// Every block is in the table, by file and position: run, run until it
// serves, or skipped with the reason it cannot run in a test. A block's
// subst replaces a path of the operator's host (/srv, /etc) by one in the
// script's directory, or a fixed port by a free one.
func TestDocCommands(t *testing.T) {
	type block struct {
		file  string
		n     int    // its position among the file's sh blocks
		mode  string // "run", "serves", "elsewhere" (another test runs it) or "" (not run)
		why   string // run: what it prints; serves: the line it prints when serving; else: the reason
		subst []string
		setup setup
	}
	// The witness's paths become directories of the script's own.
	witnessPaths := []string{"/etc/pledge-witness", "etc/pledge-witness", "/var/lib/pledge-witness", "var/lib/pledge-witness",
		"127.0.0.1:7380", "127.0.0.1:0"}
	table := []block{
		{file: "README.md", n: 0, why: "make run is stood in for by the test's demo; make test runs every test"},
		{file: "README.md", n: 1, mode: "serves", why: "serving log.example.org/tech-accord ", subst: []string{"/srv/pledgelog", "srv/pledgelog"}},
		{file: "README.md", n: 2, mode: "elsewhere", why: "the curl tour: TestReadmeAuditors runs it"},
		{file: "README.md", n: 3, mode: "elsewhere", why: "For auditors: TestReadmeAuditors runs it"},
		{file: "README.md", n: 4, mode: "elsewhere", why: "For signatories: cmd/pledge's TestReadme runs it"},
		{file: "docs/auditing.md", n: 0, why: "go install from the network"},
		{file: "docs/auditing.md", n: 1, mode: "run", why: "witness quorum met: demo-witnesses", setup: func(t *testing.T, r *docRun, dir string) {
			// The files it names: a bundle, the log's policy, the registrar key.
			write(t, filepath.Join(dir, "pledge.bundle.json"), r.get("/api/v1/entries/100/bundle"))
			policy, err := os.ReadFile(filepath.Join(r.data, "demo-witnesses", "policy"))
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "tech-accord.policy"), string(policy))
			code, pem, stderr := pledgelog(t, nil, "registrar", "key", "--data", r.data)
			if code != 0 {
				t.Fatalf("registrar key = %d: %s", code, stderr)
			}
			write(t, filepath.Join(dir, "registrar.pem"), pem)
		}},
		{file: "docs/auditing.md", n: 2, why: "a benchmark that builds a log of a million entries"},
		{file: "docs/operations.md", n: 0, mode: "serves", why: "serving "},
		{file: "docs/operations.md", n: 1, mode: "serves", why: "serving log.example.org/pledges ", setup: func(t *testing.T, _ *docRun, dir string) {
			// A stopped log's backup in DEST, its key in OLD-KEY-BACKUP.
			old := filepath.Join(dir, "old")
			if code, _, stderr := pledgelog(t, nil, "init", "--data", old, "--origin", "log.example.org/pledges", "--registrar-key-out", filepath.Join(dir, "registrar-key.pem")); code != 0 {
				t.Fatalf("init = %d: %s", code, stderr)
			}
			if code, _, stderr := pledgelog(t, nil, "backup", "--data", old, "--out", filepath.Join(dir, "DEST")); code != 0 {
				t.Fatalf("backup = %d: %s", code, stderr)
			}
			mkdir(t, filepath.Join(dir, "OLD-KEY-BACKUP"))
			key, err := os.ReadFile(filepath.Join(old, "log-key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "OLD-KEY-BACKUP", "log-key.pem"), string(key))
		}},
		{file: "docs/operations.md", n: 2, why: "installs the systemd unit as root, under systemd as PID 1; TestSystemdUnit verifies the unit and runs its ExecStart"},
		{file: "docs/operations.md", n: 3, mode: "serves", why: "serving log.example.org/tech-accord ",
			subst: []string{"/etc/pledgelog/postgres-dsn", "postgres-dsn", "/srv/pledgelog", "srv/pledgelog"},
			setup: func(t *testing.T, _ *docRun, dir string) {
				// A database of the test's own (skipped without PostgreSQL, failed under CI=true).
				if err := os.WriteFile(filepath.Join(dir, "postgres-dsn"), []byte(pgtest.NewDatabase(t)+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}},
		{file: "docs/operations.md", n: 4, why: "stops and starts the systemd unit; TestPostgresSchemaVersion runs migrate-schema on an older schema"},
		{file: "docs/operations.md", n: 5, why: "paths of a real host; TestMigrate migrates both ways and compares the logs"},
		{file: "docs/performance.md", n: 0, why: "benchmarks: minutes each"},
		{file: "docs/performance.md", n: 1, why: "a benchmark that builds a log of a million entries"},
		{file: "docs/performance.md", n: 2, why: "a benchmark: minutes"},
		{file: "docs/reliability.md", n: 0, why: "a benchmark of 40,000 entries"},
		{file: "docs/reliability.md", n: 1, why: "the chaos tests: an hour"},
		{file: "docs/reliability.md", n: 2, why: "the chaos tests: an hour"},
		{file: "docs/witness.md", n: 0, mode: "run", why: "witness.example.com/w1+", subst: witnessPaths, setup: func(t *testing.T, _ *docRun, dir string) {
			mkdir(t, filepath.Join(dir, "etc/pledge-witness"))
		}},
		{file: "docs/witness.md", n: 1, mode: "serves", why: "witnessing at ", subst: witnessPaths, setup: func(t *testing.T, r *docRun, dir string) {
			// The key of the block before, and a policy with the log it witnesses.
			etc := filepath.Join(dir, "etc/pledge-witness")
			mkdir(t, etc)
			if out, err := exec.Command(verifyBinary, "witness", "keygen", "--name", "witness.example.com/w1", "--out", filepath.Join(etc, "key")).CombinedOutput(); err != nil {
				t.Fatalf("witness keygen: %v: %s", err, out)
			}
			write(t, filepath.Join(etc, "policy"), "log "+r.vkey()+"\nquorum none\n")
		}},
		{file: "docs/witness.md", n: 2, mode: "run", why: "\n" + demoOrigin + "\n", setup: func(t *testing.T, r *docRun, _ string) {
			// The checkpoint w1 cosigned: wait until it did (two of three suffice).
			pol, _ := readPolicyFile(t, filepath.Join(r.data, "demo-witnesses", "policy"))
			path := fmt.Sprintf("%s/%x/checkpoint", pol.Witnesses()[0].URL, sha256.Sum256([]byte(demoOrigin)))
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				resp, err := http.Get(path)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("w1 cosigned nothing in 20s: GET %s: %v", path, err)
				}
			}
		}},
	}
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	for _, b := range table {
		listed[b.file]++
	}
	for _, f := range append(files, "../../README.md") {
		name := strings.TrimPrefix(f, "../../")
		if n := len(shBlocks(readDoc(t, name))); n != listed[name] {
			t.Errorf("%s has %d sh blocks, the table lists %d: add each to it", name, n, listed[name])
		}
	}
	r := startDocDemo(t)
	for _, b := range table {
		if b.mode == "elsewhere" {
			continue
		}
		t.Run(fmt.Sprintf("%s#%d", b.file, b.n), func(t *testing.T) {
			blocks := shBlocks(readDoc(t, b.file))
			if b.n >= len(blocks) {
				t.Fatalf("%s has no sh block %d", b.file, b.n)
			}
			text := blocks[b.n]
			switch b.mode {
			case "run":
				r.run(t, b.file, text, b.why, b.subst, b.setup)
			case "serves":
				r.serves(t, b.file, text, b.why, b.subst, b.setup)
			default:
				t.Skipf("not run: %s:\n%s", b.why, text)
			}
		})
	}
}

// vkey is the log's verifier key, from its banner.
func (r *docRun) vkey() string {
	for _, line := range r.stdout {
		if v, ok := strings.CutPrefix(line, "vkey: "); ok {
			return v
		}
	}
	r.t.Fatalf("no vkey in the banner %q", r.stdout)
	return ""
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, name string) {
	t.Helper()
	if err := os.MkdirAll(name, 0o700); err != nil {
		t.Fatal(err)
	}
}
