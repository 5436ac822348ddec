package bundle

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood/prefix"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// Indexes of the entries newMapLog adds after newTestLog's.
const (
	idxRevoke   = testSize     // revoke-key (superseded) of company 0's second key, signed by its first
	idxAfterRev = testSize + 1 // a pledge of company 0 signed by its first key
)

// mapLog is the test log with a registry map: the registry its entries
// build (those it refuses left out, as a log refuses them), tracked at
// the log's size, and checkpoints that commit to the map's root.
type mapLog struct {
	*testLog
	src  *logSource
	mapt *attest.MapTracker
	size uint64
	root [32]byte
}

func newMapLog(t *testing.T) *mapLog {
	t.Helper()
	l := newTestLog(t)
	c0 := l.companies[0].ID
	k2 := testKey("second")
	// company 0's chain: register (2, seq 0), add-key (172, seq 1), add-key (176, seq 2)
	h := attest.LeafHash(l.entries[idxLateKey])
	st, err := attest.NewStatement(&attest.SignatoryEvent{Action: attest.ActionRevoke, Origin: testOrigin,
		Signatory: c0, Seq: 3, Prev: hex.EncodeToString(h[:]), KeyID: keyID(k2), Reason: attest.ReasonSuperseded})
	if err != nil {
		t.Fatal(err)
	}
	l.append(l.sign(st, l.demo.Keys[c0]))
	l.append(l.pledge(c0, "after the revocation", l.demo.Keys[c0]))
	m := &mapLog{testLog: l, src: newLogSource(l)}
	if _, err := m.src.reg.Key(c0, keyID(k2)); err != nil {
		t.Fatal(err)
	}
	m.mapt = attest.NewMapTracker(m.src.reg)
	m.size = uint64(len(l.entries))
	if m.root, err = m.mapt.Root(context.Background(), m.size); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkpointV2 is the map log's checkpoint at its size, committing to
// root (the map's, unless a test lies), cosigned by witnesses witnesses.
func (m *mapLog) checkpointV2(root [32]byte, witnesses int) []byte {
	text := verify.Checkpoint{Origin: testOrigin, Size: m.size, Root: m.testLog.root(m.size),
		Extensions: []string{attest.MapExtension(root)}}.Text()
	signers := []verify.Signer{verify.NewEd25519Signer(testOrigin, m.logKey)}
	for i, k := range m.witKeys[:witnesses] {
		signers = append(signers, verify.NewCosigner(witnessName(i), k, func() time.Time { return m.now }))
	}
	note, err := verify.Sign(text, signers...)
	if err != nil {
		m.t.Fatal(err)
	}
	return note
}

// mapSource is the map log as a Builder of v2 bundles reads it.
type mapSource struct{ m *mapLog }

func (s mapSource) Entry(ctx context.Context, i uint64) ([]byte, error) { return s.m.src.Entry(ctx, i) }
func (s mapSource) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	return s.m.src.ReadTile(ctx, t)
}
func (s mapSource) KeyAdded(owner, keyid string) (uint64, bool) {
	return s.m.src.KeyAdded(owner, keyid)
}
func (s mapSource) PublicKey(owner, keyid string) (attest.PublicKey, bool) {
	k, err := s.m.src.reg.Key(owner, keyid)
	return attest.PublicKey{Type: k.Type, SPKI: k.SPKI}, err == nil
}
func (s mapSource) ProveMap(ctx context.Context, size uint64, label [32]byte) ([]byte, [32]byte, attest.MapProof, error) {
	return s.m.mapt.Prove(ctx, size, label)
}

func (m *mapLog) bundleV2(t *testing.T, index uint64) *Bundle {
	t.Helper()
	b := NewBuilder(mapSource{m}, verify.NewNodeCache(1<<10), m.registryPolicy())
	p, err := b.Prover(m.checkpointV2(m.root, 1))
	if err != nil {
		t.Fatal(err)
	}
	bu, err := p.BundleV2(context.Background(), index, nil)
	if err != nil {
		t.Fatalf("BundleV2(%d): %v", index, err)
	}
	return bu
}

// v2Policy is a verifier's policy for v2 bundles: the log key and one
// witness, no registrar key.
func (m *mapLog) v2Policy() Policy {
	p := m.policy(1)
	p.RegistrarKeys = nil
	return p
}

// TestBundleV2 builds v2 bundles of the map log's entries of every kind
// and verifies them as a reader does: the right signer, key state and
// accord, each within MaxSizeV2, round-tripping through Marshal and Parse.
func TestBundleV2(t *testing.T) {
	m := newMapLog(t)
	c0 := m.companies[0].ID
	for _, tc := range []struct {
		index           uint64
		signer          string
		added           uint64
		revoked         *uint64
		accord, nonRevo string
	}{
		{0, attest.RegistrarID, 0, nil, "", "not revoked"},
		{1, attest.RegistrarID, 0, nil, "", "not revoked"}, // the accord, signed by the registrar
		{2, attest.RegistrarID, 0, nil, "", "not revoked"}, // a register
		{36, c0, 2, nil, "cybersecurity-tech-accord-2018", "not revoked"},
		{idxAddKey, c0, 2, nil, "", "not revoked"},
		{idxNewPledge, c0, idxAddKey, ptr(uint64(idxRevoke)), "cybersecurity-tech-accord-2018", "revoked since 178"},
		{idxRevoke, c0, 2, nil, "", "not revoked"},
		{idxAfterRev, c0, 2, nil, "cybersecurity-tech-accord-2018", "not revoked"},
	} {
		b := m.bundleV2(t, tc.index)
		data := b.Marshal()
		if len(data) > MaxSizeV2 {
			t.Fatalf("entry %d: %d bytes, above MaxSizeV2 %d", tc.index, len(data), MaxSizeV2)
		}
		t.Logf("v2 bundle of entry %d: %d bytes", tc.index, len(data))
		pb, err := Parse(data)
		if err != nil {
			t.Fatalf("Parse(bundle of %d): %v", tc.index, err)
		}
		if !reflect.DeepEqual(pb, b) || !bytes.Equal(pb.Marshal(), data) {
			t.Fatalf("entry %d: Parse(Marshal(b)) differs from b", tc.index)
		}
		r, err := Verify(pb, m.v2Policy())
		if err != nil {
			t.Fatalf("Verify(v2 bundle of %d): %v", tc.index, err)
		}
		if r.Version != 2 || r.Signer != tc.signer || r.KeyAdded != tc.added || !reflect.DeepEqual(r.KeyRevoked, tc.revoked) ||
			r.MapRoot != m.root || r.MapSize != m.size || len(r.Evidence) != 0 {
			t.Fatalf("entry %d: %+v", tc.index, r)
		}
		if (r.Accord == nil) != (tc.accord == "") || r.Accord != nil && r.Accord.ID != tc.accord {
			t.Fatalf("entry %d: accord %+v, want %q", tc.index, r.Accord, tc.accord)
		}
		if !strings.Contains(r.NonRevocation, tc.nonRevo) {
			t.Fatalf("entry %d: non-revocation %q, want %q", tc.index, r.NonRevocation, tc.nonRevo)
		}
		facts := strings.Join(r.Facts(), "\n")
		for _, want := range []string{"map root " + verify.Hash(m.root).String() + " committed", "map: key " + r.KeyID} {
			if !strings.Contains(facts, want) {
				t.Fatalf("entry %d: facts lack %q:\n%s", tc.index, want, facts)
			}
		}
		if tc.revoked != nil {
			t.Logf("entry %d: %s", tc.index, r.NonRevocation)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestBundleV2Rejected: a tampered map proof, value, root or signer, a
// map root the checkpoint does not commit to, a checkpoint without map
// line, and a key void where it signed are all rejected, with the
// sentinel that says why.
func TestBundleV2Rejected(t *testing.T) {
	m := newMapLog(t)
	p := m.v2Policy()
	good := m.bundleV2(t, idxNewPledge)
	if _, err := Verify(good, p); err != nil {
		t.Fatal(err)
	}
	otherRoot := m.root
	otherRoot[0] ^= 1
	for _, tc := range []struct {
		name   string
		tamper func(b *Bundle)
		want   error
	}{
		{"key proof node hash", func(b *Bundle) { b.Map.Key.Proof[0].Hash[3] ^= 1 }, ErrMap},
		{"key proof node dropped", func(b *Bundle) { b.Map.Key.Proof = b.Map.Key.Proof[1:] }, ErrMap},
		{"principal proof node hash", func(b *Bundle) { b.Map.Principal.Proof[1].Hash[0] ^= 1 }, ErrMap},
		{"accord proof node hash", func(b *Bundle) { b.Map.Accord.Proof[0].Hash[31] ^= 1 }, ErrMap},
		{"key value: not revoked", func(b *Bundle) {
			b.Map.Key.Value = attest.MapKeyValue(idxAddKey, nil, nil)
		}, ErrMap},
		{"key value: added later", func(b *Bundle) { b.Map.Key.Value[8] ^= 1 }, ErrMap},
		{"principal value", func(b *Bundle) { b.Map.Principal.Value[20] ^= 1 }, ErrMap},
		{"accord value", func(b *Bundle) { b.Map.Accord.Value[12] ^= 1 }, ErrMap},
		{"values swapped", func(b *Bundle) { b.Map.Key, b.Map.Principal = b.Map.Principal, b.Map.Key }, ErrMap},
		{"no accord", func(b *Bundle) { b.Map.Accord = nil }, ErrMalformed},
		{"root not the map's", func(b *Bundle) { b.Checkpoint = m.checkpointV2(otherRoot, 1) }, ErrMap},
		{"checkpoint without map line", func(b *Bundle) { b.Checkpoint = m.checkpoint(m.size, 1) }, ErrMap},
		{"signer of another signatory", func(b *Bundle) { b.Map.Owner = m.companies[1].ID }, ErrKey},
		{"signer the registrar", func(b *Bundle) { b.Map.Owner = attest.RegistrarID }, ErrMap},
		{"another key", func(b *Bundle) {
			k, _ := attest.NewPublicKey(m.demo.Keys[m.companies[0].ID].Public())
			b.Map.Signer = k
		}, ErrMap},
		{"entry leaf", func(b *Bundle) { b.Entry.Leaf = bytes.Clone(b.Entry.Leaf); b.Entry.Leaf[40] ^= 1 }, ErrInclusion},
	} {
		b := m.bundleV2(t, idxNewPledge)
		tc.tamper(b)
		_, err := Verify(b, p)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
		// What a parser reads back is rejected the same way.
		if pb, perr := Parse(b.Marshal()); perr == nil {
			if _, err := Verify(pb, p); !errors.Is(err, tc.want) {
				t.Errorf("%s, parsed: Verify = %v, want %v", tc.name, err, tc.want)
			}
		}
	}
	// A key compromised from before it signed: the signature is void.
	b := m.bundleV2(t, idxNewPledge)
	void := uint64(idxNewPledge)
	b.Map.Key.Value = attest.MapKeyValue(idxAddKey, ptr(uint64(idxRevoke)), &void)
	if err := voidRoot(m, b); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(b, p); !errors.Is(err, ErrRevoked) {
		t.Errorf("a void signature: Verify = %v, want ErrRevoked", err)
	}
}

// voidRoot re-commits b's checkpoint to a map whose leaves are the map
// log's with b's key value, and reproves b's leaves in it: a consistent
// log whose key state is b's.
func voidRoot(m *mapLog, b *Bundle) error {
	ctx := context.Background()
	leaves := m.src.reg.MapLeaves()
	keyLabel := attest.MapLabel(attest.MapKey, b.Map.Owner, b.Map.Signer.ID())
	for i := range leaves {
		if leaves[i].Label == keyLabel {
			leaves[i].Value = b.Map.Key.Value
		}
	}
	mp, err := attest.NewMap(ctx, prefix.NewMemoryStorage())
	if err != nil {
		return err
	}
	if err := mp.Update(ctx, leaves); err != nil {
		return err
	}
	root, _ := mp.Root(ctx)
	for _, l := range []struct {
		p     *MapLeafProof
		label [32]byte
	}{{&b.Map.Key, keyLabel}, {&b.Map.Principal, attest.MapLabel(attest.MapPrincipal, b.Map.Owner)},
		{b.Map.Accord, attest.MapLabel(attest.MapAccord, "cybersecurity-tech-accord-2018")}} {
		_, proof, err := mp.Prove(ctx, l.label)
		if err != nil {
			return err
		}
		l.p.Proof = proof
	}
	b.Checkpoint = m.checkpointV2(root, 1)
	return nil
}

// TestParseV2Strict: the v2 parser refuses what is not the format, field
// by field, and v1's members in a v2 bundle.
func TestParseV2Strict(t *testing.T) {
	m := newMapLog(t)
	data := string(m.bundleV2(t, idxNewPledge).Marshal())
	node := base64.StdEncoding.EncodeToString(MapNodeBytes(m.bundleV2(t, idxNewPledge).Map.Key.Proof[0]))
	badBits := make([]byte, mapNodeSize)
	badBits[3], badBits[4] = 1, 0x40 // a 1-bit label with its second bit set
	for _, tc := range []struct{ name, from, to, field string }{
		{"v1 evidence member", `,"map":`, `,"evidence":[],"map":`, "evidence"},
		{"unknown member", `,"signer":`, `,"extra":1,"signer":`, "extra"},
		{"repeated map member", `"key":{`, `"key":{"value":"AQ==","proof":[]},"key":{`, "map.key"},
		{"missing key", `"key":`, `"notkey":`, "map.notkey"},
		{"non-canonical base64 node", node, strings.TrimRight(node, "=") + "==", "map.key.proof[0]"},
		{"short node", node, "AAAA", "map.key.proof[0]"},
		{"label bits past its length", node, base64.StdEncoding.EncodeToString(badBits), "map.key.proof[0]"},
		{"unknown key type", `"type":"ed25519"`, `"type":"rsa"`, "signer.type"},
		{"owner not an id", `"owner":"`, `"owner":"A`, "signer.owner"},
		{"empty value", `"value":"`, `"value":"","x":"`, "map.principal.value"},
	} {
		if !strings.Contains(data, tc.from) {
			t.Fatalf("%s: %q not in the bundle", tc.name, tc.from)
		}
		_, err := Parse([]byte(strings.Replace(data, tc.from, tc.to, 1)))
		var fe *FieldError
		if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) || fe.Field != tc.field {
			t.Errorf("%s: Parse = %v, want ErrMalformed at %s", tc.name, err, tc.field)
		}
	}
	big := strings.Replace(data, `"checkpoint":"`, `"checkpoint":"`+strings.Repeat("x", MaxSizeV2), 1)
	if _, err := Parse([]byte(big)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a bundle above MaxSizeV2: Parse = %v", err)
	}
	cp := strings.Replace(data, `\n\n`, `\n\t\n`, 1)
	if _, err := Parse([]byte(cp)); !errors.Is(err, ErrMalformed) {
		t.Errorf("a checkpoint with a tab: Parse = %v", err)
	}
}

// TestMaxSizeV2: a v2 bundle with every part at its largest marshals to
// at most MaxSizeV2 bytes, and parses.
func TestMaxSizeV2(t *testing.T) {
	var n MapLeafProof
	n.Value = make([]byte, maxValue)
	n.Value[0] = attest.MapPrincipal
	for range MaxMapProof {
		n.Proof = append(n.Proof, prefix.ProofNode{})
	}
	hashes := make([]verify.Hash, MaxProof)
	// The largest checkpoint: a valid note padded with a long extension
	// line of '"', each escaped in two bytes.
	text := verify.Checkpoint{Origin: testOrigin, Size: 1, Extensions: []string{"x"}}.Text()
	key := testKey("log")
	note, err := verify.Sign(text, verify.NewEd25519Signer(testOrigin, key))
	if err != nil {
		t.Fatal(err)
	}
	pad := MaxCheckpointV2 - len(note)
	text = verify.Checkpoint{Origin: testOrigin, Size: 1, Extensions: []string{strings.Repeat(`"`, pad+1)}}.Text()
	if note, err = verify.Sign(text, verify.NewEd25519Signer(testOrigin, key)); err != nil {
		t.Fatal(err)
	}
	if len(note) != MaxCheckpointV2 {
		t.Fatalf("checkpoint of %d bytes", len(note))
	}
	spki := make([]byte, MaxSPKI)
	b := &Bundle{Entry: Entry{Index: ^uint64(0), Leaf: make([]byte, verify.MaxEntrySize), Proof: hashes}, Checkpoint: note,
		Map: &MapEvidence{Owner: strings.Repeat("a", maxOwner), Signer: attest.PublicKey{Type: attest.ECDSAP256, SPKI: spki},
			Principal: n, Key: n, Accord: &n}}
	data := b.Marshal()
	t.Logf("largest v2 bundle: %d bytes, MaxSizeV2 %d", len(data), MaxSizeV2)
	if len(data) > MaxSizeV2 {
		t.Fatalf("%d bytes, above MaxSizeV2 %d", len(data), MaxSizeV2)
	}
	if _, err := Parse(data); err != nil {
		t.Fatalf("Parse(largest) = %v", err)
	}
}

// FuzzParseBundleV2: what Parse accepts of a v2 bundle re-encodes to the
// same bundle and bytes.
func FuzzParseBundleV2(f *testing.F) {
	m := newMapLog(&testing.T{})
	f.Add(m.bundleV2(&testing.T{}, idxNewPledge).Marshal())
	f.Add(m.bundleV2(&testing.T{}, 0).Marshal())
	f.Add([]byte(`{"mediaType":"application/vnd.pledgelog.bundle.v2+json"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			return
		}
		out := b.Marshal()
		if len(out) > MaxSizeV2 && b.IsV2() {
			t.Fatalf("Marshal of a parsed v2 bundle has %d bytes, above MaxSizeV2", len(out))
		}
		b2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%q))) = %v", data, err)
		}
		if !reflect.DeepEqual(b, b2) || !bytes.Equal(b2.Marshal(), out) {
			t.Fatalf("round trip of %q changed the bundle", data)
		}
	})
}

// BenchmarkProverBundle builds and self-checks the bundle of the map
// log's pledge 173 (a key added by add-key) as a log answers a
// submission (with its Verified entry), v1 and v2, on one Builder each:
// the v2 cost is its three map proofs, proven and verified.
func BenchmarkProverBundle(b *testing.B) {
	m := newMapLog(&testing.T{})
	ctx := context.Background()
	v := m.verified(idxNewPledge)
	for _, version := range []int{1, 2} {
		b.Run(fmt.Sprint("v", version), func(b *testing.B) {
			bu := NewBuilder(mapSource{m}, verify.NewNodeCache(1<<10), m.registryPolicy())
			for b.Loop() {
				p, err := bu.Prover(m.checkpointV2(m.root, 0))
				if err != nil {
					b.Fatal(err)
				}
				if version == 1 {
					_, err = p.Bundle(ctx, idxNewPledge, v)
				} else {
					_, err = p.BundleV2(ctx, idxNewPledge, v)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCheckerV2Remembers: a Checker that verified a v2 bundle's map
// proofs still refuses the same leaves with a tampered proof or value at
// the same root, and accepts the good bundle again.
func TestCheckerV2Remembers(t *testing.T) {
	m := newMapLog(t)
	c := NewChecker(m.v2Policy())
	if _, err := c.Check(m.bundleV2(t, idxNewPledge), nil); err != nil {
		t.Fatal(err)
	}
	for name, tamper := range map[string]func(b *Bundle){
		"proof": func(b *Bundle) { b.Map.Accord.Proof[2].Hash[1] ^= 1 },
		"value": func(b *Bundle) { b.Map.Key.Value = attest.MapKeyValue(idxAddKey, nil, nil) },
	} {
		b := m.bundleV2(t, idxNewPledge)
		tamper(b)
		if _, err := c.Check(b, nil); !errors.Is(err, ErrMap) {
			t.Errorf("tampered %s after a good check: %v, want ErrMap", name, err)
		}
	}
	if r, err := c.Check(m.bundleV2(t, idxNewPledge), nil); err != nil || r.KeyRevoked == nil {
		t.Fatalf("the good bundle again: %v", err)
	}
}
