package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/client"
)

// otherVKey is a verifier key of another log (c2sp.org/signed-note's
// example).
const otherVKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

// unreachable is a URL where nothing listens.
const unreachable = "http://127.0.0.1:1"

// exitCase is a command line of one class of error and the exit status the
// rule gives it: 0 success or verified, 1 verification failed, 2 usage,
// unreadable input or network.
type exitCase struct {
	class string // "ok", "usage", "missing file", "network", "refused", "verification"
	args  []string
	code  int
}

// TestExitCodeRule asserts the one exit status rule of pledge, pledgelog
// and pledge-verify: for every command that their completion lists, -h and
// --help print its help on stdout and exit 0, an unknown flag exits 2;
// every command group's -h exits 0 and a missing subcommand 2; and each
// command's cases of the classes of error that apply to it (a missing
// input file, the network, a refusal, a failed verification) end with the
// rule's status. Every command must have a case beyond -h.
func TestExitCodeRule(t *testing.T) {
	e := newEnv(t)
	e.register("exitco")
	e.must("pledge", "sign", "--signatory", "exitco", "--accord", accord, "--principle", "stronger-defense",
		"--status", "committed", "--statement", "For the exit status table.")
	e.must("pledge", "submit")
	info, err := client.New(logURL).Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	regID := strings.TrimSpace(e.must("pledgelog", "registrar", "key", "--id", "--data", dataDir).stdout)
	missing := filepath.Join(e.dir, "nosuch.json")
	rk := registrarKey()
	pin := []string{"--log-key", info.VerifierKey, "--registrar-key", regID}
	os.WriteFile(filepath.Join(e.dir, "accord.json"), []byte(`{"id":"x","title":"X","text":"t","principles":[{"id":"p","title":"P","text":"t"}]}`), 0o644)

	sign := func(extra ...string) []string {
		return append([]string{"--signatory", "exitco", "--accord", accord, "--principle", "stronger-defense",
			"--status", "committed", "--statement", "x"}, extra...)
	}
	table := map[string]map[string][]exitCase{
		"pledge": {
			"keygen":      {{"usage", []string{"--type", "rsa"}, 2}, {"refused", []string{}, 2}},
			"request":     {{"missing file", []string{"--id", "x", "--name", "X", "--key", missing}, 2}, {"network", []string{"--id", "x", "--name", "X", "--url", unreachable}, 2}},
			"sign":        {{"missing file", []string{"--file", missing}, 2}, {"missing file", sign("--key", missing), 2}, {"network", sign("--url", unreachable), 2}, {"refused", sign("--accord", "nosuch"), 2}},
			"submit":      {{"missing file", []string{"--in", missing}, 2}, {"usage", []string{"--log-key", "garbage"}, 2}, {"usage", []string{"--log-key", otherVKey}, 2}, {"network", []string{"--url", unreachable}, 2}, {"ok", []string{"--log-key", info.VerifierKey}, 0}},
			"add-key":     {{"missing file", []string{"--id", "exitco", "--new-key", missing}, 2}, {"usage", []string{"--id", "exitco"}, 2}},
			"verify":      {{"missing file", []string{"--bundle", missing}, 2}, {"verification", []string{"--log-key", otherVKey}, 1}, {"network", []string{"--url", unreachable}, 2}, {"ok", []string{"--log-key", info.VerifierKey}, 0}},
			"status":      {{"usage", []string{}, 2}, {"missing file", []string{"--id", "exitco", "--known-keys", missing}, 2}, {"network", []string{"--id", "exitco", "--url", unreachable}, 2}, {"refused", []string{"--id", "nobody-here"}, 2}, {"ok", []string{"--id", "exitco"}, 0}},
			"revoke-key":  {{"usage", []string{"--id", "exitco"}, 2}, {"missing file", []string{"--id", "exitco", "--keyid", strings.Repeat("a", 64), "--reason", "superseded", "--key", missing}, 2}, {"network", []string{"--id", "exitco", "--keyid", strings.Repeat("a", 64), "--reason", "superseded", "--url", unreachable}, 2}, {"refused", []string{"--id", "exitco", "--keyid", strings.Repeat("a", 64), "--reason", "superseded"}, 2}},
			"fingerprint": {{"missing file", []string{"--key", missing}, 2}, {"usage", []string{"--log-key", "garbage"}, 2}, {"network", []string{"--url", unreachable}, 2}, {"ok", []string{}, 0}},
			"export":      {{"missing file", []string{"--in", missing}, 2}, {"ok", []string{"--out", "sigstore.json"}, 0}},
			"completion":  {{"usage", []string{"fish"}, 2}, {"ok", []string{"bash"}, 0}},
			"version":     {{"usage", []string{"x"}, 2}, {"ok", []string{}, 0}},
		},
		"pledgelog": {
			"accord add":           {{"missing file", []string{"--file", missing, "--registrar-key", rk}, 2}, {"missing file", []string{"--file", "accord.json", "--registrar-key", missing}, 2}, {"network", []string{"--file", "accord.json", "--registrar-key", rk, "--url", unreachable}, 2}},
			"signatory register":   {{"missing file", []string{"--request", missing, "--id", "x", "--key", missing, "--registrar-key", rk}, 2}},
			"signatory recover":    {{"missing file", []string{"--request", missing, "--id", "x", "--key", missing, "--registrar-key", rk}, 2}},
			"signatory revoke-key": {{"missing file", []string{"--id", "exitco", "--keyid", strings.Repeat("a", 64), "--reason", "superseded", "--registrar-key", missing}, 2}, {"network", []string{"--id", "exitco", "--keyid", strings.Repeat("a", 64), "--reason", "superseded", "--registrar-key", rk, "--url", unreachable}, 2}, {"refused", []string{"--id", "exitco", "--keyid", strings.Repeat("a", 64), "--reason", "superseded", "--registrar-key", rk}, 2}},
			"signatory list":       {{"network", []string{"--url", unreachable}, 2}, {"ok", []string{}, 0}},
			"registrar key":        {{"missing file", []string{"--data", missing}, 2}, {"ok", []string{"--data", dataDir}, 0}},
			"registrar rotate":     {{"missing file", []string{"--new-key", missing, "--registrar-key", rk}, 2}},
			"key add":              {{"missing file", []string{"--data", missing}, 2}},
			"key finish":           {{"missing file", []string{"--data", missing}, 2}},
			"init":                 {{"missing file", []string{"--data", filepath.Join(e.dir, "new"), "--origin", "example.com/x", "--registrar-pub", missing, "--genesis", missing}, 2}},
			"serve":                {{"missing file", []string{"--data", missing, "--listen", "127.0.0.1:0"}, 2}},
			"demo":                 {{"usage", []string{"--log-level", "loud"}, 2}},
			"backup":               {{"missing file", []string{"--data", missing, "--out", filepath.Join(e.dir, "b")}, 2}},
			"reindex":              {{"missing file", []string{"--data", missing}, 2}},
			"migrate-schema":       {{"missing file", []string{"--data", missing}, 2}},
			"migrate":              {{"missing file", []string{"--from", missing, "--to", filepath.Join(e.dir, "migrated")}, 2}},
			"bench":                {{"usage", []string{"--batch", "1000"}, 2}},
			"completion":           {{"usage", []string{}, 2}, {"ok", []string{"zsh"}, 0}},
			"version":              {{"ok", []string{}, 0}},
		},
		"pledge-verify": {
			"bundle":         {{"missing file", append([]string{missing}, pin...), 2}, {"usage", []string{"envelope.bundle.json"}, 2}, {"verification", []string{"envelope.bundle.json", "--log-key", otherVKey, "--registrar-key", regID}, 1}, {"ok", append([]string{"envelope.bundle.json"}, pin...), 0}},
			"inclusion":      {{"missing file", append([]string{"--url", logURL, "--entry", missing}, pin...), 2}, {"network", append([]string{"--url", unreachable, "--index", "1"}, pin...), 2}, {"ok", append([]string{"--url", logURL, "--index", "1"}, pin...), 0}},
			"consistency":    {{"network", append([]string{"--url", unreachable, "--state", filepath.Join(e.dir, "cst")}, pin...), 2}},
			"audit":          {{"network", append([]string{"--url", unreachable, "--state", filepath.Join(e.dir, "ast")}, pin...), 2}},
			"lookup":         {{"usage", append([]string{"--url", logURL, "--keyid", strings.Repeat("a", 64)}, pin...), 2}, {"network", append([]string{"--url", unreachable, "--signatory", "exitco"}, pin...), 2}, {"verification", []string{"--url", logURL, "--signatory", "exitco", "--log-key", otherVKey}, 1}, {"ok", append([]string{"--url", logURL, "--signatory", "exitco"}, pin...), 0}},
			"monitor":        {{"network", append([]string{"--url", unreachable, "--once", "--signatory", "exitco", "--state", filepath.Join(e.dir, "mst")}, pin...), 2}},
			"witness keygen": {{"usage", []string{"--out", filepath.Join(e.dir, "w.key")}, 2}},
			"witness serve":  {{"missing file", []string{"--key", missing, "--policy", missing, "--state", e.dir, "--listen", "127.0.0.1:0"}, 2}},
			"completion":     {{"ok", []string{"bash"}, 0}},
			"version":        {{"ok", []string{}, 0}},
		},
	}
	for prog, cmds := range table {
		t.Run(prog, func(t *testing.T) {
			listed := e.must(prog, "completion", "commands").stdout
			groups := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(listed), "\n") {
				words := strings.Fields(line)
				path := words[:1]
				if len(words) > 1 && !strings.HasPrefix(words[1], "--") {
					path = words[:2]
					groups[words[0]] = true
				}
				name := strings.Join(path, " ")
				if len(cmds[name]) == 0 {
					t.Errorf("%s %s: no case of its errors in the table", prog, name)
				}
				for _, h := range []string{"-h", "--help"} {
					r := e.run(prog, append(slices.Clone(path), h)...)
					if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: ") || r.stderr != "" {
						t.Errorf("%s %s %s = %d, stdout %.80q, stderr %q; want 0 and the help on stdout", prog, name, h, r.code, r.stdout, r.stderr)
					}
					for _, flag := range words[len(path):] {
						if strings.HasPrefix(flag, "--") && !strings.Contains(r.stdout, "  "+flag+" ") {
							t.Errorf("%s %s %s does not list %s", prog, name, h, flag)
						}
					}
				}
				if r := e.run(prog, append(slices.Clone(path), "--no-such-flag")...); r.code != 2 {
					t.Errorf("%s %s --no-such-flag = %d, want 2", prog, name, r.code)
				}
				for _, c := range cmds[name] {
					r := e.run(prog, append(slices.Clone(path), c.args...)...)
					if r.code != c.code {
						t.Errorf("%s %s %q (%s) = %d, want %d:\n%s%s", prog, name, c.args, c.class, r.code, c.code, r.stdout, r.stderr)
					}
				}
			}
			for g := range groups {
				if r := e.run(prog, g, "-h"); r.code != 0 || !strings.HasPrefix(r.stdout, "usage: ") {
					t.Errorf("%s %s -h = %d, stdout %q; want 0 and the help", prog, g, r.code, r.stdout)
				}
				for _, args := range [][]string{{g}, {g, "nosuch"}} {
					if r := e.run(prog, args...); r.code != 2 || !strings.Contains(r.stderr, "usage: ") {
						t.Errorf("%s %q = %d, stderr %q; want 2 and the usage", prog, args, r.code, r.stderr)
					}
				}
			}
			for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
				if r := e.run(prog, args...); r.code != 0 || !strings.HasPrefix(r.stdout, "usage: ") {
					t.Errorf("%s %q = %d; want 0 and the usage on stdout", prog, args, r.code)
				}
			}
		})
	}
}

// runEnv runs a binary as run does, with the variables vars added.
func (e *env) runEnv(vars []string, name string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir = e.dir
	cmd.Env = append(append(os.Environ(), "PLEDGE_URL="+logURL, "PLEDGELOG_URL="+logURL,
		"PLEDGE_CONFIG_DIR="+filepath.Join(e.dir, "config")), vars...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		e.t.Fatal(err)
	}
	return result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// TestEnvironment: pledge-verify's flags are PLEDGE_VERIFY_ variables, a
// repeatable flag on the command line takes none of its variable's
// values, and the generic names (PLEDGELOG_ID, PLEDGE_STATEMENT) are
// command line only: a variable left set does not change another run.
func TestEnvironment(t *testing.T) {
	e := newEnv(t)
	e.register("envco")
	e.must("pledge", "sign", "--signatory", "envco", "--accord", accord, "--principle", "stronger-defense",
		"--status", "committed", "--statement", "For the environment test.")
	e.must("pledge", "submit")
	info, err := client.New(logURL).Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	regID := strings.TrimSpace(e.must("pledgelog", "registrar", "key", "--id", "--data", dataDir).stdout)
	pinned := []string{"PLEDGE_VERIFY_LOG_KEY=" + info.VerifierKey, "PLEDGE_VERIFY_REGISTRAR_KEY=" + regID}
	if r := e.runEnv(pinned, "pledge-verify", "bundle", "envelope.bundle.json"); r.code != 0 {
		t.Errorf("bundle with PLEDGE_VERIFY_LOG_KEY and PLEDGE_VERIFY_REGISTRAR_KEY = %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.runEnv(pinned, "pledge-verify", "bundle", "envelope.bundle.json", "--log-key", otherVKey); r.code != 1 {
		t.Errorf("bundle --log-key OTHER with PLEDGE_VERIFY_LOG_KEY=the log's = %d, want 1 (the command line's key alone): %s", r.code, r.stderr)
	}
	if r := e.runEnv([]string{"PLEDGELOG_ID=true"}, "pledgelog", "registrar", "key", "--data", dataDir); r.code != 0 || !strings.HasPrefix(r.stdout, "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("registrar key with PLEDGELOG_ID=true = %d, %q: want the PEM key (--id is command line only)", r.code, r.stdout)
	}
	r := e.runEnv([]string{"PLEDGE_STATEMENT=left over"}, "pledge", "sign", "--signatory", "envco", "--accord", accord,
		"--principle", "stronger-defense", "--status", "committed")
	if r.code != 2 || !strings.Contains(r.stderr, "--statement is required") {
		t.Errorf("sign without --statement, PLEDGE_STATEMENT set = %d: %s; want 2, --statement is required", r.code, r.stderr)
	}
	if r := e.must("pledge", "sign", "-h"); !strings.Contains(r.stdout, "--statement STATEMENT (command line only)") ||
		!strings.Contains(r.stdout, "--url URL (PLEDGE_URL)") {
		t.Errorf("sign -h does not say --statement is command line only and --url is PLEDGE_URL:\n%s", r.stdout)
	}
}
