package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// startWitnessedDemo runs pledgelog demo on data (made on first use) for
// the witness tests' origin and seed, and returns it with the witnessedLog
// that submits to it under the demo's policy.
func startWitnessedDemo(t *testing.T, data string) (*demoRun, *witnessedLog) {
	t.Helper()
	r := startBanner(t, []string{"demo", "--data", data, "--origin", witnessOrigin, "--demo-seed", witnessSeed,
		"--listen", "127.0.0.1:0", "--publish-interval", "50ms", "--max-staleness", "1s", "--log-level", "debug"})
	vkey, _ := strings.CutPrefix(r.stdout[len(r.stdout)-2], "vkey: ")
	wl := &witnessedLog{t: t, d: dataDir(data), vkey: vkey}
	wl.policy = filepath.Join(wl.d.demoWitnessDir(), "policy")
	wl.pol, _ = readPolicyFile(t, wl.policy)
	var err error
	if wl.demo, err = attest.NewDemo(witnessOrigin, []byte(witnessSeed)); err != nil {
		t.Fatal(err)
	}
	return r, wl
}

// waitCovered waits up to 20s for r's /checkpoint to meet wl's policy
// and cover entry index.
func (r *demoRun) waitCovered(wl *witnessedLog, index uint64) {
	r.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); wl.cosigned(r.url) <= index; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("no cosigned checkpoint covering entry %d after 20s: %s", index, r.stderr.String())
		}
	}
}

// killWitness SIGKILLs the demo's witness name (w1, w2 or w3), by the pid
// the demo logged, and waits until it no longer answers.
func (r *demoRun) killWitness(wl *witnessedLog, name string) {
	r.t.Helper()
	m := regexp.MustCompile(`"demo witness started" witness=` + name + ` url=(\S+) pid=(\d+)`).FindStringSubmatch(r.stderr.String())
	if m == nil {
		r.t.Fatalf("the demo logged no pid for witness %s: %s", name, r.stderr.String())
	}
	pid, _ := strconv.Atoi(m[2])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		r.t.Fatalf("killing witness %s (pid %d): %v", name, pid, err)
	}
	waitDown(r.t, []string{m[1]})
}

// pledgeVerify runs the real pledge-verify and returns its exit code and
// its stdout and stderr together.
func pledgeVerify(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(verifyBinary, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// wantVerify runs pledge-verify and fails the test unless it exits with
// code and prints each of contains.
func wantVerify(t *testing.T, code int, contains []string, args ...string) string {
	t.Helper()
	got, out := pledgeVerify(t, args...)
	t.Logf("pledge-verify %s = %d:\n%s", strings.Join(args, " "), got, out)
	if got != code {
		t.Errorf("pledge-verify %s = %d, want %d:\n%s", strings.Join(args, " "), got, code, out)
	}
	for _, c := range contains {
		if !strings.Contains(out, c) {
			t.Errorf("pledge-verify %s: output lacks %q:\n%s", strings.Join(args, " "), c, out)
		}
	}
	return out
}

// registrarID is the hex key id of the demo's registrar key.
func (wl *witnessedLog) registrarID() string {
	pk, err := attest.NewPublicKey(wl.demo.Registrar.Public())
	if err != nil {
		wl.t.Fatal(err)
	}
	return pk.ID()
}

// cosignedBy matches pledge-verify's line for one witness's cosignature.
var cosignedBy = regexp.MustCompile(`cosigned by witness (localhost/demo-witness-\d)\+[0-9a-f]{8} at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// TestBundleRefreshQuorum runs pledge-verify bundle --refresh against the
// demo's three real witnesses and its policy of two: the bundle a
// submission returns is not cosigned and fails the policy; refreshed, it
// is on the latest cosigned checkpoint, and pledge-verify says who
// cosigned and when. With one witness down, a policy of all three fails;
// with two down, the log publishes nothing new and refreshing an entry it
// has not published fails saying so, leaving the bundle as it was.
func TestBundleRefreshQuorum(t *testing.T) {
	r, wl := startWitnessedDemo(t, filepath.Join(t.TempDir(), "data"))
	trust := []string{"--policy", wl.policy, "--registrar-key", wl.registrarID()}
	bundleOf := func(name string, data []byte) string {
		file := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}

	i, _, data := wl.submitBundle(r.url)
	file := bundleOf("a.bundle.json", data)
	wantVerify(t, 1, []string{"quorum", "none of the policy's 3 witnesses cosigned it", "add --refresh URL"}, append([]string{"bundle", file}, trust...)...)
	r.waitCovered(wl, i)
	out := wantVerify(t, 0, []string{"verified:", "of microsoft", "witness quorum met"}, append([]string{"bundle", file, "--refresh", r.url}, trust...)...)
	if who := cosignedBy.FindAllStringSubmatch(out, -1); len(who) < 2 {
		t.Errorf("a refreshed bundle names %d cosigners, want at least 2:\n%s", len(who), out)
	}
	wantVerify(t, 0, []string{"witness quorum met"}, append([]string{"bundle", file}, trust...)...) // saved refreshed

	// w3 down: w1 and w2 cosign; a policy that wants all three fails.
	r.killWitness(wl, "w3")
	i, _, data = wl.submitBundle(r.url)
	file = bundleOf("b.bundle.json", data)
	r.waitCovered(wl, i)
	out = wantVerify(t, 0, []string{"witness quorum met"}, append([]string{"bundle", file, "--refresh", r.url}, trust...)...)
	var names []string
	for _, m := range cosignedBy.FindAllStringSubmatch(out, -1) {
		names = append(names, m[1])
	}
	if strings.Join(names, " ") != "localhost/demo-witness-1 localhost/demo-witness-2" {
		t.Errorf("with w3 down, pledge-verify says the cosigners were %q:\n%s", names, out)
	}
	b, _ := os.ReadFile(wl.policy)
	allText := bytes.Replace(b, []byte("group demo-witnesses 2 "), []byte("group demo-witnesses all "), 1)
	if p, err := policy.Parse(allText); err != nil || p.Met([]bool{true, true, false}) {
		t.Fatalf("could not make a policy of all three: %v\n%s", err, allText)
	}
	all := bundleOf("all.policy", allText)
	short := []string{"quorum", "cosigned by 2 of the policy's 3 witnesses", "not by localhost/demo-witness-3+"}
	wantVerify(t, 1, short, "bundle", file, "--policy", all, "--registrar-key", wl.registrarID())
	wantVerify(t, 1, short, "bundle", file, "--policy", all, "--registrar-key", wl.registrarID(), "--refresh", r.url)

	// w2 down too: no quorum, so the log publishes no checkpoint with the
	// new entry; refreshing its bundle fails, and says why.
	r.killWitness(wl, "w2")
	i, _, data = wl.submitBundle(r.url)
	file = bundleOf("c.bundle.json", data)
	time.Sleep(300 * time.Millisecond) // six publish intervals
	if got := wl.cosigned(r.url); got > i {
		t.Fatalf("the log published size %d with one witness of three", got)
	}
	wantVerify(t, 1, []string{"entry " + strconv.FormatUint(i, 10), "not cosigned by a quorum of witnesses yet", "try again"},
		append([]string{"bundle", file, "--refresh", r.url}, trust...)...)
	if after, _ := os.ReadFile(file); !bytes.Equal(after, data) {
		t.Error("a failed refresh changed the bundle")
	}
}
