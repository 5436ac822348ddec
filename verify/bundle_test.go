package verify_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"filippo.io/torchwood"

	"github.com/pledgelog/pledgelog/verify"
)

// tile/entries/000.p/3 of tessera v1.0.4's testdata/log (Apache-2.0).
var tesseraBundle = []byte{0x00, 0x03, 0x6f, 0x6e, 0x65, 0x00, 0x03, 0x74, 0x77, 0x6f,
	0x00, 0x05, 0x74, 0x68, 0x72, 0x65, 0x65}

func TestBundleExample(t *testing.T) {
	var b []byte
	for _, e := range []string{"one", "two", "three"} {
		var err error
		if b, err = verify.AppendBundleEntry(b, []byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(b, tesseraBundle) {
		t.Errorf("bundle = % x, want % x", b, tesseraBundle)
	}
	entries, err := verify.ParseBundle(tesseraBundle)
	if err != nil || len(entries) != 3 || string(entries[0]) != "one" || string(entries[1]) != "two" || string(entries[2]) != "three" {
		t.Errorf("ParseBundle = %q, %v", entries, err)
	}
}

// readTorchwood reads a bundle with torchwood.ReadTileEntry.
func readTorchwood(data []byte) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		e, rest, err := torchwood.ReadTileEntry(data)
		if err != nil {
			return nil, err
		}
		entries, data = append(entries, e), rest
	}
	return entries, nil
}

func TestBundleTorchwood(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		var ours, theirs []byte
		var want [][]byte
		for range 1 + rng.IntN(256) {
			e := make([]byte, rng.IntN(300))
			for i := range e {
				e[i] = byte(rng.Uint32())
			}
			if rng.IntN(50) == 0 {
				e = make([]byte, verify.MaxEntrySize)
			}
			want = append(want, e)
			var err, twErr error
			ours, err = verify.AppendBundleEntry(ours, e)
			theirs, twErr = torchwood.AppendTileEntry(theirs, e)
			if err != nil || twErr != nil {
				t.Fatal(err, twErr)
			}
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("AppendBundleEntry differs from torchwood.AppendTileEntry")
		}
		got, err := verify.ParseBundle(ours)
		tw, twErr := readTorchwood(ours)
		if err != nil || twErr != nil || !slices.EqualFunc(got, want, bytes.Equal) || !slices.EqualFunc(tw, want, bytes.Equal) {
			t.Errorf("ParseBundle = %d entries, %v; torchwood %d, %v; want %d", len(got), err, len(tw), twErr, len(want))
		}
	}
}

func TestParseBundleRejects(t *testing.T) {
	full := bytes.Repeat([]byte{0, 1, 'x'}, 256)
	if entries, err := verify.ParseBundle(full); err != nil || len(entries) != 256 {
		t.Errorf("ParseBundle(256 entries) = %d, %v", len(entries), err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0}},
		{"trailing byte", append(slices.Clone(tesseraBundle), 0)},
		{"truncated entry", tesseraBundle[:len(tesseraBundle)-1]},
		{"truncated length", []byte{0, 0, 0}},
		{"257 entries", append(slices.Clone(full), 0, 0)},
	} {
		if entries, err := verify.ParseBundle(tc.data); !errors.Is(err, verify.ErrMalformedBundle) {
			t.Errorf("%s: ParseBundle = %q, %v, want ErrMalformedBundle", tc.name, entries, err)
		}
	}
	b, err := verify.AppendBundleEntry([]byte{1}, make([]byte, verify.MaxEntrySize+1))
	if !errors.Is(err, verify.ErrEntryTooLarge) || !bytes.Equal(b, []byte{1}) {
		t.Errorf("AppendBundleEntry(65536 bytes) = %d bytes, %v, want ErrEntryTooLarge", len(b), err)
	}
	// Entries do not let an append to one spill into the next.
	entries, _ := verify.ParseBundle(tesseraBundle)
	_ = append(entries[0], 'X')
	if entries[1][0] != 't' {
		t.Errorf("appending to entry 0 overwrote entry 1")
	}
}
