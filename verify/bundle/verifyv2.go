package bundle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// verifyV2 is Verify of a v2 bundle, p checked, after its checkpoint cp
// was opened under p: the entry is included in it; the map root is the one the
// checkpoint commits to; the signer's key leaf, its owner's leaf and, for
// a pledge, the accord's leaf verify against that root with the labels
// computed from the entry; the entry is a canonical attestation of p's
// origin whose one authorising signature is by the signer, a key its
// owner may authorise the entry with, added before the entry, and whose
// other signatures are by the key the entry introduces. What the key's
// leaf says of a revocation sets r.NonRevocation, or fails with
// ErrRevoked when the key was revoked before it signed or its signature
// is void.
//
// A verified envelope is the entry's leaf parsed with its signatures
// verified (see Verified): neither is done again.
func verifyV2(b *Bundle, cp verify.Checkpoint, p *Policy, verified *attest.Envelope, r *Result, vm mapVerifier) error {
	m := b.Map
	if err := include("entry", b.Entry, cp); err != nil {
		return err
	}
	root, ok, err := attest.ParseMapExtension(cp.Extensions)
	switch {
	case err != nil:
		return fieldErr("checkpoint", ErrMap, err)
	case !ok:
		return fieldErr("checkpoint", ErrMap, errors.New("the checkpoint commits to no registry map (no pledgelog/map/v1 line)"))
	}
	r.MapRoot = root
	env := verified
	if env == nil {
		if env, err = parseLeaf("entry", b.Entry.Leaf, p.Origin, ErrEnvelope); err != nil {
			return err
		}
	} else if err := checkOrigin("entry", env, p.Origin, ErrEnvelope); err != nil {
		return err
	}
	st := env.Statement
	r.Statement = st
	if m.Owner != st.Signatory() && m.Owner != attest.RegistrarID {
		return fieldErr("signer.owner", ErrKey, fmt.Errorf("%q may not sign for %q", m.Owner, st.Signatory()))
	}
	keyID := m.Signer.ID()
	key, err := proveKey(m, keyID, root, vm)
	if err != nil {
		return err
	}
	if err := provePrincipal(m, key, root, r, vm); err != nil {
		return err
	}
	if err := authoriseV2(b.Entry, env, m, key, verified == nil); err != nil {
		return err
	}
	r.Signer, r.KeyID, r.KeyAdded = m.Owner, keyID, key.Added
	r.KeyRevoked, r.KeyVoidFrom = key.Revoked, key.VoidFrom
	if err := proveAccord(m, st, b.Entry.Index, root, r, vm); err != nil {
		return err
	}
	return nonRevocation(st, b.Entry.Index, cp.Size, r)
}

// proveKey verifies the signer's key leaf and decodes it.
func proveKey(m *MapEvidence, keyID string, root [32]byte, vm mapVerifier) (attest.MapKeyState, error) {
	label := attest.MapLabel(attest.MapKey, m.Owner, keyID)
	if err := vm(root, label, m.Key.Value, m.Key.Proof); err != nil {
		return attest.MapKeyState{}, fieldErr("map.key", ErrMap, fmt.Errorf("key %s of %s: %w", keyID, m.Owner, err))
	}
	k, err := attest.ParseMapKeyValue(m.Key.Value)
	if err != nil {
		return k, fieldErr("map.key.value", ErrMap, err)
	}
	return k, nil
}

// provePrincipal verifies the owner's leaf: registered no later than the
// key was added.
func provePrincipal(m *MapEvidence, key attest.MapKeyState, root [32]byte, r *Result, vm mapVerifier) error {
	label := attest.MapLabel(attest.MapPrincipal, m.Owner)
	if err := vm(root, label, m.Principal.Value, m.Principal.Proof); err != nil {
		return fieldErr("map.principal", ErrMap, fmt.Errorf("principal %s: %w", m.Owner, err))
	}
	pr, err := attest.ParseMapPrincipalValue(m.Principal.Value)
	if err != nil {
		return fieldErr("map.principal.value", ErrMap, err)
	}
	if pr.Registered > key.Added {
		return fieldErr("map.principal.value", ErrMap, fmt.Errorf("%s registered at %d, after its key was added at %d", m.Owner, pr.Registered, key.Added))
	}
	r.Registered, r.ChainSeq = pr.Registered, pr.Seq
	return nil
}

// authoriseV2 checks the entry's signatures: exactly one by the signer,
// whose owner may authorise the statement and which was added before the
// entry (a genesis: the key the entry introduces, at index 0), every
// other by the key the entry introduces. Signatures are verified only
// with sigs.
func authoriseV2(e Entry, env *attest.Envelope, m *MapEvidence, key attest.MapKeyState, sigs bool) error {
	st := env.Statement
	owner, action, newKey := introduced(st)
	if action == "genesis" {
		if e.Index != 0 || key.Added != 0 || newKey.ID() != m.Signer.ID() || m.Owner != attest.RegistrarID {
			return fieldErr("entry", ErrKey, errors.New("a genesis is entry 0, signed by the registrar key it introduces"))
		}
		if len(env.Signatures) != 1 {
			return fieldErr("entry.signatures", ErrEnvelope, errors.New("genesis must be signed by its key alone"))
		}
		if sigs {
			if err := newKey.Verify(env.PAE(), env.Signatures[0].Sig); err != nil {
				return fieldErr("entry.signatures[0]", ErrEnvelope, err)
			}
		}
		return nil
	}
	if key.Added >= e.Index {
		return fieldErr("map.key.value", ErrKey, fmt.Errorf("key %s added at %d, not before the entry at %d", m.Signer.ID(), key.Added, e.Index))
	}
	if newKey != nil && newKey.ID() == m.Signer.ID() {
		return fieldErr("signer", ErrKey, fmt.Errorf("the entry introduces key %s for %s itself", newKey.ID(), owner))
	}
	ring := keyring{m.Signer.ID(): &known{key: m.Signer, owner: m.Owner, added: key.Added, logged: true}}
	_, err := ring.checkSigs("entry", env, newKey, ErrEnvelope, true, sigs)
	return err
}

// proveAccord verifies, for a pledge, the leaf of the accord it names:
// logged before the pledge, with the digest the pledge's subject names.
// Any other entry carries no accord leaf.
func proveAccord(m *MapEvidence, st *attest.Statement, index uint64, root [32]byte, r *Result, vm mapVerifier) error {
	pl, ok := st.Predicate.(*attest.Pledge)
	switch {
	case !ok && m.Accord != nil:
		return fieldErr("map.accord", ErrMalformed, fmt.Errorf("a %s entry carries no accord leaf", st.PredicateType))
	case !ok:
		return nil
	case m.Accord == nil:
		return fieldErr("map.accord", ErrMalformed, errors.New("missing: a pledge's bundle proves its accord"))
	}
	label := attest.MapLabel(attest.MapAccord, pl.Accord)
	if err := vm(root, label, m.Accord.Value, m.Accord.Proof); err != nil {
		return fieldErr("map.accord", ErrMap, fmt.Errorf("accord %s: %w", pl.Accord, err))
	}
	a, err := attest.ParseMapAccordValue(m.Accord.Value)
	if err != nil {
		return fieldErr("map.accord.value", ErrMap, err)
	}
	digest := hex.EncodeToString(a.Digest[:])
	if a.Index >= index {
		return fieldErr("map.accord.value", ErrMap, fmt.Errorf("accord %s logged at %d, not before the pledge at %d", pl.Accord, a.Index, index))
	}
	if len(st.Subject) != 1 || st.Subject[0].Digest.SHA256 != digest {
		return fieldErr("entry.leaf", ErrEnvelope, fmt.Errorf("the pledge's subject is not accord %s as logged (sha256 %s)", pl.Accord, digest))
	}
	r.Accord = &AccordProof{ID: pl.Accord, Index: a.Index, Digest: digest}
	return nil
}

// nonRevocation says what the key's leaf proves of a revocation at the
// checkpoint of size: nothing revoked, revoked after the entry (the
// signature stands), or ErrRevoked: revoked before the entry, or the
// signature void (but a revocation's: revocations a void key signed
// stand).
func nonRevocation(st *attest.Statement, index, size uint64, r *Result) error {
	key := fmt.Sprintf("key %s of %s", r.KeyID, r.Signer)
	if r.KeyRevoked != nil && *r.KeyRevoked < index {
		return fieldErr("map.key.value", ErrRevoked, fmt.Errorf("%s revoked at %d, before it signed entry %d", key, *r.KeyRevoked, index))
	}
	void := r.KeyVoidFrom != nil && *r.KeyVoidFrom <= index
	if ev, ok := st.Predicate.(*attest.SignatoryEvent); void && (!ok || ev.Action != attest.ActionRevoke) {
		return fieldErr("map.key.value", ErrRevoked, fmt.Errorf("%s compromised: signatures void from %d, it signed entry %d", key, *r.KeyVoidFrom, index))
	}
	switch {
	case r.KeyRevoked == nil:
		r.NonRevocation = fmt.Sprintf("%s valid at index %d and, as of checkpoint %d, not revoked (map proof)", key, index, size)
	case void:
		r.NonRevocation = fmt.Sprintf("%s revoked since %d, its signatures void from %d; a revocation it signed stands (map proof at checkpoint %d)", key, *r.KeyRevoked, *r.KeyVoidFrom, size)
	case r.KeyVoidFrom != nil:
		r.NonRevocation = fmt.Sprintf("%s valid at index %d, revoked since %d, its signatures void from %d, after this one (map proof at checkpoint %d)", key, index, *r.KeyRevoked, *r.KeyVoidFrom, size)
	default:
		r.NonRevocation = fmt.Sprintf("%s valid at index %d, revoked since %d (map proof at checkpoint %d)", key, index, *r.KeyRevoked, size)
	}
	r.MapSize = size
	return nil
}

// A mapVerifier checks a map proof as attest.VerifyMapProof does.
type mapVerifier func(root, label [32]byte, value []byte, proof attest.MapProof) error

// mapMemo is a map proof that verified: its value and proof, copies.
type mapMemo struct {
	value []byte
	proof attest.MapProof
}

// verifyMap is attest.VerifyMapProof, remembering what verified by root
// and label: the same root, label, value and proof verify again (a pure
// function of them), so a log's self-check proves the leaves every pledge
// of a signatory shares at one checkpoint once.
func (c *Checker) verifyMap(root, label [32]byte, value []byte, proof attest.MapProof) error {
	var k [64]byte
	copy(k[:32], root[:])
	copy(k[32:], label[:])
	c.mu.Lock()
	mm, ok := c.maps[k]
	c.mu.Unlock()
	if ok && bytes.Equal(mm.value, value) && slices.Equal(mm.proof, proof) {
		return nil
	}
	if err := attest.VerifyMapProof(root, label, value, proof); err != nil {
		return err
	}
	c.mu.Lock()
	remember(&c.maps, k, mapMemo{bytes.Clone(value), slices.Clone(proof)}, maxCopied)
	c.mu.Unlock()
	return nil
}

// An AccordProof is the accord a pledge names, as a v2 bundle's map
// proves it.
type AccordProof struct {
	ID     string `json:"id"`
	Index  uint64 `json:"index"`  // the index of its entry
	Digest string `json:"digest"` // hex SHA-256 of its canonical predicate, the pledge's subject
}

// MapRootString is r's map root in base64, as the checkpoint line has it.
func (r *Result) MapRootString() string { return verify.Hash(r.MapRoot).String() }
