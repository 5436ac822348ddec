package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// addKeys logs a chain of n add-keys of signatory, each signed by the key
// before it (the first by its demo key) and by the new one, and returns
// the last key (the demo key for n = 0).
func (s *testServer) addKeys(signatory string, n int) ed25519.PrivateKey {
	s.t.Helper()
	last := s.demo.Keys[signatory]
	info, _ := s.reg.Signatory(signatory)
	seq, head := info.Seq, info.Head
	var batch [][]byte
	for i := range n {
		seed := sha256.Sum256(fmt.Appendf(nil, "chained key %s %d", signatory, i))
		k := ed25519.NewKeyFromSeed(seed[:])
		pk, _ := attest.NewPublicKey(k.Public())
		seq++
		leaf := s.sign(&attest.SignatoryEvent{Action: attest.ActionAddKey, Origin: origin, Signatory: signatory,
			Seq: seq, Prev: head, Key: &pk}, last, k)
		h := attest.LeafHash(leaf)
		head, last = hex.EncodeToString(h[:]), k
		if batch = append(batch, leaf); len(batch) == 100 || i == n-1 {
			s.append(batch...)
			batch = nil
		}
	}
	return last
}

// pledgeBy signs a new pledge of signatory with key.
func (s *testServer) pledgeBy(signatory string, key ed25519.PrivateKey) []byte {
	s.t.Helper()
	s.n++
	a := s.reg.Accords()[0]
	p := &attest.Pledge{Origin: origin, Signatory: signatory, Accord: a.ID, Principle: a.Principles[0].ID,
		Status: attest.StatusProgress, Statement: fmt.Sprintf("Progress report %d (demo data).", s.n), Effective: "2026-01-02"}
	signer, err := attest.NewSigner(key)
	if err != nil {
		s.t.Fatal(err)
	}
	leaf, err := attest.Sign(attest.NewPledgeStatement(p, a.Digest), signer)
	if err != nil {
		s.t.Fatal(err)
	}
	return leaf
}

// getBundle fetches the bundle of entry index with an Accept header.
func (s *testServer) getBundle(index uint64, accept string) []byte {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/entries/%d/bundle", s.url, index), nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != accept {
		s.t.Fatalf("GET bundle %d, Accept %s: %s %s", index, accept, resp.Status, body)
	}
	return body
}

// TestBundleV2Chains: after 0, 15 and 400 chained add-keys, the pledge
// the last key signs gets a v2 bundle from the server that
// pledge-verify bundle verifies offline, pinning only the log key (no
// registrar key), within MaxSizeV2, proving the key valid and not
// revoked; the v1 bundle of the same entry grows with the chain and
// after 15 add-keys is one the parser refuses.
func TestBundleV2Chains(t *testing.T) {
	for _, n := range []int{0, 15, 400} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := newServer(t, "bundle test")
			s.accept = ""
			key := s.addKeys("microsoft", n)
			data := s.submit("microsoft", s.pledgeBy("microsoft", key))
			b, err := bundle.Parse(data)
			if err != nil || !b.IsV2() {
				t.Fatalf("the server's bundle: %v", err)
			}
			if len(data) > bundle.MaxSizeV2 {
				t.Fatalf("v2 bundle of %d bytes after %d add-keys, above MaxSizeV2 %d", len(data), n, bundle.MaxSizeV2)
			}
			pk, _ := attest.NewPublicKey(key.Public())
			file := writeFile(t, "pledge.bundle.json", data)
			want(t, 0, []string{"verified:", "entry " + fmt.Sprint(b.Entry.Index) + " included",
				"map: key " + pk.ID() + " of microsoft added at index", "not revoked (map proof)"},
				"bundle", file, "--log-key", s.vkey())
			v1 := s.getBundle(b.Entry.Index, bundle.MediaType)
			_, v1err := bundle.Parse(v1)
			t.Logf("after %d chained add-keys: v2 bundle %d bytes (MaxSizeV2 %d), v1 bundle %d bytes (parses: %v)",
				n, len(data), bundle.MaxSizeV2, len(v1), v1err == nil)
			if (v1err == nil) != (n+2 <= bundle.MaxEvidence) {
				t.Errorf("v1 bundle with %d evidence entries: Parse = %v", n+2, v1err)
			}
		})
	}
}

// TestBundleV2Revoked: a pledge's v2 bundle proves its key not revoked;
// once the key is revoked (superseded) the bundle, refreshed to the new
// checkpoint, proves "revoked since" the revocation, and still verifies:
// the signature came first.
func TestBundleV2Revoked(t *testing.T) {
	s := newServer(t, "bundle test")
	s.accept = ""
	key := s.addKeys("microsoft", 1)
	data := s.submit("microsoft", s.pledgeBy("microsoft", key))
	file := writeFile(t, "pledge.bundle.json", data)
	trust := []string{"--log-key", s.vkey()}
	want(t, 0, []string{"not revoked (map proof)"}, append([]string{"bundle", file}, trust...)...)

	pk, _ := attest.NewPublicKey(key.Public())
	info, _ := s.reg.Signatory("microsoft")
	revocation := s.sign(&attest.SignatoryEvent{Action: attest.ActionRevoke, Origin: origin, Signatory: "microsoft",
		Seq: info.Seq + 1, Prev: info.Head, KeyID: pk.ID(), Reason: attest.ReasonSuperseded}, s.demo.Keys["microsoft"])
	s.append(revocation)
	revokedAt := s.log.Latest().Size - 1
	s.append(s.pledge("microsoft", 1)) // a later checkpoint still

	// Offline, the old bundle still says what was true at its checkpoint.
	want(t, 0, []string{"not revoked (map proof)"}, append([]string{"bundle", file}, trust...)...)
	out := want(t, 0, []string{fmt.Sprintf("revoked since %d", revokedAt), fmt.Sprintf("revoked at index %d", revokedAt)},
		append([]string{"bundle", file, "--refresh", s.url}, trust...)...)
	t.Logf("after refresh: %s", out)
	refreshed, _ := os.ReadFile(file)
	if bytes.Equal(refreshed, data) {
		t.Fatal("--refresh left the bundle as it was")
	}
	want(t, 0, []string{fmt.Sprintf("revoked since %d", revokedAt)}, append([]string{"bundle", file}, trust...)...)
	out = want(t, 0, nil, append([]string{"bundle", file, "--json"}, trust...)...)
	if !strings.Contains(out, fmt.Sprintf(`"keyRevoked":%d`, revokedAt)) || !strings.Contains(out, `"bundleVersion":2`) {
		t.Errorf("--json lacks keyRevoked %d or bundleVersion 2: %s", revokedAt, out)
	}
}

// TestBundleV2Refresh: --refresh moves a v2 bundle from its checkpoint to
// the log's latest, with fresh inclusion and map proofs; a log that
// forked since the bundle's checkpoint (same key, another history) is
// refused with exit 1 and the bundle left as it was; a tampered map
// proof, value or root in the file is refused offline.
func TestBundleV2Refresh(t *testing.T) {
	s := newServer(t, "bundle test")
	s.accept = ""
	first := s.pledge("microsoft", 0)
	s.append(first)
	p := s.pledge("microsoft", 1)
	data := s.submit("microsoft", p)
	old, _ := bundle.Parse(data)
	s.append(s.pledges("github", 5)...)
	file := writeFile(t, "pledge.bundle.json", data)
	trust := []string{"--log-key", s.vkey()}
	oldSize := fmt.Sprintf("size %d", old.Entry.Index+1)
	want(t, 0, []string{oldSize}, append([]string{"bundle", file}, trust...)...)
	newSize := fmt.Sprintf("size %d", s.log.Latest().Size)
	want(t, 0, []string{newSize, "not revoked (map proof)"}, append([]string{"bundle", file, "--refresh", s.url}, trust...)...)
	nb, _ := os.ReadFile(file)
	if b, err := bundle.Parse(nb); err != nil || !b.IsV2() || b.Entry.Index != old.Entry.Index {
		t.Fatalf("refreshed bundle: %v", err)
	}

	// A fork: the same log key, the same demo, another entry before the
	// bundle's, then the same pledge at the same index.
	fork := newServer(t, "bundle test")
	fork.append(fork.pledge("github", 0))
	fork.append(p)
	fork.append(fork.pledges("github", 3)...)
	file = writeFile(t, "pledge.bundle.json", data)
	want(t, 1, []string{"consistency not proven"}, append([]string{"bundle", file, "--refresh", fork.url}, trust...)...)
	if after, _ := os.ReadFile(file); !bytes.Equal(after, data) {
		t.Error("a refused refresh changed the bundle")
	}

	for _, tc := range []struct {
		name   string
		tamper func(b *bundle.Bundle)
		msg    string
	}{
		{"map proof", func(b *bundle.Bundle) { b.Map.Key.Proof[0].Hash[0] ^= 1 }, "map proof not verified"},
		{"map value", func(b *bundle.Bundle) { b.Map.Principal.Value[30] ^= 1 }, "map proof not verified"},
		{"accord value", func(b *bundle.Bundle) { b.Map.Accord.Value[3] ^= 1 }, "map proof not verified"},
		{"map root", func(b *bundle.Bundle) {
			b.Checkpoint = bytes.Replace(b.Checkpoint, []byte("pledgelog/map/v1 "), []byte("pledgelog/map/v1 A"), 1)
		}, "checkpoint"},
	} {
		b, _ := bundle.Parse(data)
		tc.tamper(b)
		want(t, 1, []string{tc.msg}, append([]string{"bundle", writeFile(t, "t.json", b.Marshal())}, trust...)...)
	}
}
