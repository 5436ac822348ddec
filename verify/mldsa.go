package verify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"filippo.io/mldsa"
)

// mldsaCosignatureSize is the size of a type 0x06 signature: an 8-byte
// timestamp and an ML-DSA-44 signature.
const mldsaCosignatureSize = 8 + mldsa.MLDSA44SignatureSize

// MLDSACosignatureVerifierKey returns the verifier key (type 0x06) of a
// cosigner made by [NewMLDSACosigner]. It panics if pub is not an
// ML-DSA-44 public key.
func MLDSACosignatureVerifierKey(name string, pub *mldsa.PublicKey) string {
	if pub.Parameters() != mldsa.MLDSA44() {
		panic("verify: not an ML-DSA-44 public key")
	}
	return vkey(name, TypeMLDSACosignature, pub.Bytes())
}

// NewMLDSACosigner returns a Signer of c2sp.org/tlog-cosignature
// ML-DSA-44 cosignatures (type 0x06) of whole checkpoints.
//
// Its Sign method accepts only a valid checkpoint text (see
// [ParseCheckpoint]) and returns the 8-byte big-endian time from now (in
// seconds since the Unix epoch, never zero) followed by the ML-DSA-44
// signature, with the empty context, of the cosigned message (see the
// package comment). It is randomized (hedged), as FIPS 204 recommends. A
// nil now means [time.Now]. The name must be a valid key name of at most
// 255 bytes, and key an ML-DSA-44 key.
func NewMLDSACosigner(name string, key *mldsa.PrivateKey, now func() time.Time) (Signer, error) {
	pub := key.PublicKey()
	if pub.Parameters() != mldsa.MLDSA44() {
		return nil, fmt.Errorf("%s key, want ML-DSA-44", pub.Parameters())
	}
	if !validName(name) || len(name) > 255 {
		return nil, fmt.Errorf("invalid ML-DSA cosigner name %q", name)
	}
	if now == nil {
		now = time.Now
	}
	return mldsaCosigner{name: name, id: KeyID(name, TypeMLDSACosignature, pub.Bytes()), key: key, now: now}, nil
}

type mldsaCosigner struct {
	name string
	id   uint32
	key  *mldsa.PrivateKey
	now  func() time.Time
}

func (s mldsaCosigner) Name() string  { return s.name }
func (s mldsaCosigner) KeyID() uint32 { return s.id }

func (s mldsaCosigner) Sign(msg []byte) ([]byte, error) {
	c, err := ParseCheckpoint(msg)
	if err != nil {
		return nil, fmt.Errorf("cosigning: %w", err)
	}
	t, err := cosigningTime(s.now())
	if err != nil {
		return nil, err
	}
	m, err := subtreeMessage(s.name, t, c)
	if err != nil {
		return nil, err
	}
	sig, err := s.key.Sign(nil, m, nil)
	if err != nil {
		return nil, err
	}
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, mldsaCosignatureSize), t), sig...), nil
}

// cosigningTime returns the cosignature timestamp of now: positive, since
// c2sp.org/tlog-witness forbids a zero one.
func cosigningTime(now time.Time) (uint64, error) {
	t := now.Unix()
	if t <= 0 {
		return 0, fmt.Errorf("cosigning at %d, not after 1970", t)
	}
	return uint64(t), nil
}

// subtreeMessage returns the cosigned_message of c2sp.org/tlog-cosignature
// for the whole tree of checkpoint c, by cosigner name at time t.
func subtreeMessage(name string, t uint64, c Checkpoint) ([]byte, error) {
	if len(name) > 255 || len(c.Origin) > 255 {
		return nil, errors.New("cosigner name or origin longer than 255 bytes")
	}
	const label = "subtree/v1\n\x00"
	b := make([]byte, 0, len(label)+1+len(name)+8+1+len(c.Origin)+8+8+HashSize)
	b = append(b, label...)
	b = append(b, byte(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint64(b, t)
	b = append(b, byte(len(c.Origin)))
	b = append(b, c.Origin...)
	b = binary.BigEndian.AppendUint64(b, 0) // start
	b = binary.BigEndian.AppendUint64(b, c.Size)
	return append(b, c.Root[:]...), nil
}

// mldsaVerifier verifies type 0x06 cosignatures of checkpoints.
type mldsaVerifier struct {
	name string
	id   uint32
	pub  *mldsa.PublicKey
}

func newMLDSAVerifier(name string, id uint32, pub []byte) (Verifier, error) {
	if len(name) > 255 {
		return nil, fmt.Errorf("ML-DSA cosigner name of %d bytes: %w", len(name), ErrMalformedKey)
	}
	k, err := mldsa.NewPublicKey(mldsa.MLDSA44(), pub)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrMalformedKey)
	}
	return mldsaVerifier{name: name, id: id, pub: k}, nil
}

func (v mldsaVerifier) Name() string  { return v.name }
func (v mldsaVerifier) KeyID() uint32 { return v.id }
func (v mldsaVerifier) String() string {
	return vkey(v.name, TypeMLDSACosignature, v.pub.Bytes())
}

// Verify reports whether sig is a cosignature of the checkpoint text msg.
// Extension lines are not signed: any are accepted.
func (v mldsaVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != mldsaCosignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return false
	}
	c, err := ParseCheckpoint(msg)
	if err != nil {
		return false
	}
	m, err := subtreeMessage(v.name, t, c)
	if err != nil {
		return false
	}
	return mldsa.Verify(v.pub, m, sig[8:], nil) == nil
}
