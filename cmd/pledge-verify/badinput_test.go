package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pledgelog/pledgelog/cmd/internal/clitest"
)

// TestBadInputCLI runs testdata/badinput/cli.json: every file and flag
// pledge-verify reads, given bad data, must end with the documented exit
// status (2 for a usage error or an unusable file, 1 for something that
// does not verify) and a message naming the flag or file, never a panic.
// Cases that need a log use a test server of the demo.
func TestBadInputCLI(t *testing.T) {
	s := newServer(t, "bad input")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bundle.json")
	if err := os.WriteFile(good, s.submit("microsoft", s.pledge("microsoft", 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.waitPublished()
	suite := &clitest.Suite{Binary: binary, Env: append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir),
		Vars: map[string]string{
			"url": s.url, "vkey": s.vkey(), "registrar": s.registrarID(), "bundle": good,
			"checkpoint_state": originFile(origin, ".checkpoint"), "monitor_state": originFile(origin, ".all.json"),
		}}
	suite.Run(t, "testdata/badinput/cli.json")
}
