package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// HashSize is the size of a [Hash] in bytes.
const HashSize = sha256.Size

// A Hash is a SHA-256 hash: a leaf hash, an interior node hash or a tree root.
// Its text form is standard base64 with padding (44 characters), as in
// checkpoints and proofs.
type Hash [HashSize]byte

// EmptyRoot is the root of the empty tree, SHA-256 of no bytes.
// Treat it as a constant.
var EmptyRoot = Hash(sha256.Sum256(nil))

// ErrMalformedHash means a hash was not 44 characters of canonical standard
// base64 encoding 32 bytes. The input should be rejected.
var ErrMalformedHash = errors.New("malformed hash")

// LeafHash returns the RFC 6962 hash of a log entry, SHA-256(0x00 || entry).
func LeafHash(entry []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0x00})
	h.Write(entry)
	return Hash(h.Sum(nil))
}

// NodeHash returns the RFC 6962 hash of an interior node,
// SHA-256(0x01 || l || r).
func NodeHash(l, r Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = 0x01
	copy(buf[1:], l[:])
	copy(buf[1+HashSize:], r[:])
	return sha256.Sum256(buf[:])
}

// ParseHash parses the standard base64 form of a hash, rejecting any
// non-canonical encoding.
func ParseHash(s string) (Hash, error) {
	if len(s) != base64.StdEncoding.EncodedLen(HashSize) {
		return Hash{}, fmt.Errorf("%d characters: %w", len(s), ErrMalformedHash)
	}
	var buf [HashSize + 1]byte // DecodedLen(44) is 33
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n != HashSize {
		return Hash{}, fmt.Errorf("bad base64: %w", ErrMalformedHash)
	}
	return Hash(buf[:HashSize]), nil
}

// String returns the standard base64 encoding of h.
func (h Hash) String() string {
	return base64.StdEncoding.EncodeToString(h[:])
}

// MarshalText returns the standard base64 encoding of h, so that a Hash is a
// base64 string in JSON.
func (h Hash) MarshalText() ([]byte, error) {
	return base64.StdEncoding.AppendEncode(nil, h[:]), nil
}

// UnmarshalText parses text as [ParseHash] does.
func (h *Hash) UnmarshalText(text []byte) error {
	p, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = p
	return nil
}
