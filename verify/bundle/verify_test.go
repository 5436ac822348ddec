package bundle

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

func TestVerifyGood(t *testing.T) {
	l := newTestLog(t)
	c0 := l.companies[0].ID
	reg, k0, k2 := keyID(l.demo.Registrar), keyID(l.demo.Keys[c0]), keyID(testKey("second"))
	tests := []struct {
		name      string
		b         *Bundle
		quorum    int
		signer    string
		key       string
		added     uint64
		evidence  []Link
		cosigners int
	}{
		{"demo pledge", l.bundle(36, testSize, 1, 2), 1, c0, k0, 2,
			[]Link{{2, attest.ActionRegister, c0, k0, reg}}, 1},
		{"pledge by an added key", l.bundle(idxNewPledge, testSize, 2, 2, idxAddKey), 2, c0, k2, idxAddKey,
			[]Link{{2, attest.ActionRegister, c0, k0, reg}, {idxAddKey, attest.ActionAddKey, c0, k2, k0}}, 2},
		{"accord by the registrar", l.bundle(1, testSize, 0, 0), 0, attest.RegistrarID, reg, 0,
			[]Link{{0, "genesis", attest.RegistrarID, reg, ""}}, 0},
		{"register event", l.bundle(2, testSize, 0, 0), 0, attest.RegistrarID, reg, 0,
			[]Link{{0, "genesis", attest.RegistrarID, reg, ""}}, 0},
		{"genesis", l.bundle(0, testSize, 0), 0, attest.RegistrarID, reg, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Verify(tt.b, l.policy(tt.quorum))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if r.Signer != tt.signer || r.KeyID != tt.key || r.KeyAdded != tt.added {
				t.Errorf("Verify = signer %s key %s added %d, want %s %s %d", r.Signer, r.KeyID, r.KeyAdded, tt.signer, tt.key, tt.added)
			}
			if !slices.Equal(r.Evidence, tt.evidence) {
				t.Errorf("Evidence = %+v, want %+v", r.Evidence, tt.evidence)
			}
			if len(r.Cosignatures) != tt.cosigners || r.NonRevocation != NotProvenOffline {
				t.Errorf("Verify = %d cosignatures, non-revocation %q", len(r.Cosignatures), r.NonRevocation)
			}
			if r.Size != testSize || r.Root != l.root(testSize) || r.Index != tt.b.Entry.Index {
				t.Errorf("Verify = size %d root %s index %d", r.Size, r.Root, r.Index)
			}
		})
	}
}

func TestFacts(t *testing.T) {
	l := newTestLog(t)
	c0 := l.companies[0].ID
	r, err := Verify(l.bundle(36, testSize, 1, 2), l.policy(1))
	if err != nil {
		t.Fatal(err)
	}
	logID := verify.KeyID(testOrigin, verify.TypeEd25519, l.logKey.Public().(ed25519.PublicKey))
	want := []string{
		fmt.Sprintf("checkpoint: %s size %d root %s signed by log key %s+%08x", testOrigin, testSize, l.root(testSize), testOrigin, logID),
		fmt.Sprintf("cosigned by witness %s+%08x at 2026-01-01T00:00:00Z", witnessName(0), r.Cosignatures[0].KeyID),
		"witness quorum met: 1 of 2 witnesses",
		fmt.Sprintf("evidence: entry 2 (register) included, adds key %s for %s, authorised by key %s", keyID(l.demo.Keys[c0]), c0, keyID(l.demo.Registrar)),
		fmt.Sprintf("entry 36 included, leaf hash %s", verify.LeafHash(l.entries[36])),
		fmt.Sprintf("statement: %s for %s", attest.PledgeType, c0),
		fmt.Sprintf("signed by key %s of %s, added at index 2", keyID(l.demo.Keys[c0]), c0),
		"non-revocation: not proven offline",
	}
	if got := r.Facts(); !slices.Equal(got, want) {
		t.Errorf("Facts() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestVerifyTampered(t *testing.T) {
	l := newTestLog(t)
	good := func() *Bundle { return l.bundle(idxNewPledge, testSize, 1, 2, idxAddKey) }
	type tamper struct {
		name  string
		edit  func(b *Bundle)
		want  error
		field string
	}
	tests := []tamper{
		{"leaf byte", func(b *Bundle) { b.Entry.Leaf[10] ^= 1 }, ErrInclusion, "entry:"},
		{"index+1", func(b *Bundle) { b.Entry.Index++ }, ErrInclusion, "entry"},
		{"index-1", func(b *Bundle) { b.Entry.Index-- }, ErrInclusion, "entry"},
		{"index beyond size", func(b *Bundle) { b.Entry.Index = testSize }, ErrInclusion, "entry.index"},
		{"proof shortened", func(b *Bundle) { b.Entry.Proof = b.Entry.Proof[1:] }, ErrInclusion, "entry:"},
		{"proof extended", func(b *Bundle) { b.Entry.Proof = append(b.Entry.Proof, verify.Hash{}) }, ErrInclusion, "entry:"},
		{"checkpoint text", func(b *Bundle) { b.Checkpoint[len(testOrigin)+2] ^= 1 }, ErrLogSignature, "checkpoint.signature"},
		{"checkpoint origin", func(b *Bundle) { b.Checkpoint[0] = 'L' }, ErrLogSignature, "checkpoint.signature"},
		{"checkpoint removed", func(b *Bundle) { b.Checkpoint = []byte("x\n") }, ErrCheckpoint, "checkpoint"},
		{"log signature", func(b *Bundle) { flipSig(b, testOrigin) }, ErrLogSignature, "checkpoint.signature"},
		{"cosignature", func(b *Bundle) { flipSig(b, witnessName(0)) }, ErrCosignature, "checkpoint.cosignature[" + witnessName(0) + "]"},
		{"evidence leaf", func(b *Bundle) { b.Evidence[0].Leaf[10] ^= 1 }, ErrInclusion, "evidence[0]:"},
		{"evidence index+1", func(b *Bundle) { b.Evidence[0].Index++ }, ErrInclusion, "evidence[0]:"},
		{"evidence index-1", func(b *Bundle) { b.Evidence[0].Index-- }, ErrInclusion, "evidence[0]:"},
		{"evidence proof", func(b *Bundle) { b.Evidence[1].Proof[0][0] ^= 1 }, ErrInclusion, "evidence[1]:"},
		{"evidence order", func(b *Bundle) { slices.Reverse(b.Evidence) }, ErrEvidence, "evidence[1].index"},
		{"evidence dropped", func(b *Bundle) { b.Evidence = b.Evidence[1:] }, ErrKey, "evidence[0].signatures[0]"},
		{"evidence after the entry", func(b *Bundle) { b.Evidence[1] = l.entry(idxLateKey, testSize) }, ErrKey, "evidence[1].index"},
		{"evidence of another signatory", func(b *Bundle) { b.Evidence[0] = l.entry(3, testSize) }, ErrKey, "evidence[1].signatures"},
		{"evidence not a key event", func(b *Bundle) { b.Evidence[0] = l.entry(1, testSize) }, ErrEvidence, "evidence[0].leaf"},
	}
	for i := range good().Entry.Proof {
		tests = append(tests, tamper{fmt.Sprintf("proof hash %d", i), func(b *Bundle) { b.Entry.Proof[i][31] ^= 1 }, ErrInclusion, "entry:"})
	}
	for i := range good().Evidence[0].Proof {
		tests = append(tests, tamper{fmt.Sprintf("evidence proof hash %d", i), func(b *Bundle) { b.Evidence[0].Proof[i][0] ^= 1 }, ErrInclusion, "evidence[0]:"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good()
			tt.edit(b)
			checkErr(t, b, l.policy(1), tt.want, tt.field)
		})
	}
}

// flipSig flips a bit of the signature line of name in b's checkpoint.
func flipSig(b *Bundle, name string) {
	i := strings.Index(string(b.Checkpoint), "— "+name+" ")
	b.Checkpoint[i+len("— "+name+" ")+10] ^= 1 // a base64 letter, still canonical
}

func checkErr(t *testing.T, b *Bundle, p Policy, want error, field string) {
	t.Helper()
	r, err := Verify(b, p)
	if !errors.Is(err, want) || r != nil {
		t.Fatalf("Verify = %v, %v; want %v", r, err, want)
	}
	if !strings.HasPrefix(err.Error(), field) {
		t.Errorf("Verify error %q does not start with %q", err, field)
	}
}

func TestVerifyRejects(t *testing.T) {
	l := newTestLog(t)
	otherLog := l.policy(1)
	v, _ := verify.NewVerifier(verify.Ed25519VerifierKey(testOrigin, testKey("other log").Public().(ed25519.PublicKey)))
	otherLog.LogKeys = []verify.Verifier{v}
	otherReg := l.policy(1)
	pk, _ := attest.NewPublicKey(testKey("other registrar").Public())
	otherReg.RegistrarKeys = []attest.PublicKey{pk}
	tests := []struct {
		name  string
		b     *Bundle
		p     Policy
		want  error
		field string
	}{
		{"wrong log key", l.bundle(36, testSize, 1, 2), otherLog, ErrLogSignature, "checkpoint.signature"},
		{"wrong registrar key", l.bundle(36, testSize, 1, 2), otherReg, ErrRegistrar, "evidence[0].signatures"},
		{"wrong registrar key, genesis", l.bundle(1, testSize, 1, 0), otherReg, ErrRegistrar, "evidence[0].leaf"},
		{"quorum not met", l.bundle(36, testSize, 1, 2), l.policy(2), ErrQuorum, "checkpoint.cosignatures"},
		{"foreign key", l.bundle(idxForeign, testSize, 1, 2), l.policy(1), ErrKey, "entry.signatures[0]"},
		{"key added after the entry", l.bundle(idxEarly, testSize, 1, 2, idxAddKey), l.policy(1), ErrKey, "entry.signatures[0]"},
		{"bad entry signature", l.bundle(idxBadSig, testSize, 1, 2), l.policy(1), ErrEnvelope, "entry.signatures[0]"},
		{"no evidence", l.bundle(36, testSize, 1), l.policy(1), ErrKey, "entry.signatures[0]"},
		{"registrar entry without genesis", l.bundle(1, testSize, 1), l.policy(1), ErrKey, "entry.signatures[0]"},
		{"quorum above the witnesses", l.bundle(36, testSize, 1, 2), policyWith(l.policy(1), func(p *Policy) { p.Quorum = verify.Threshold(3, p.Quorum.Cosigners()...) }), ErrPolicy, "policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, tt.b, tt.p, tt.want, tt.field) })
	}
}

func policyWith(p Policy, edit func(*Policy)) Policy {
	edit(&p)
	return p
}

func TestRegistrarByKeyID(t *testing.T) {
	l := newTestLog(t)
	p := l.policy(1)
	p.RegistrarKeys, p.RegistrarKeyIDs = nil, []string{keyID(l.demo.Registrar)}
	if _, err := Verify(l.bundle(36, testSize, 1, 0, 2), p); err != nil {
		t.Errorf("Verify with genesis evidence: %v", err)
	}
	checkErr(t, l.bundle(36, testSize, 1, 2), p, ErrRegistrar, "evidence[0].signatures")
}

func TestAuditState(t *testing.T) {
	l := newTestLog(t)
	c0 := l.companies[0].ID
	k0 := keyID(l.demo.Keys[c0])
	b := l.bundle(idxNewPledge, testSize, 1, 2, idxAddKey)
	void := uint64(100)
	tests := []struct {
		name string
		a    AuditState
		want error
		nonr string
	}{
		{"same size", AuditState{Origin: testOrigin, Size: testSize, Root: l.root(testSize)}, nil,
			"no key of the chain revoked or void where it signed, as of audited size 178"},
		{"too small", AuditState{Origin: testOrigin, Size: idxNewPledge, Root: l.root(idxNewPledge)}, nil, NotProvenOffline},
		{"later revocation", AuditState{Origin: testOrigin, Size: testSize, Root: l.root(testSize),
			Revocations: []Revocation{{KeyID: k0, Index: idxNewPledge + 1}}}, nil,
			"no key of the chain revoked or void where it signed, as of audited size 178"},
		{"revoked before add-key", AuditState{Origin: testOrigin, Size: testSize, Root: l.root(testSize),
			Revocations: []Revocation{{KeyID: k0, Index: 50}}}, ErrRevoked, ""},
		{"compromised", AuditState{Origin: testOrigin, Size: testSize, Root: l.root(testSize),
			Revocations: []Revocation{{KeyID: k0, Index: idxBadSig, VoidFrom: &void}}}, ErrRevoked, ""},
		{"split view", AuditState{Origin: testOrigin, Size: testSize, Root: l.root(testSize - 1)}, ErrAuditState, ""},
		{"other origin", AuditState{Origin: "other", Size: testSize, Root: l.root(testSize)}, ErrAuditState, ""},
		{"no proof", AuditState{Origin: testOrigin, Size: testSize - 1, Root: l.root(testSize - 1)}, ErrAuditState, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := l.policy(1)
			p.Audit = &tt.a
			r, err := Verify(b, p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err == nil && r.NonRevocation != tt.nonr {
				t.Errorf("NonRevocation = %q, want %q", r.NonRevocation, tt.nonr)
			}
		})
	}
}
