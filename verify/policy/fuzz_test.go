package policy_test

import (
	"fmt"
	"testing"

	"filippo.io/torchwood"
	fwitness "github.com/transparency-dev/formats/witness"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// FuzzOpenCosigned checks a fuzzed cosigned checkpoint against a policy
// of three witnesses, two of which must cosign, as a log's client reads
// one from the network: what verify.OpenCosigned accepts, torchwood and
// transparency-dev/formats, two independent implementations, accept too;
// and what both of them accept, ours accepts, unless its note does not
// come out of verify.ParseNote byte for byte (ours is stricter there:
// canonical base64, no duplicate lines).
func FuzzOpenCosigned(f *testing.F) {
	k := newKeys(f)
	text := k.expand("log <log>\nwitness a <X1>\nwitness b <X2>\nwitness c <X3>\ngroup g 2 a b c\nquorum g\n")
	ours, err := policy.Parse(text)
	if err != nil {
		f.Fatal(err)
	}
	tw, err := torchwood.ParsePolicy(text)
	if err != nil {
		f.Fatal(err)
	}
	fw, err := fwitness.ParsePolicy(withURLs(f, ours))
	if err != nil {
		f.Fatal(err)
	}
	for _, set := range [][]string{nil, {"X1"}, {"X1", "X2"}, {"X1", "X2", "X3"}, {"X1", "Y1"}, {"X3", "X3"}, {"Y1", "Y2"}} {
		f.Add(k.checkpoint(f, set...))
	}
	f.Fuzz(func(t *testing.T, cp []byte) {
		_, _, err := verify.OpenCosigned(cp, origin, ours.LogKeys(origin), ours)
		_, _, twErr := torchwood.VerifyCheckpoint(cp, tw)
		fwMet := fw.Satisfied(cp)
		if err == nil && (twErr != nil || !fwMet) {
			t.Fatalf("OpenCosigned(%q) accepts; torchwood %v, formats met %v", cp, twErr, fwMet)
		}
		if err != nil && twErr == nil && fwMet {
			if n, perr := verify.ParseNote(cp); perr == nil && string(n.Bytes()) == string(cp) && len(distinctSigLines(n)) == len(n.Sigs) {
				t.Fatalf("OpenCosigned(%q) = %v; torchwood and formats accept it", cp, err)
			}
		}
	})
}

// distinctSigLines returns the distinct signature lines of n.
func distinctSigLines(n *verify.Note) map[string]bool {
	m := map[string]bool{}
	for _, s := range n.Sigs {
		m[fmt.Sprint(s.Name, s.KeyID, s.Sig)] = true
	}
	return m
}
