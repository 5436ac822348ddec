package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pledgelog/pledgelog/cmd/internal/clitest"
)

// TestBadInputCLI runs testdata/badinput/cli.json: every file and flag
// pledgelog reads, given bad data, must end with the documented exit
// status (2 for bad usage, 1 for a failure) and a message naming the
// flag or file, never a panic. Each case has its own copy of a stopped
// demo log in data/, whose files it may overwrite; {{url}} is a running
// demo log and {{regkey}} its registrar key.
func TestBadInputCLI(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "data")
	if code, _, stderr := pledgelog(t, nil, "init", "--demo", "--demo-seed", badSeed, "--data", tmpl, "--origin", badOrigin); code != 0 {
		t.Fatalf("init --demo = %d: %s", code, stderr)
	}
	running := dataDir(filepath.Join(t.TempDir(), "running"))
	if out, err := exec.Command("cp", "-a", tmpl, string(running)).CombinedOutput(); err != nil {
		t.Fatalf("copying the data directory: %v: %s", err, out)
	}
	srv, _ := startServeArgs(t, running)
	suite := &clitest.Suite{Binary: binary, Env: cleanEnv(),
		Vars: map[string]string{"url": srv.url, "regkey": running.demoKeyFile(), "origin": badOrigin},
		Prepare: func(t *testing.T, dir string) {
			if out, err := exec.Command("cp", "-a", tmpl, filepath.Join(dir, "data")).CombinedOutput(); err != nil {
				t.Fatalf("copying the data directory: %v: %s", err, out)
			}
		}}
	suite.Run(t, "testdata/badinput/cli.json")
	srv.stop(t)
	if _, err := os.Stat(running.urlFile()); err == nil {
		t.Error("serve left serve.url behind")
	}
}
