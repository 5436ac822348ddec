package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyRotationVerifies rotates the log key of the witnessed demo with
// pledgelog key add and finish, and runs the real pledge-verify through
// it: during the overlap, bundles, inclusion and consistency verify with
// the old key pinned and with the new one, the witnesses (whose policies
// the demo rewrites) cosign checkpoints signed by both, and a bundle from
// before the rotation verifies with the new key once refreshed; after
// finish, the new key alone verifies everything, old bundles of the
// overlap included, and the old key alone fails.
func TestKeyRotationVerifies(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	r, wl := startWitnessedDemo(t, data)
	oldKey := wl.vkey
	reg := []string{"--registrar-key", wl.registrarID()}
	state := map[string]string{"old": t.TempDir(), "new": t.TempDir()}
	pinned := func(key string) []string { return append([]string{"--log-key", key}, reg...) }
	bundleFile := func(name string, data []byte) string {
		file := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	// online checks entry i of r's log with key pinned, and the log's
	// consistency since the last run pinned with who (old or new).
	online := func(r *demoRun, key, who string, i uint64, code int, want ...string) {
		t.Helper()
		included := []string{"entry " + fmt.Sprint(i) + " included"}
		if code != 0 {
			included = want
		}
		wantVerify(t, code, included, append([]string{"inclusion", "--url", r.url, "--index", fmt.Sprint(i)}, pinned(key)...)...)
		wantVerify(t, code, want, append([]string{"consistency", "--url", r.url, "--state", state[who]}, pinned(key)...)...)
	}

	i0, _, b0 := wl.submitBundle(r.url)
	before := bundleFile("before.json", b0)
	r.waitCovered(wl, i0)
	wantVerify(t, 0, []string{"entry " + fmt.Sprint(i0) + " included"}, append([]string{"bundle", before}, pinned(oldKey)...)...)
	online(r, oldKey, "old", i0, 0, "first use")
	r.stop()

	code, stdout, stderr := pledgelog(t, nil, "key", "add", "--data", data)
	_, newKey, ok := strings.Cut(stdout, "new vkey: ")
	if code != 0 || !ok {
		t.Fatalf("key add = %d: %s%s", code, stdout, stderr)
	}
	newKey = strings.TrimSpace(strings.SplitN(newKey, "\n", 2)[0])
	wantVerify(t, 1, []string{"log signature"}, append([]string{"bundle", before}, pinned(newKey)...)...)

	// The overlap: checkpoints carry both signatures, and the witnesses'
	// cosignatures.
	restart := func() {
		n := wl.n // the next pledge must be new, not a duplicate
		r, wl = startWitnessedDemo(t, data)
		wl.n = n
	}
	restart()
	if wl.policy == "" || !strings.Contains(mustRead(t, wl.policy), "log "+newKey+"\n") {
		t.Fatalf("the demo's policy lacks the new key:\n%s", mustRead(t, wl.policy))
	}
	i1, _, b1 := wl.submitBundle(r.url)
	overlap := bundleFile("overlap.json", b1)
	r.waitCovered(wl, i1)
	for _, key := range []string{oldKey, newKey} {
		wantVerify(t, 0, []string{"entry " + fmt.Sprint(i1) + " included"}, append([]string{"bundle", overlap}, pinned(key)...)...)
	}
	online(r, oldKey, "old", i1, 0, "grew from")
	online(r, newKey, "new", i1, 0, "first use")
	wantVerify(t, 0, []string{"witness quorum met"},
		append([]string{"bundle", overlap, "--policy", wl.policy, "--refresh", r.url}, reg...)...)
	// A bundle of before the rotation is signed by the old key only: with
	// the new key alone pinned it fails, saying which key signed it; with
	// both pinned it moves to a checkpoint of both keys, which the new key
	// alone then verifies.
	oldID := witnessOrigin + "+" + strings.Split(oldKey, "+")[1]
	wantVerify(t, 1, []string{"log signature", "signed by " + oldID + ", not a pinned log key", "pin the key that signed it too"},
		append([]string{"bundle", before, "--refresh", r.url}, pinned(newKey)...)...)
	wantVerify(t, 0, []string{"entry " + fmt.Sprint(i0) + " included"},
		append([]string{"bundle", before, "--refresh", r.url, "--log-key", oldKey}, pinned(newKey)...)...)
	wantVerify(t, 0, []string{"entry " + fmt.Sprint(i0) + " included"}, append([]string{"bundle", before}, pinned(newKey)...)...)
	r.stop()

	code, stdout, stderr = pledgelog(t, nil, "key", "finish", "--data", data)
	if code != 0 || !strings.Contains(stdout, "the log key is now "+newKey) {
		t.Fatalf("key finish = %d: %s%s", code, stdout, stderr)
	}

	// After finish: the new key only.
	restart()
	if wl.vkey != newKey || strings.Contains(mustRead(t, wl.policy), oldKey) {
		t.Fatalf("after finish the demo serves key %s with policy:\n%s", wl.vkey, mustRead(t, wl.policy))
	}
	i2, _, b2 := wl.submitBundle(r.url)
	after := bundleFile("after.json", b2)
	r.waitCovered(wl, i2)
	wantVerify(t, 0, []string{"entry " + fmt.Sprint(i2) + " included"}, append([]string{"bundle", after}, pinned(newKey)...)...)
	wantVerify(t, 0, []string{"entry " + fmt.Sprint(i1) + " included"}, append([]string{"bundle", overlap}, pinned(newKey)...)...)
	wantVerify(t, 1, []string{"log signature"}, append([]string{"bundle", after}, pinned(oldKey)...)...)
	online(r, newKey, "new", i2, 0, "grew from")
	online(r, oldKey, "old", i2, 1, "no verified signature", "is signed by "+witnessOrigin+"+"+strings.Split(newKey, "+")[1]+", not a pinned log key")
	wantVerify(t, 0, []string{"witness quorum met"}, append([]string{"bundle", after, "--policy", wl.policy, "--refresh", r.url}, reg...)...)
	wantVerify(t, 0, []string{"entry " + fmt.Sprint(i0) + " included"}, append([]string{"bundle", before}, pinned(newKey)...)...)
	r.stop()
}

func mustRead(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
