package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify"
)

const accord = "cybersecurity-tech-accord-2018"

func TestSignSubmitStatus(t *testing.T) {
	for _, typ := range []string{"ed25519", "ecdsa-p256"} {
		t.Run(typ, func(t *testing.T) {
			e := newEnv(t)
			id := "acme-" + strings.TrimPrefix(typ, "ecdsa-")
			e.register(id, "--type", typ)
			if info, err := os.Stat(filepath.Join(e.dir, "config", "key.pem")); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("keygen: private key %v, want mode 0600", err)
			}
			e.must("pledge", "sign", "--signatory", id, "--accord", accord, "--principle", "stronger-defense",
				"--status", "committed", "--statement", "We commit.", "--evidence", "https://acme.example/report")
			r := e.must("pledge", "submit", "--in", "envelope.json", "--json")
			var out struct {
				Index   uint64 `json:"index"`
				Created bool   `json:"created"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || !out.Created {
				t.Fatalf("submit --json printed %q (%v)", r.stdout, err)
			}
			if _, err := os.Stat(filepath.Join(e.dir, "envelope.bundle.json")); err != nil {
				t.Errorf("submit kept no bundle: %v", err)
			}
			again := e.must("pledge", "submit", "--in", "envelope.json")
			if !strings.Contains(again.stdout, "duplicate") {
				t.Errorf("second submit = %q, want a duplicate", again.stdout)
			}
			st := e.must("pledge", "status", "--id", id)
			if !strings.Contains(st.stdout, "stronger-defense committed") || strings.Contains(st.stdout, "ALARM") {
				t.Errorf("status printed %q", st.stdout)
			}
		})
	}
}

// TestSignFile signs a pledge given as a JSON file, with supersedes.
func TestSignFile(t *testing.T) {
	e := newEnv(t)
	e.register("fileco")
	e.must("pledge", "sign", "--signatory", "fileco", "--accord", accord, "--principle", "no-offense",
		"--status", "committed", "--statement", "First.", "--out", "first.json")
	var first struct {
		Index uint64 `json:"index"`
	}
	json.Unmarshal([]byte(e.must("pledge", "submit", "--in", "first.json", "--json").stdout), &first)
	p := fmt.Sprintf(`{"signatory":"fileco","accord":%q,"principle":"no-offense","status":"progress",`+
		`"statement":"Second, from a file.","evidence":["https://fileco.example/r"],"effective":"2026-01-02","supersedes":%d}`, accord, first.Index)
	os.WriteFile(filepath.Join(e.dir, "pledge.json"), []byte(p), 0o644)
	e.must("pledge", "sign", "--file", "pledge.json", "--out", "second.json")
	e.must("pledge", "submit", "--in", "second.json")
	if r := e.must("pledge", "status", "--id", "fileco"); !strings.Contains(r.stdout, "no-offense progress") {
		t.Errorf("status after the superseding pledge:\n%s", r.stdout)
	}
}

func TestPinnedLogKey(t *testing.T) {
	e := newEnv(t)
	e.register("pinco")
	e.must("pledge", "sign", "--signatory", "pinco", "--accord", accord, "--principle", "no-offense",
		"--status", "committed", "--statement", "Pinned.")
	pub, _, _ := ed25519.GenerateKey(nil)
	other := verify.Ed25519VerifierKey("localhost/pledge-test", pub)
	r := e.run("pledge", "submit", "--in", "envelope.json", "--log-key", other)
	if r.code != 1 || !strings.Contains(r.stderr, "does not verify") {
		t.Errorf("submit with another pinned key = %d: %s", r.code, r.stderr)
	}
	info, err := client.New(logURL).Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	vkey := info.VerifierKey
	if r := e.run("pledge", "submit", "--in", "envelope.json", "--log-key", vkey); r.code != 0 || strings.Contains(r.stderr, "WARNING") {
		t.Errorf("submit with the right pinned key = %d: %s", r.code, r.stderr)
	}
}

// TestStatusAlarms shows the alarms of status: a recover event and a key
// the signatory did not make.
func TestStatusAlarms(t *testing.T) {
	e := newEnv(t)
	e.register("victim")
	thief := newEnv(t)
	thief.must("pledge", "keygen")
	thief.must("pledge", "request", "--action", "recover", "--id", "victim")
	thief.must("pledgelog", "signatory", "recover", "--registrar-key", registrarKey(), "--request", "request.json",
		"--id", "victim", "--key", filepath.Join(thief.dir, "config", "key.pub.pem"))
	r := e.run("pledge", "status", "--id", "victim")
	if r.code != 1 || !strings.Contains(r.stdout, "ALARM: RECOVER") || !strings.Contains(r.stdout, "ALARM: UNKNOWN KEY") {
		t.Errorf("status after a foreign recover = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The thief knows the recovered key but not the first one.
	if r := thief.run("pledge", "status", "--id", "victim"); r.code != 1 || strings.Contains(r.stdout, "RECOVER") {
		t.Errorf("status of the recoverer = %d:\n%s", r.code, r.stdout)
	}
}

func TestAddKey(t *testing.T) {
	e := newEnv(t)
	e.register("twokeys")
	e.must("pledge", "keygen", "--type", "ecdsa-p256", "--out", "config/second.pem")
	e.must("pledge", "add-key", "--id", "twokeys", "--new-key", "config/second.pem")
	e.must("pledge", "sign", "--key", "config/second.pem", "--signatory", "twokeys", "--accord", accord,
		"--principle", "capacity-building", "--status", "progress", "--statement", "With the second key.")
	e.must("pledge", "submit", "--key", "config/second.pem")
	if r := e.must("pledge", "status", "--id", "twokeys"); strings.Count(r.stdout, "yours") != 2 {
		t.Errorf("status after add-key:\n%s", r.stdout)
	}
}

// TestErrors runs every error path of the CLI: the exit status and a
// message that names the flag or field.
func TestErrors(t *testing.T) {
	e := newEnv(t)
	e.register("errco")
	signArgs := func(extra ...string) []string {
		return append([]string{"sign", "--signatory", "errco", "--accord", accord, "--principle", "stronger-defense",
			"--status", "committed", "--statement", "x"}, extra...)
	}
	os.WriteFile(filepath.Join(e.dir, "pledge.json"), []byte(`{"signatory":"errco","colour":"red"}`), 0o644)
	os.WriteFile(filepath.Join(e.dir, "garbage.json"), []byte(`{"payload":"x"}`), 0o644)
	stranger := newEnv(t)
	stranger.must("pledge", "keygen")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"sign", "--colour", "red"}, 2, "colour"},
		{"keygen type", []string{"keygen", "--type", "rsa"}, 2, "--type"},
		{"keygen overwrite", []string{"keygen"}, 2, "refusing to overwrite"},
		{"sign without signatory", []string{"sign", "--accord", accord}, 2, "--signatory"},
		{"sign bad status", signArgs("--status", "maybe"), 2, "--status"},
		{"sign bad evidence", signArgs("--evidence", "http://plain.example"), 2, "--evidence"},
		{"sign bad date", signArgs("--effective", "2026-13-01"), 2, "--effective"},
		{"sign bad supersedes", signArgs("--supersedes", "first"), 2, "--supersedes"},
		{"sign unknown accord", []string{"sign", "--signatory", "errco", "--accord", "nope", "--principle", "p", "--status", "committed", "--statement", "x"}, 2, "--accord"},
		{"sign file and flags", []string{"sign", "--file", "pledge.json", "--status", "committed"}, 2, "--file"},
		{"sign file unknown field", []string{"sign", "--file", "pledge.json"}, 2, "colour"},
		{"sign missing key", signArgs("--key", "nokey.pem"), 2, "pledge keygen"},
		{"sign no log", signArgs("--url", "http://127.0.0.1:1"), 2, "--url"},
		{"submit missing file", []string{"submit", "--in", "missing.json"}, 2, "--in"},
		{"submit not an envelope", []string{"submit", "--in", "garbage.json"}, 2, "not a canonical envelope"},
		{"status without id", []string{"status"}, 2, "--id"},
		{"status unknown signatory", []string{"status", "--id", "nobody-here"}, 2, "signatory-not-found"},
		{"status no known keys", []string{"status", "--id", "errco", "--known-keys", "."}, 2, "--known-keys"},
		{"request without name", []string{"request", "--id", "x"}, 2, "--name"},
		{"request bad action", []string{"request", "--id", "x", "--action", "adopt"}, 2, "--action"},
		{"request bad id", []string{"request", "--id", "Bad Id", "--name", "B"}, 2, "--id"},
		{"add-key without new key", []string{"add-key", "--id", "errco"}, 2, "--new-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run("pledge", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("pledge %q = %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
	// A key the log does not know cannot get a session.
	stranger.must("pledge", "sign", "--signatory", "errco", "--accord", accord, "--principle", "no-offense",
		"--status", "committed", "--statement", "Not mine.")
	if r := stranger.run("pledge", "submit"); r.code != 2 || !strings.Contains(r.stderr, "401 unauthorized") {
		t.Errorf("submit with an unregistered key = %d: %s", r.code, r.stderr)
	}
}

// TestReadme runs the walk-through of README.md's "For signatories"
// section as a script, with the binaries on PATH, against the test log
// standing in for make run's.
func TestReadme(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## For signatories\n")
	if !ok {
		t.Fatal(`README.md has no "## For signatories" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) == 0 {
		t.Fatal("the section has no sh code block")
	}
	var script strings.Builder
	script.WriteString("set -eux\n")
	for _, m := range blocks {
		script.WriteString(m[1])
	}
	dir := t.TempDir()
	if err := os.Symlink(dataDir, filepath.Join(dir, "pledgelog-data")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "PLEDGE_URL="+logURL, "PLEDGELOG_URL="+logURL,
		"PLEDGE_CONFIG_DIR="+filepath.Join(dir, "config"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README walk-through failed: %v\n%s", err, out)
	}
}

// TestOutputsReplaced checks that sign and submit replace their output
// files whole (a new file renamed into place) instead of rewriting them in
// place, where a crash midway would leave half an envelope or bundle: a
// hard link to the old file keeps the old bytes.
func TestOutputsReplaced(t *testing.T) {
	e := newEnv(t)
	e.register("atomco")
	old := []byte("the old bytes\n")
	for _, name := range []string{"envelope.json", "envelope.bundle.json"} {
		if err := os.WriteFile(filepath.Join(e.dir, name), old, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(filepath.Join(e.dir, name), filepath.Join(e.dir, name+".link")); err != nil {
			t.Fatal(err)
		}
	}
	e.must("pledge", "sign", "--signatory", "atomco", "--accord", accord, "--principle", "no-offense",
		"--status", "committed", "--statement", "Replaced whole.")
	e.must("pledge", "submit", "--in", "envelope.json")
	for _, name := range []string{"envelope.json", "envelope.bundle.json"} {
		if b, _ := os.ReadFile(filepath.Join(e.dir, name+".link")); !bytes.Equal(b, old) {
			t.Errorf("%s was rewritten in place: its old inode now holds %d bytes", name, len(b))
		}
		if b, _ := os.ReadFile(filepath.Join(e.dir, name)); bytes.Equal(b, old) || len(b) == 0 {
			t.Errorf("%s was not replaced", name)
		}
	}
}
