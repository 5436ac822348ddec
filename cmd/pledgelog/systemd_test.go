package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unitFile is the systemd unit that docs/operations.md installs.
const unitFile = "../../contrib/systemd/pledgelog.service"

// unitSettings returns the [Service] settings of the unit: each key with
// its values in order.
func unitSettings(t *testing.T, unit string) map[string][]string {
	t.Helper()
	f, err := os.Open(unit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is not KEY=VALUE", unit, line)
			}
			settings[k] = append(settings[k], v)
		}
	}
	return settings
}

// TestSystemdUnit checks contrib/systemd/pledgelog.service: that it has
// the sandboxing docs/operations.md promises; that systemd-analyze verify
// finds nothing to say about it (an unknown key, a misspelt system call
// group, a missing binary: verify only warns about the first two, so any
// output fails) and systemd-analyze security rates its exposure at most
// 2.0 ("OK"), with the test's pledgelog in ExecStart; and that its
// ExecStart, with the data directory made here, serves. It cannot run the
// unit under systemd itself: the tests run where systemd is not PID 1.
func TestSystemdUnit(t *testing.T) {
	s := unitSettings(t, unitFile)
	for k, want := range map[string]string{
		"DynamicUser": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "ProtectSystem": "strict",
		"ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "StateDirectory": "pledgelog pledgelog-backup",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute": "yes", "UMask": "0077",
		"SystemCallArchitectures": "native", "ExecReload": "/bin/kill -HUP $MAINPID",
	} {
		if got := s[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if got := strings.Join(s["SystemCallFilter"], " "); got != "@system-service ~@privileged" {
		t.Errorf("SystemCallFilter=%q, want @system-service, then ~@privileged", got)
	}
	exec0 := s["ExecStart"]
	if len(exec0) != 1 || !strings.HasPrefix(exec0[0], "/usr/local/bin/pledgelog serve --data /var/lib/pledgelog") {
		t.Fatalf("ExecStart=%q, want /usr/local/bin/pledgelog serve --data /var/lib/pledgelog", exec0)
	}

	// The ExecStart command serves a log made as the doc says (init into
	// the state directory), with the settings of the environment file.
	d, _ := mustInit(t)
	args := strings.Fields(strings.Replace(exec0[0], "/var/lib/pledgelog", string(d), 1))[1:]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cleanEnv(), "PLEDGELOG_LISTEN=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.HasPrefix(line, "serving example.com/cmd-test at http://127.0.0.1:") {
		t.Errorf("ExecStart printed %q (%v): %s", line, err, stderr.String())
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is not installed (apt-get install systemd)")
		}
		t.Skip("SKIP: systemd-analyze is not installed (apt-get install systemd): the unit is not verified")
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "pledgelog.service")
	if err := os.WriteFile(local, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/pledgelog", binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", local).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v: %s", err, out)
	}
	// --threshold is ten times the printed exposure: fail above 2.0.
	out, err = exec.Command(analyze, "security", "--offline=true", "--threshold=20", "--no-pager", local).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security rates the unit above 2.0 (%v):\n%s", err, out)
	}
}
