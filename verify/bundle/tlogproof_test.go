package bundle

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/transparency-dev/formats/proof"

	"github.com/pledgelog/pledgelog/verify"
)

func TestTLogProofRoundTrip(t *testing.T) {
	l := newTestLog(t)
	for _, b := range []*Bundle{l.bundle(36, testSize, 2, 2), l.bundle(0, 1, 0)} {
		data := MarshalTLogProof(b)
		index, p, cp, extra, err := ParseTLogProof(data)
		if err != nil {
			t.Fatalf("ParseTLogProof(MarshalTLogProof()) = %v", err)
		}
		if index != b.Entry.Index || !slices.Equal(p, b.Entry.Proof) || !bytes.Equal(cp, b.Checkpoint) || !bytes.Equal(extra, b.Entry.Leaf) {
			t.Errorf("ParseTLogProof = %d %v %q %q, want the bundle's", index, p, cp, extra)
		}
		// The other direction: transparency-dev's parser reads ours.
		var tp proof.TLogProof
		if err := tp.Unmarshal(data); err != nil {
			t.Fatalf("proof.Unmarshal = %v", err)
		}
		checkSame(t, tp, index, p, cp, extra)
	}
}

// checkSame compares transparency-dev's parse with ours.
func checkSame(t *testing.T, tp proof.TLogProof, index uint64, p []verify.Hash, cp, extra []byte) {
	t.Helper()
	theirs := make([]verify.Hash, len(tp.Hashes))
	for i, h := range tp.Hashes {
		theirs[i] = verify.Hash(h)
	}
	if tp.Index != index || !slices.Equal(theirs, p) || !bytes.Equal(tp.Checkpoint, cp) ||
		!bytes.Equal(tp.ExtraData, extra) || (tp.ExtraData == nil) != (extra == nil) {
		t.Errorf("proof.Unmarshal = %d %v %q %q, ParseTLogProof = %d %v %q %q",
			tp.Index, theirs, tp.Checkpoint, tp.ExtraData, index, p, cp, extra)
	}
}

func TestTLogProofDifferential(t *testing.T) {
	l := newTestLog(t)
	b := l.bundle(idxNewPledge, testSize, 1)
	hashes := make([][32]byte, len(b.Entry.Proof))
	for i, h := range b.Entry.Proof {
		hashes[i] = h
	}
	for _, tp := range []proof.TLogProof{
		{Index: b.Entry.Index, Hashes: hashes, Checkpoint: b.Checkpoint},
		{Index: b.Entry.Index, Hashes: hashes, Checkpoint: b.Checkpoint, ExtraData: []byte("extra data")},
		{Index: 0, Checkpoint: l.checkpoint(1, 0), ExtraData: []byte{}},
	} {
		data := tp.Marshal()
		index, p, cp, extra, err := ParseTLogProof(data)
		if err != nil {
			t.Fatalf("ParseTLogProof(%q) = %v", data, err)
		}
		checkSame(t, tp, index, p, cp, extra)
		if again := appendTLogProof(nil, index, p, cp, extra); !bytes.Equal(again, data) {
			t.Errorf("re-encoded %q, want %q", again, data)
		}
	}
}

func TestTLogProofRejects(t *testing.T) {
	l := newTestLog(t)
	good := string(MarshalTLogProof(l.bundle(36, testSize, 1)))
	tests := []struct{ name, data, field string }{
		{"header", strings.Replace(good, "@v1", "@v2", 1), "tlog-proof.header"},
		{"extra not base64", strings.Replace(good, "extra ", "extra !", 1), "tlog-proof.extra"},
		{"no index", strings.Replace(good, "index ", "idx ", 1), "tlog-proof.index"},
		{"index leading zero", strings.Replace(good, "index 36", "index 036", 1), "tlog-proof.index"},
		{"index sign", strings.Replace(good, "index 36", "index +36", 1), "tlog-proof.index"},
		{"short hash", strings.Replace(good, "index 36\n", "index 36\nAAAA\n", 1), "tlog-proof.proof[0]"},
		{"no blank line", good[:strings.Index(good, "\n\n")+1], "tlog-proof.proof"},
		{"bad checkpoint", strings.Replace(good, "\n\n", "\n\nx\n", 1), "tlog-proof.checkpoint"},
		{"crlf", strings.ReplaceAll(good, "\n", "\r\n"), "tlog-proof.header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, _, err := ParseTLogProof([]byte(tt.data))
			if !errors.Is(err, ErrMalformed) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("ParseTLogProof = %v, want %s: %v", err, tt.field, ErrMalformed)
			}
		})
	}
}
