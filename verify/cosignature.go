package verify

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// cosignatureSize is the size of a type 0x04 signature: an 8-byte timestamp
// and an Ed25519 signature.
const cosignatureSize = 8 + ed25519.SignatureSize

// CosignatureVerifierKey returns the verifier key (type 0x04) of a cosigner
// made by [NewCosigner]. It panics if pub is not an Ed25519 public key.
func CosignatureVerifierKey(name string, pub ed25519.PublicKey) string {
	mustEd25519(pub)
	return vkey(name, TypeCosignature, pub)
}

// NewCosigner returns a Signer of c2sp.org/tlog-cosignature cosignatures
// (type 0x04), as a witness signs the checkpoints it has checked.
//
// Its Sign method accepts only a valid checkpoint text (see
// [ParseCheckpoint]) and returns the 8-byte big-endian time from now (in
// seconds since the Unix epoch, never zero) followed by the Ed25519 signature of
// "cosignature/v1\ntime <seconds>\n" and the checkpoint text. A nil now
// means [time.Now]. It panics if key is not an Ed25519 private key.
func NewCosigner(name string, key ed25519.PrivateKey, now func() time.Time) Signer {
	if len(key) != ed25519.PrivateKeySize {
		panic(fmt.Sprintf("verify: Ed25519 private key of %d bytes", len(key)))
	}
	if now == nil {
		now = time.Now
	}
	pub := key.Public().(ed25519.PublicKey)
	return cosigner{name: name, id: KeyID(name, TypeCosignature, pub), key: key, now: now}
}

type cosigner struct {
	name string
	id   uint32
	key  ed25519.PrivateKey
	now  func() time.Time
}

func (s cosigner) Name() string  { return s.name }
func (s cosigner) KeyID() uint32 { return s.id }

func (s cosigner) Sign(msg []byte) ([]byte, error) {
	if _, err := ParseCheckpoint(msg); err != nil {
		return nil, fmt.Errorf("cosigning: %w", err)
	}
	t, err := cosigningTime(s.now())
	if err != nil {
		return nil, err
	}
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, cosignatureSize), t)
	return append(sig, ed25519.Sign(s.key, cosignedMessage(t, msg))...), nil
}

// cosignatureVerifier verifies type 0x04 cosignatures.
type cosignatureVerifier ed25519Verifier

func (v cosignatureVerifier) Name() string   { return v.name }
func (v cosignatureVerifier) KeyID() uint32  { return v.id }
func (v cosignatureVerifier) String() string { return vkey(v.name, TypeCosignature, v.pub) }

// Verify reports whether sig is a cosignature of the checkpoint text msg.
func (v cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != cosignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return false
	}
	if _, err := ParseCheckpoint(msg); err != nil {
		return false
	}
	return ed25519.Verify(v.pub, cosignedMessage(t, msg), sig[8:])
}

// cosignedMessage returns the message a cosignature signs.
func cosignedMessage(t uint64, text []byte) []byte {
	const header = "cosignature/v1\ntime "
	b := make([]byte, 0, len(header)+21+len(text))
	b = append(b, header...)
	b = strconv.AppendUint(b, t, 10)
	b = append(b, '\n')
	return append(b, text...)
}

// CosignatureTime returns the time at which a type 0x04 or 0x06
// cosignature says it was made. sig is [Signature].Sig, the timestamp
// followed by the Ed25519 or ML-DSA-44 signature. The time means something
// only once the cosignature verifies.
func CosignatureTime(sig []byte) (time.Time, error) {
	if len(sig) != cosignatureSize && len(sig) != mldsaCosignatureSize {
		return time.Time{}, fmt.Errorf("cosignature of %d bytes, want %d or %d", len(sig), cosignatureSize, mldsaCosignatureSize)
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return time.Time{}, errors.New("cosignature timestamp out of range")
	}
	return time.Unix(int64(t), 0).UTC(), nil
}
