package witness

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// FuzzAddCheckpoint posts fuzzed add-checkpoint bodies to a real witness
// of one log whose tree is computed with x/mod's tlog, seeded with the
// requests of a growing tree. Whatever the body: the answer is one of
// c2sp.org/tlog-witness's statuses, a 409 carries the size the witness
// holds, a 200 only ever cosigns a checkpoint of the one true tree whose
// size does not go back, and the cosignature it returns verifies with the
// witness's key.
func FuzzAddCheckpoint(f *testing.F) {
	const origin = "example.org/fuzz"
	lk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	signer := verify.NewEd25519Signer(origin, lk)
	p, err := policy.Parse([]byte("log " + verify.Ed25519VerifierKey(origin, lk.Public().(ed25519.PublicKey)) + "\nquorum none\n"))
	if err != nil {
		f.Fatal(err)
	}
	var tree hashes
	for i := range 40 {
		hs, err := tlog.StoredHashes(int64(i), []byte(fmt.Sprint(i)), tree)
		if err != nil {
			f.Fatal(err)
		}
		tree = append(tree, hs...)
	}
	root := func(size int64) verify.Hash {
		r, err := tlog.TreeHash(size, tree)
		if err != nil {
			f.Fatal(err)
		}
		return verify.Hash(r)
	}
	body := func(old, size int64) []byte {
		cp, err := verify.Sign(verify.Checkpoint{Origin: origin, Size: uint64(size), Root: root(size)}.Text(), signer)
		if err != nil {
			f.Fatal(err)
		}
		b := fmt.Appendf(nil, "old %d\n", old)
		if old > 0 {
			proof, err := tlog.ProveTree(size, old, tree)
			if err != nil {
				f.Fatal(err)
			}
			for _, h := range proof {
				b = append(b, verify.Hash(h).String()+"\n"...)
			}
		}
		return append(append(b, '\n'), cp...)
	}
	for _, s := range [][2]int64{{0, 0}, {0, 5}, {5, 12}, {12, 12}, {12, 39}, {0, 39}, {5, 3}} {
		if s[0] <= s[1] {
			f.Add(body(s[0], s[1]))
		}
	}
	f.Add([]byte("old 5\n\n"))
	f.Add([]byte("old x\n\nexample.org/fuzz\n1\nAAAA\n\n— example.org/fuzz AAAA\n"))
	key, err := GenerateKey("w.example/fuzz", verify.TypeCosignature)
	if err != nil {
		f.Fatal(err)
	}
	self, err := verify.NewVerifier(key.VerifierKey())
	if err != nil {
		f.Fatal(err)
	}
	w, err := New(Config{Key: key, Policy: p, StateDir: f.TempDir(), Rate: 1e9, Burst: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before := w.logs[origin].size
		r := httptest.NewRequest(http.MethodPost, "/add-checkpoint", bytes.NewReader(b))
		rw := httptest.NewRecorder()
		w.ServeHTTP(rw, r)
		after := w.logs[origin].size
		switch rw.Code {
		case http.StatusOK:
			req, err := parseRequest(b)
			if err != nil || req.cp.Size < before || req.cp.Size != after || req.cp.Root != root(int64(req.cp.Size)) {
				t.Fatalf("cosigned %q (%v), held size %d then %d", b, err, before, after)
			}
			n, err := verify.Open(append(append(append([]byte(nil), req.cp.Text()...), '\n'), rw.Body.Bytes()...), self)
			if err != nil || len(n.Sigs) != 1 {
				t.Fatalf("the cosignature %q does not verify: %v", rw.Body.Bytes(), err)
			}
		case http.StatusConflict:
			if rw.Body.String() != strconv.FormatUint(after, 10)+"\n" || rw.Header().Get("Content-Type") != "text/x.tlog.size" {
				t.Fatalf("409 %q (%s), holding %d", rw.Body.String(), rw.Header().Get("Content-Type"), after)
			}
			fallthrough
		case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
			if after != before {
				t.Fatalf("answered %d to %q, yet the held size moved %d → %d", rw.Code, b, before, after)
			}
		default:
			t.Fatalf("answered %d to %q: %s", rw.Code, b, rw.Body.Bytes())
		}
	})
}
