package bundle

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/transparency-dev/formats/proof"
)

func FuzzParseBundle(f *testing.F) {
	l := newTestLog(&testing.T{})
	f.Add(l.bundle(36, testSize, 2, 2).Marshal())
	f.Add(l.bundle(0, 1, 0).Marshal())
	f.Add([]byte(`{"mediaType":"application/vnd.pledgelog.bundle.v1+json"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			return
		}
		m := b.Marshal()
		b2, err := Parse(m)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%q))) = %v", data, err)
		}
		if !reflect.DeepEqual(b, b2) || !bytes.Equal(b2.Marshal(), m) {
			t.Fatalf("round trip of %q changed the bundle", data)
		}
	})
}

func FuzzParseTLogProof(f *testing.F) {
	l := newTestLog(&testing.T{})
	f.Add(MarshalTLogProof(l.bundle(36, testSize, 2, 2)))
	f.Add(proof.TLogProof{Index: 0, Checkpoint: l.checkpoint(1, 0)}.Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		index, p, cp, extra, err := ParseTLogProof(data)
		if err != nil {
			return
		}
		if again := appendTLogProof(nil, index, p, cp, extra); !bytes.Equal(again, data) {
			t.Fatalf("ParseTLogProof(%q) re-encodes as %q", data, again)
		}
		var tp proof.TLogProof
		if err := tp.Unmarshal(data); err != nil {
			t.Fatalf("proof.Unmarshal(%q) = %v, ParseTLogProof accepted it", data, err)
		}
		checkSame(t, tp, index, p, cp, extra)
	})
}
