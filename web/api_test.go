package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/verify"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func TestEntry(t *testing.T) {
	h := newHarness(t)
	for _, i := range []uint64{0, 255, 256, 599} {
		var e api.Entry
		resp := getJSON(t, h.srv, fmt.Sprintf("/api/v1/entries/%d", i), &e)
		if e.Index != i || !bytes.Equal(e.Entry, testEntry(i)) || e.LeafHash != verify.LeafHash(testEntry(i)) {
			t.Errorf("entry %d = %+v, want %q", i, e, testEntry(i))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("entry %d: Cache-Control %q", i, cc)
		}
	}
}

// openCheckpoint verifies a signed checkpoint with x/mod's note package
// and returns its tree.
func openCheckpoint(t *testing.T, h *harness, signed string) tlog.Tree {
	t.Helper()
	v, err := note.NewVerifier(h.log.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open(%q): %v", signed, err)
	}
	c, err := verify.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		t.Fatal(err)
	}
	return tlog.Tree{N: int64(c.Size), Hash: tlog.Hash(c.Root)}
}

func tlogHashes(hs []verify.Hash) []tlog.Hash {
	out := make([]tlog.Hash, len(hs))
	for i, h := range hs {
		out[i] = tlog.Hash(h)
	}
	return out
}

func TestInclusionProof(t *testing.T) {
	h := newHarness(t)
	for _, size := range batchEnds {
		for _, index := range []uint64{0, size / 2, size - 1} {
			for _, by := range []string{"index", "hash"} {
				q := fmt.Sprintf("index=%d&size=%d", index, size)
				if by == "hash" {
					q = fmt.Sprintf("hash=%s&size=%d", verify.LeafHash(testEntry(index)), size)
				}
				var p api.InclusionProof
				resp := getJSON(t, h.srv, "/api/v1/proof/inclusion?"+escapePlus(q), &p)
				tree := openCheckpoint(t, h, p.Checkpoint)
				leaf := tlog.RecordHash(testEntry(index))
				if p.Index != index || p.Size != size || tree.N != int64(size) || tlog.Hash(p.LeafHash) != leaf {
					t.Fatalf("inclusion %s = %+v", q, p)
				}
				if err := tlog.CheckRecord(tlogHashes(p.Hashes), tree.N, tree.Hash, int64(index), leaf); err != nil {
					t.Errorf("inclusion %s: CheckRecord: %v", q, err)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
					t.Errorf("inclusion %s: Cache-Control %q", q, cc)
				}
			}
		}
	}
	var p api.InclusionProof
	resp := getJSON(t, h.srv, "/api/v1/proof/inclusion?index=7", &p)
	if p.Size != 600 || resp.Header.Get("Cache-Control") != "public, max-age=1" {
		t.Errorf("inclusion of 7 in the published tree: size %d, Cache-Control %q", p.Size, resp.Header.Get("Cache-Control"))
	}
}

// escapePlus escapes the '+' of base64 in a query.
func escapePlus(q string) string {
	return string(bytes.ReplaceAll([]byte(q), []byte("+"), []byte("%2B")))
}

func TestConsistencyProof(t *testing.T) {
	h := newHarness(t)
	for _, to := range batchEnds {
		for _, from := range []uint64{0, 1, to / 3, to - 1, to} {
			q := fmt.Sprintf("from=%d&to=%d", from, to)
			var p api.ConsistencyProof
			getJSON(t, h.srv, "/api/v1/proof/consistency?"+q, &p)
			tree := openCheckpoint(t, h, p.Checkpoint)
			if p.From != from || p.To != to || tree.N != int64(to) {
				t.Fatalf("consistency %s = %+v", q, p)
			}
			if from == 0 {
				if len(p.Hashes) != 0 {
					t.Errorf("consistency %s: %d hashes, want none", q, len(p.Hashes))
				}
				continue
			}
			old, err := tlog.TreeHash(int64(from), tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
				return storedHashes(ix, from)
			}))
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(tlogHashes(p.Hashes), tree.N, tree.Hash, int64(from), old); err != nil {
				t.Errorf("consistency %s: CheckTree: %v", q, err)
			}
		}
	}
	var p api.ConsistencyProof
	getJSON(t, h.srv, "/api/v1/proof/consistency?from=10", &p)
	if p.To != 600 {
		t.Errorf("consistency from 10 to the published tree: to = %d", p.To)
	}
}

// storedHashes computes the tree's stored hashes independently, from the
// test entries alone.
func storedHashes(indexes []int64, size uint64) ([]tlog.Hash, error) {
	var all []tlog.Hash
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = all[x]
		}
		return out, nil
	})
	for i := range size {
		hs, err := tlog.StoredHashes(int64(i), testEntry(i), r)
		if err != nil {
			return nil, err
		}
		all = append(all, hs...)
	}
	return r(indexes)
}

// TestEnvelope serves an attestation log's entries as their envelopes,
// byte for byte, which an independent DSSE reader decodes; beyond the
// tree is a 404 problem.
func TestEnvelope(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	for _, i := range []int{0, 1, 24, 171} {
		resp, body := get(t, h.srv, fmt.Sprintf("/api/v1/entries/%d/envelope", i))
		if resp.StatusCode != 200 || !bytes.Equal(body, h.demo.Entries[i]) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("envelope %d: %d %s, %q", i, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var env dsse.Envelope
		if err := json.Unmarshal(body, &env); err != nil || env.PayloadType != "application/vnd.in-toto+json" || len(env.Signatures) == 0 {
			t.Errorf("envelope %d: %+v, %v", i, env, err)
		}
		if _, err := env.DecodeB64Payload(); err != nil {
			t.Errorf("envelope %d: payload: %v", i, err)
		}
	}
	resp, body := get(t, h.srv, "/api/v1/entries/172/envelope")
	wantProblem(t, "envelope beyond the tree", resp, body, 404, "beyond-tree")
	resp, body = get(t, h.srv, "/api/v1/entries/x/envelope")
	wantProblem(t, "envelope x", resp, body, 400, "bad-parameter")
}
