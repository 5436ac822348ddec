package witness

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// hashes is a tree of entries "0", "1", … computed with x/mod's tlog.
type hashes []tlog.Hash

func (h hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = h[x]
	}
	return out, nil
}

func newHashes(t *testing.T, n int) hashes {
	var h hashes
	for i := range n {
		hs, err := tlog.StoredHashes(int64(i), []byte(fmt.Sprint(i)), h)
		if err != nil {
			t.Fatal(err)
		}
		h = append(h, hs...)
	}
	return h
}

// TestConcurrentAdd races the requests of c2sp.org/tlog-witness's example
// (A from 0 to N, B from 0 to N+K) and checks that exactly one is
// cosigned and that the state is the winner's, under -race.
func TestConcurrentAdd(t *testing.T) {
	const origin = "example.org/race"
	lk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	signer := verify.NewEd25519Signer(origin, lk)
	p, err := policy.Parse([]byte("log " + verify.Ed25519VerifierKey(origin, lk.Public().(ed25519.PublicKey)) + "\nquorum none\n"))
	if err != nil {
		t.Fatal(err)
	}
	tree := newHashes(t, 20)
	body := func(size int64) []byte {
		root, err := tlog.TreeHash(size, tree)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := verify.Sign(verify.Checkpoint{Origin: origin, Size: uint64(size), Root: verify.Hash(root)}.Text(), signer)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte("old 0\n\n"), cp...)
	}
	for round := range 30 {
		key, err := GenerateKey("w.example", verify.TypeCosignature)
		if err != nil {
			t.Fatal(err)
		}
		w, err := New(Config{Key: key, Policy: p, StateDir: t.TempDir(), Burst: 1000, Rate: 1000})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(w)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, size := range []int64{5, 12} {
			wg.Go(func() {
				resp, err := http.Post(srv.URL+"/add-checkpoint", "text/plain", bytes.NewReader(body(size)))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		wg.Wait()
		resp, err := http.Get(srv.URL + "/" + fmt.Sprintf("%x", sha256Sum(origin)) + "/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		n, err := verify.ParseNote(stored)
		if err != nil {
			t.Fatalf("round %d: stored %q: %v", round, stored, err)
		}
		c, _ := verify.ParseCheckpoint(n.Text)
		won := map[[2]int]uint64{{200, 409}: 5, {409, 200}: 12}[[2]int(statuses)]
		if won == 0 || c.Size != won {
			t.Fatalf("round %d: statuses %v, stored size %d", round, statuses, c.Size)
		}
	}
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
