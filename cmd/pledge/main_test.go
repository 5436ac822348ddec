package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bin holds the pledge, pledgelog and pledge-verify binaries built by TestMain; logURL
// and dataDir are those of the demo log it serves for every test.
var bin, logURL, dataDir string

func TestMain(m *testing.M) {
	code, err := withServer(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func withServer(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "pledge-test")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", bin+"/", "github.com/pledgelog/pledgelog/cmd/pledge", "github.com/pledgelog/pledgelog/cmd/pledgelog",
		"github.com/pledgelog/pledgelog/cmd/pledge-verify")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("building: %v: %s", err, out)
	}
	dataDir = filepath.Join(dir, "data")
	initCmd := exec.Command(filepath.Join(bin, "pledgelog"), "init", "--demo", "--data", dataDir, "--origin", "localhost/pledge-test")
	if out, err := initCmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("init: %v: %s", err, out)
	}
	serve := exec.Command(filepath.Join(bin, "pledgelog"), "serve", "--data", dataDir, "--listen", "127.0.0.1:0",
		"--publish-interval", "10ms", "--ip-rate", "-1", "--signatory-rate", "-1")
	serve.Stderr = os.Stderr
	stdout, _ := serve.StdoutPipe()
	if err := serve.Start(); err != nil {
		return 0, err
	}
	defer func() { serve.Process.Kill(); serve.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, url, ok := strings.Cut(strings.TrimSpace(line), " at ")
	if err != nil || !ok {
		return 0, fmt.Errorf("serve printed %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	logURL = strings.TrimSuffix(url, "/")
	return m.Run(), nil
}

// result is the outcome of a command.
type result struct {
	code           int
	stdout, stderr string
}

// env is a test's environment: its own config directory and working
// directory, pointed at the test log.
type env struct {
	t   *testing.T
	dir string
}

func newEnv(t *testing.T) *env { return &env{t, t.TempDir()} }

// run runs a binary (pledge or pledgelog) in the env's directory.
func (e *env) run(name string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "PLEDGE_URL="+logURL, "PLEDGELOG_URL="+logURL,
		"PLEDGE_CONFIG_DIR="+filepath.Join(e.dir, "config"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		e.t.Fatal(err)
	}
	return result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// must runs a command that must succeed.
func (e *env) must(name string, args ...string) result {
	e.t.Helper()
	r := e.run(name, args...)
	if r.code != 0 {
		e.t.Fatalf("%s %q = %d:\n%s%s", name, args, r.code, r.stdout, r.stderr)
	}
	return r
}

// registrarKey is the demo log's registrar key file.
func registrarKey() string { return filepath.Join(dataDir, "demo-registrar-key.pem") }

// register makes a key and registers signatory id with it, through pledge
// request and pledgelog signatory register, as the docs say.
func (e *env) register(id string, keyArgs ...string) {
	e.t.Helper()
	e.must("pledge", append([]string{"keygen"}, keyArgs...)...)
	e.must("pledge", "request", "--id", id, "--name", "Test "+id, "--website", "https://"+id+".example")
	e.must("pledgelog", "signatory", "register", "--registrar-key", registrarKey(), "--request", "request.json",
		"--id", id, "--key", filepath.Join(e.dir, "config", "key.pub.pem"))
}
