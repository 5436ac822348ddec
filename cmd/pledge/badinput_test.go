package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pledgelog/pledgelog/cmd/internal/clitest"
)

// TestBadInputCLI runs testdata/badinput/cli.json: every file and flag
// pledge reads, given bad data, must end with the documented exit status
// (2 for bad usage, 1 for a failure) and a message naming the flag or
// file, never a panic. {{key}} and {{pub}} are a key pair the log does not
// know, {{bundle}} a saved proof bundle.
func TestBadInputCLI(t *testing.T) {
	e := newEnv(t)
	e.register("badinput")
	e.must("pledge", "sign", "--signatory", "badinput", "--accord", accord, "--principle", "stronger-defense",
		"--status", "committed", "--statement", "A pledge for the bad-input suite (test data).")
	e.must("pledge", "submit")
	cfg := filepath.Join(e.dir, "config")
	suite := &clitest.Suite{Binary: filepath.Join(bin, "pledge"),
		Env: append(os.Environ(), "PLEDGE_URL="+logURL, "PLEDGE_CONFIG_DIR=cfg"),
		Vars: map[string]string{"url": logURL, "accord": accord, "key": filepath.Join(cfg, "key.pem"),
			"pub": filepath.Join(cfg, "key.pub.pem"), "bundle": filepath.Join(e.dir, "envelope.bundle.json"),
			"envelope": filepath.Join(e.dir, "envelope.json")}}
	suite.Run(t, "testdata/badinput/cli.json")
}
