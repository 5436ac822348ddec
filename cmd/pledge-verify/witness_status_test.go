package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
)

// TestWitnessStatuses provokes every status of c2sp.org/tlog-witness's
// add-checkpoint, and the monitoring endpoint's, from the real witness,
// for both key types.
func TestWitnessStatuses(t *testing.T) {
	for _, typ := range []string{"ed25519", "mldsa44"} {
		t.Run(typ, func(t *testing.T) { testWitnessStatuses(t, typ) })
	}
}

func testWitnessStatuses(t *testing.T, typ string) {
	dir := t.TempDir()
	key, vkey := witnessKey(t, dir, typ)
	wv, err := verify.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	lg, fresh, stranger := newTestLog("log.example.org/a", 1), newTestLog("log.example.org/b", 2), newTestLog("log.example.org/c", 3)
	impostor := newTestLog("log.example.org/a", 4) // the origin of lg, another key
	policy := writePolicy(t, dir, "log "+lg.vkey, "log "+fresh.vkey, "quorum none")
	w := startWitness(t, key, policy, dir+"/state", "--burst", "1000")
	tr, fork := newTestTree(t, "main", 16), newTestTree(t, "fork", 16)
	cp := func(l *testLog, tr *testTree, n int64) []byte { return l.checkpoint(t, n, tr.root(t, n)) }

	check := func(name string, body []byte, status int, contentType, answer string) string {
		t.Helper()
		got, ct, b := w.post(t, body)
		if got != status || !strings.HasPrefix(ct, contentType) || !strings.Contains(b, answer) {
			t.Errorf("%s: %d %q %q, want %d %q with %q", name, got, ct, b, status, contentType, answer)
		}
		return b
	}
	// 405
	if resp, err := http.Get(w.url + "/add-checkpoint"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /add-checkpoint = %v, %v; want 405 with Allow: POST", resp, err)
	}
	// 400s
	good := addBody(0, nil, cp(lg, tr, 5))
	for name, body := range map[string][]byte{
		"no old line":         good[len("old 0\n"):],
		"old with a zero":     append([]byte("old 00\n"), good[len("old 0\n"):]...),
		"old negative":        append([]byte("old -1\n"), good[len("old 0\n"):]...),
		"no blank line":       bytes.Replace(good, []byte("\n\n"), []byte("\n"), 1),
		"bad proof line":      addBody(3, nil, cp(lg, tr, 5))[:0:0],
		"64 proof lines":      addBody(3, make([]verify.Hash, 64), cp(lg, tr, 5)),
		"old above size":      addBody(6, nil, cp(lg, tr, 5)),
		"not a checkpoint":    addBody(0, nil, []byte("hello\n\n— log.example.org/a AAAA\n")),
		"unsigned checkpoint": addBody(0, nil, verify.Checkpoint{Origin: lg.origin, Size: 5, Root: tr.root(t, 5)}.Text()),
		"CRLF":                bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")),
	} {
		if name == "bad proof line" {
			body = append([]byte("old 3\nnot base64\n\n"), cp(lg, tr, 5)...)
		}
		check(name, body, http.StatusBadRequest, "text/plain", "")
	}
	// 413
	check("too large", append(good, bytes.Repeat([]byte("x"), 300<<10)...), http.StatusRequestEntityTooLarge, "text/plain", "larger")
	// 404
	check("unknown origin", addBody(0, nil, cp(stranger, tr, 5)), http.StatusNotFound, "text/plain", "unknown log")
	// 403: no trusted signature; a trusted key's signature that fails.
	check("signed by another key", addBody(0, nil, cp(impostor, tr, 5)), http.StatusForbidden, "text/plain", "")
	forged, err := verify.ParseNote(cp(lg, tr, 5))
	if err != nil {
		t.Fatal(err)
	}
	forged.Sigs[0].Sig[10] ^= 1
	check("a bad signature by the log's key", addBody(0, nil, forged.Bytes()), http.StatusForbidden, "text/plain", "invalid signature")
	// 200: the first checkpoint, with signatures from unknown keys ignored.
	both, err := verify.Sign(verify.Checkpoint{Origin: lg.origin, Size: 5, Root: tr.root(t, 5)}.Text(), lg.signer, impostor.signer)
	if err != nil {
		t.Fatal(err)
	}
	lines := check("first checkpoint", addBody(0, nil, both), http.StatusOK, "text/plain", "— "+wv.Name()+" ")
	checkCosignature(t, wv, lg, tr, 5, lines)
	// 409: the old size is not the last cosigned one.
	check("old 0 again", addBody(0, nil, cp(lg, tr, 8)), http.StatusConflict, "text/x.tlog.size", "5\n")
	if _, _, b := w.post(t, addBody(3, tr.proof(t, 3, 8), cp(lg, tr, 8))); b != "5\n" {
		t.Errorf("409 body %q, want exactly \"5\\n\"", b)
	}
	// 422s
	bad := tr.proof(t, 5, 8)
	bad[0][0] ^= 1
	check("bad proof", addBody(5, bad, cp(lg, tr, 8)), http.StatusUnprocessableEntity, "text/plain", "")
	check("proof of a fork", addBody(5, fork.proof(t, 5, 8), cp(lg, fork, 8)), http.StatusUnprocessableEntity, "text/plain", "")
	check("same size, other root", addBody(5, nil, cp(lg, fork, 5)), http.StatusUnprocessableEntity, "text/plain", "")
	check("size 0, not the empty root", addBody(0, nil, lg.checkpoint(t, 0, tr.root(t, 1))), http.StatusConflict, "text/x.tlog.size", "5\n")
	check("fresh log: size 0, not the empty root", addBody(0, nil, fresh.checkpoint(t, 0, tr.root(t, 1))), http.StatusUnprocessableEntity, "text/plain", "")
	check("fresh log: a proof from 0", addBody(0, tr.proof(t, 2, 4), cp(fresh, tr, 4)), http.StatusUnprocessableEntity, "text/plain", "")
	// 200: consistent growth, and the same checkpoint again.
	checkCosignature(t, wv, lg, tr, 8, check("grow to 8", addBody(5, tr.proof(t, 5, 8), cp(lg, tr, 8)), http.StatusOK, "text/plain", "— "))
	checkCosignature(t, wv, lg, tr, 8, check("8 again", addBody(8, nil, cp(lg, tr, 8)), http.StatusOK, "text/plain", "— "))
	check("fresh log: the empty tree", addBody(0, nil, fresh.checkpoint(t, 0, verify.EmptyRoot)), http.StatusOK, "text/plain", "— ")
	// Monitoring: the last cosigned checkpoint with the log's signature
	// and the cosignature; 404 for a log never cosigned or unknown.
	status, body := w.get(t, monitoringPath(lg.origin))
	if c, _, err := verify.OpenCheckpoint([]byte(body), lg.origin, []verify.Verifier{mustNewVerifier(t, lg.vkey)}, []verify.Verifier{wv}, 1); status != 200 || err != nil || c.Size != 8 {
		t.Errorf("GET checkpoint = %d %q: %+v, %v", status, body, c, err)
	}
	for _, o := range []string{stranger.origin, "log.example.org/never"} {
		if status, _ := w.get(t, monitoringPath(o)); status != http.StatusNotFound {
			t.Errorf("GET checkpoint of %s = %d, want 404", o, status)
		}
	}
	// The state survives a restart.
	w.stop()
	w = startWitness(t, key, policy, dir+"/state", "--burst", "1000")
	check("after a restart", addBody(5, tr.proof(t, 5, 9), cp(lg, tr, 9)), http.StatusConflict, "text/x.tlog.size", "8\n")
	check("after a restart, grow", addBody(8, tr.proof(t, 8, 9), cp(lg, tr, 9)), http.StatusOK, "text/plain", "— ")
}

// checkCosignature checks that lines is a cosignature of tree size n by wv.
func checkCosignature(t *testing.T, wv verify.Verifier, lg *testLog, tr *testTree, n int64, lines string) {
	t.Helper()
	msg := append(verify.Checkpoint{Origin: lg.origin, Size: uint64(n), Root: tr.root(t, n)}.Text(), '\n')
	if _, err := verify.Open(append(msg, lines...), wv); err != nil {
		t.Errorf("cosignature %q of size %d: %v", lines, n, err)
	}
}

func mustNewVerifier(t *testing.T, vkey string) verify.Verifier {
	t.Helper()
	v, err := verify.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWitnessRateLimit checks the 429 of a client over its rate.
func TestWitnessRateLimit(t *testing.T) {
	dir := t.TempDir()
	key, _ := witnessKey(t, dir, "ed25519")
	lg := newTestLog("log.example.org/a", 1)
	w := startWitness(t, key, writePolicy(t, dir, "log "+lg.vkey, "quorum none"), dir+"/state", "--rate", "0.01", "--burst", "3")
	body := addBody(0, nil, lg.checkpoint(t, 0, verify.EmptyRoot))
	for i := range 3 {
		if status, _, b := w.post(t, body); status != http.StatusOK {
			t.Fatalf("request %d = %d %q", i, status, b)
		}
	}
	resp, err := http.Post(w.url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("fourth request = %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, _ := w.get(t, monitoringPath(lg.origin)); status != http.StatusOK {
		t.Errorf("GET checkpoint while limited = %d, want 200 (reads are not limited)", status)
	}
}
