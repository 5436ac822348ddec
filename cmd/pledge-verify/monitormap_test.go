package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"filippo.io/torchwood/prefix"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/monitor"
)

// forgedMap serves s, but answers the map lookups of key keyid of
// signatory from a map in which that key is valid, committed to by a
// checkpoint of the real tree re-signed with the log's key: a log that
// signs a wrong map root, which only the map proofs' values, set against
// the entries, reveal.
func forgedMap(t *testing.T, s *testServer, signatory, keyid string) string {
	t.Helper()
	label := attest.MapLabel(attest.MapKey, signatory, keyid)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(s.url + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if r.URL.Path == "/api/v1/map" && r.URL.Query().Get("keyid") == keyid {
			body = forge(t, s, body, label)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

func forge(t *testing.T, s *testServer, body []byte, label [32]byte) []byte {
	ctx := context.Background()
	var l api.MapLookup
	if err := json.Unmarshal(body, &l); err != nil {
		t.Errorf("map answer: %v", err)
		return body
	}
	leaves := s.reg.MapLeaves()
	for i := range leaves {
		if leaves[i].Label == label {
			st, _ := attest.ParseMapKeyValue(leaves[i].Value)
			leaves[i].Value = attest.MapKeyValue(st.Added, nil, nil)
			l.Value = leaves[i].Value
		}
	}
	m, err := attest.NewMap(ctx, prefix.NewMemoryStorage())
	if err == nil {
		err = m.Update(ctx, leaves)
	}
	root, _ := m.Root(ctx)
	_, proof, err2 := m.Prove(ctx, label)
	n, err3 := verify.ParseNote([]byte(l.Checkpoint))
	if err != nil || err2 != nil || err3 != nil {
		t.Errorf("forging: %v %v %v", err, err2, err3)
		return body
	}
	cp, _ := verify.ParseCheckpoint(n.Text)
	cp.Extensions = []string{attest.MapExtension(root)}
	note, err := verify.Sign(cp.Text(), verify.NewEd25519Signer(origin, ed25519.NewKeyFromSeed(logSeed)))
	if err != nil {
		t.Error(err)
		return body
	}
	l.Checkpoint, l.MapRoot, l.Proof = string(note), root[:], nil
	for _, pn := range proof {
		l.Proof = append(l.Proof, mapProofNode(pn))
	}
	out, _ := json.Marshal(l)
	return out
}

func mapProofNode(n prefix.ProofNode) api.MapProofNode {
	b := n.Label.Bytes()
	return api.MapProofNode{Label: b[:], Bits: n.Label.BitLen(), Hash: n.Hash[:]}
}

// TestMonitorMap: a monitor watching a signatory proves its keys' states
// by map proofs at each new checkpoint. Against the real server they
// agree with the entries; a log that shows a revoked key valid in a map
// it signed, or a map answer that does not verify, is a map-mismatch
// event and exit status 1.
func TestMonitorMap(t *testing.T) {
	s := newServer(t, "monitor map test")
	dir := t.TempDir()
	mon := func(url string, code int) []monitor.Event {
		t.Helper()
		return events(t, want(t, code, nil, append([]string{"monitor", "--url", url, "--state", dir, "--signatory", "cisco", "--once"}, s.trust()...)...))
	}
	if evs := mon(s.url, 0); strings.Contains(summary(evs), "map-mismatch") || len(evs) == 0 {
		t.Errorf("first poll: %s", summary(evs))
	}
	info, _ := s.reg.Signatory("cisco")
	keyid := info.Keys[0].ID
	s.append(s.pledge("cisco", 0), s.revoke("cisco", 172))
	forged := forgedMap(t, s, "cisco", keyid)
	// The revocation is new to the monitor: the forged map's "valid" is
	// caught at once. The state is saved, so the real log then agrees.
	evs := mon(forged, 1)
	if got := summary(evs); got != "pledge:cisco:stronger-defense revoke-key:cisco: map-mismatch:cisco:" {
		t.Fatalf("poll of the forged map: %s", got)
	}
	last := evs[len(evs)-1]
	if last.KeyID != keyid || !strings.Contains(last.Detail, "revoked since") || !strings.Contains(last.Detail, "the map proves it valid since index") {
		t.Errorf("map-mismatch event: %+v", last)
	}
	s.append(s.pledge("microsoft", 0))
	if evs := mon(s.url, 0); len(evs) != 0 {
		t.Errorf("poll of the real log after: %s", summary(evs))
	}
	// A map answer that does not verify.
	s.append(s.pledge("microsoft", 1))
	bad := liar(t, s, func(_ *http.Request, l *api.MapLookup) {
		if len(l.Value) > 3 {
			l.Value = bytes.Clone(l.Value[:3])
		}
	})
	evs = mon(bad, 1)
	if len(evs) != 1 || evs[0].Type != "map-mismatch" || !strings.Contains(evs[0].Detail, "map lookup does not verify") {
		t.Errorf("poll of a map that does not verify: %+v", evs)
	}
}
