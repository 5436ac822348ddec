package verify

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxEntrySize is the largest log entry, in bytes: an entry bundle stores
// each entry's length in 16 bits.
const MaxEntrySize = 65535

var (
	// ErrEntryTooLarge means an entry is longer than [MaxEntrySize] bytes.
	// It cannot be logged; an API answers 413.
	ErrEntryTooLarge = errors.New("entry too large")

	// ErrMalformedBundle means an entry bundle is not a sequence of 1 to
	// 256 length-prefixed entries. The tile must be rejected.
	ErrMalformedBundle = errors.New("malformed entry bundle")
)

// AppendBundleEntry appends an entry to an entry bundle: its length as a
// big-endian uint16, then its bytes.
func AppendBundleEntry(dst, entry []byte) ([]byte, error) {
	if len(entry) > MaxEntrySize {
		return dst, fmt.Errorf("%d bytes: %w", len(entry), ErrEntryTooLarge)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(entry)))
	return append(dst, entry...), nil
}

// ParseBundle returns the entries of an entry bundle, which must hold 1 to
// [TileWidth] entries and nothing else. The entries alias data.
//
// A partial bundle "tile/entries/N.p/W" is the first W entries of the
// bundle a server stores, which may already hold more: callers check that
// there are at least W entries and use the first W.
func ParseBundle(data []byte) ([][]byte, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("empty: %w", ErrMalformedBundle)
	}
	var entries [][]byte
	for len(data) > 0 {
		if len(entries) == TileWidth {
			return nil, fmt.Errorf("more than %d entries: %w", TileWidth, ErrMalformedBundle)
		}
		if len(data) < 2 {
			return nil, fmt.Errorf("trailing byte: %w", ErrMalformedBundle)
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data)-2 < n {
			return nil, fmt.Errorf("entry %d truncated: %w", len(entries), ErrMalformedBundle)
		}
		entries = append(entries, data[2:2+n:2+n])
		data = data[2+n:]
	}
	return entries, nil
}
