package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

const testOrigin = "log.example.org/tech-accord"

// testLog is a real log built without the log engine: the demo's entries
// and a few more, hashed with x/mod's tlog as the independent reference.
type testLog struct {
	t         *testing.T
	demo      *attest.Demo
	companies []attest.Company
	entries   [][]byte
	hashes    []tlog.Hash
	logKey    ed25519.PrivateKey
	witKeys   []ed25519.PrivateKey
	now       time.Time
}

func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("bundle test key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Indexes of the entries newTestLog adds after the demo's 172.
const (
	idxAddKey    = 172 // add-key of company 0's second key, signed by its first
	idxNewPledge = 173 // a pledge of company 0 signed by the second key
	idxForeign   = 174 // a pledge of company 1 signed by company 0's first key
	idxEarly     = 175 // a pledge of company 0 signed by a third key...
	idxLateKey   = 176 // ...added only here
	idxBadSig    = 177 // a pledge of company 0 whose signature is corrupted
	testSize     = 178
)

func newTestLog(t *testing.T) *testLog {
	t.Helper()
	demo, err := attest.NewDemo(testOrigin, []byte("bundle test"))
	if err != nil {
		t.Fatal(err)
	}
	_, companies := attest.TechAccord(testOrigin)
	l := &testLog{t: t, demo: demo, companies: companies, logKey: testKey("log"),
		witKeys: []ed25519.PrivateKey{testKey("w1"), testKey("w2")}, now: time.Unix(1767225600, 0)}
	for _, e := range demo.Entries {
		l.append(e)
	}
	c0, c1 := companies[0].ID, companies[1].ID
	k2, k3 := testKey("second"), testKey("third")
	l.append(l.addKey(c0, 1, l.entries[2], demo.Keys[c0], k2))
	l.append(l.pledge(c0, "second key", k2))
	l.append(l.pledge(c1, "foreign key", demo.Keys[c0]))
	l.append(l.pledge(c0, "early", k3))
	l.append(l.addKey(c0, 2, l.entries[idxAddKey], k2, k3))
	l.append(l.corrupt(l.pledge(c0, "bad signature", demo.Keys[c0])))
	return l
}

func (l *testLog) append(entry []byte) {
	h, err := tlog.StoredHashes(int64(len(l.entries)), entry, l.hashReader())
	if err != nil {
		l.t.Fatal(err)
	}
	l.entries, l.hashes = append(l.entries, entry), append(l.hashes, h...)
}

func (l *testLog) hashReader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = l.hashes[x]
		}
		return out, nil
	})
}

func (l *testLog) sign(st *attest.Statement, keys ...ed25519.PrivateKey) []byte {
	leaf, err := attest.SignWithKeys(st, keys...)
	if err != nil {
		l.t.Fatal(err)
	}
	return leaf
}

func (l *testLog) addKey(id string, seq uint64, prev []byte, old, added ed25519.PrivateKey) []byte {
	pk, _ := attest.NewPublicKey(added.Public())
	h := attest.LeafHash(prev)
	st, err := attest.NewStatement(&attest.SignatoryEvent{Action: attest.ActionAddKey, Origin: testOrigin,
		Signatory: id, Seq: seq, Prev: hex.EncodeToString(h[:]), Key: &pk})
	if err != nil {
		l.t.Fatal(err)
	}
	return l.sign(st, old, added)
}

func (l *testLog) pledge(id, text string, key ed25519.PrivateKey) []byte {
	demoPledge, err := attest.ParseLeaf(l.entries[36])
	if err != nil {
		l.t.Fatal(err)
	}
	p := &attest.Pledge{Origin: testOrigin, Signatory: id, Accord: "cybersecurity-tech-accord-2018",
		Principle: "no-offense", Status: attest.StatusReaffirmed, Statement: "Test data: " + text, Effective: "2026-01-02"}
	return l.sign(attest.NewPledgeStatement(p, demoPledge.Statement.Subject[0].Digest.SHA256), key)
}

func (l *testLog) corrupt(leaf []byte) []byte {
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		l.t.Fatal(err)
	}
	env.Signatures[0].Sig[5] ^= 1
	return env.Leaf()
}

func (l *testLog) root(size uint64) verify.Hash {
	h, err := tlog.TreeHash(int64(size), l.hashReader())
	if err != nil {
		l.t.Fatal(err)
	}
	return verify.Hash(h)
}

// checkpoint returns the log's signed checkpoint of size, cosigned by the
// first witnesses witnesses.
func (l *testLog) checkpoint(size uint64, witnesses int) []byte {
	text := verify.Checkpoint{Origin: testOrigin, Size: size, Root: l.root(size)}.Text()
	signers := []verify.Signer{verify.NewEd25519Signer(testOrigin, l.logKey)}
	for i, k := range l.witKeys[:witnesses] {
		signers = append(signers, verify.NewCosigner(witnessName(i), k, func() time.Time { return l.now }))
	}
	note, err := verify.Sign(text, signers...)
	if err != nil {
		l.t.Fatal(err)
	}
	return note
}

func witnessName(i int) string {
	return []string{"witness.example.com/w1", "witness.example.com/w2"}[i]
}

func (l *testLog) entry(index, size uint64) Entry {
	p, err := tlog.ProveRecord(int64(size), int64(index), l.hashReader())
	if err != nil {
		l.t.Fatal(err)
	}
	proof := make([]verify.Hash, len(p))
	for i, h := range p {
		proof[i] = verify.Hash(h)
	}
	return Entry{Index: index, Leaf: bytes.Clone(l.entries[index]), Proof: proof}
}

// bundle returns the bundle of entry index at size, with the evidence
// entries given, and a checkpoint cosigned by witnesses witnesses.
func (l *testLog) bundle(index, size uint64, witnesses int, evidence ...uint64) *Bundle {
	b := &Bundle{Entry: l.entry(index, size), Checkpoint: l.checkpoint(size, witnesses), Evidence: []Entry{}}
	for _, e := range evidence {
		b.Evidence = append(b.Evidence, l.entry(e, size))
	}
	return b
}

func (l *testLog) policy(quorum int) Policy {
	logV, err := verify.NewVerifier(verify.Ed25519VerifierKey(testOrigin, l.logKey.Public().(ed25519.PublicKey)))
	if err != nil {
		l.t.Fatal(err)
	}
	reg, _ := attest.NewPublicKey(l.demo.Registrar.Public())
	p := Policy{Origin: testOrigin, LogKeys: []verify.Verifier{logV}, RegistrarKeys: []attest.PublicKey{reg}}
	var witnesses []verify.Verifier
	for i, k := range l.witKeys {
		v, err := verify.NewVerifier(verify.CosignatureVerifierKey(witnessName(i), k.Public().(ed25519.PublicKey)))
		if err != nil {
			l.t.Fatal(err)
		}
		witnesses = append(witnesses, v)
	}
	p.Quorum = verify.Threshold(quorum, witnesses...)
	return p
}

// tiles serves the log's tiles from x/mod's tlog.ReadTileData.
func (l *testLog) tiles() verify.TileReader {
	return verify.TileReaderFunc(func(_ context.Context, t verify.Tile) ([]byte, error) {
		return tlog.ReadTileData(tlog.Tile{H: verify.TileHeight, L: t.Level, N: int64(t.N), W: t.Width}, l.hashReader())
	})
}

// keyID returns the attest key id of a private key.
func keyID(k ed25519.PrivateKey) string {
	pk, _ := attest.NewPublicKey(k.Public())
	return pk.ID()
}
