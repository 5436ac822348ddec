package policy_test

import (
	"bytes"
	"strings"
	"testing"

	"filippo.io/torchwood"
	fwitness "github.com/transparency-dev/formats/witness"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// interopPolicies are read by ours and by independent parsers: torchwood's
// (Ed25519 witnesses only, and every log line must sign, so one log line)
// and transparency-dev/formats' (witness URLs required).
var interopPolicies = []string{
	specExample,
	"log <log>\nwitness a <X1> https://a.example/\nquorum a\n",
	"log <log>\nwitness a <X1>\nwitness b <X2>\nwitness c <X3>\ngroup g 2 a b c\nquorum g\n",
	"log <log>\nwitness a <X1>\nwitness b <X2>\ngroup g any a b\nwitness c <Y1>\ngroup h all g c\nquorum h\n",
	"# comment\n\t\nlog <log>\n  witness a <X1>\t\nwitness b <X2>\ngroup g all a b\nquorum a\n",
	"log <log>\nwitness a <X1>\nwitness b <X2>\nquorum none\n",
}

// TestInterop checks, for every policy above and every set of cosigners,
// that our verdict on a cosigned checkpoint is torchwood's and formats'.
func TestInterop(t *testing.T) {
	k := newKeys(t)
	names := []string{"X1", "X2", "X3", "Y1", "Y2", "Y3"}
	for _, tmpl := range interopPolicies {
		text := k.expand(tmpl)
		ours, err := policy.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) = %v", tmpl, err)
		}
		tw, err := torchwood.ParsePolicy(text)
		if err != nil {
			t.Fatalf("torchwood.ParsePolicy(%q) = %v", tmpl, err)
		}
		fw, err := fwitness.ParsePolicy(withURLs(t, ours))
		if err != nil {
			t.Fatalf("formats ParsePolicy(%q) = %v", tmpl, err)
		}
		for mask := range 1 << len(names) {
			var set []string
			for i, n := range names {
				if mask&(1<<i) != 0 {
					set = append(set, n)
				}
			}
			cp := k.checkpoint(t, set...)
			_, _, err := verify.OpenCosigned(cp, origin, ours.LogKeys(origin), ours)
			_, _, twErr := torchwood.VerifyCheckpoint(cp, tw)
			fwMet := fw.Satisfied(cp)
			if (err == nil) != (twErr == nil) || (err == nil) != fwMet {
				t.Errorf("policy %q, cosigners %v: ours %v, torchwood %v, formats met %v", tmpl, set, err, twErr, fwMet)
			}
		}
	}
}

// withURLs returns p's file with a URL on every witness line, as formats'
// parser requires.
func withURLs(t testing.TB, p *policy.Policy) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, l := range strings.SplitAfter(string(p.Marshal()), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "witness" {
			l = strings.TrimSuffix(l, "\n") + " https://" + f[1] + ".example/\n"
		}
		b.WriteString(l)
	}
	return b.Bytes()
}

// TestInteropMLDSA checks ML-DSA-44 witness lines against formats' parser
// (torchwood v0.9.0 has no ML-DSA cosignatures).
func TestInteropMLDSA(t *testing.T) {
	k := newKeys(t)
	text := k.expand("log <log>\nwitness e <X1> https://e.example/\nwitness m <M1> https://m.example/\nwitness n <M2> https://n.example/\ngroup g 2 e m n\nquorum g\n")
	ours, err := policy.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := fwitness.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]string{nil, {"X1"}, {"M1"}, {"X1", "M1"}, {"M1", "M2"}, {"X1", "M1", "M2"}, {"X2", "M1"}} {
		cp := k.checkpoint(t, set...)
		_, _, err := verify.OpenCosigned(cp, origin, ours.LogKeys(origin), ours)
		if (err == nil) != fw.Satisfied(cp) {
			t.Errorf("cosigners %v: ours %v, formats met %v", set, err, fw.Satisfied(cp))
		}
	}
}

// FuzzParse checks that what Parse accepts marshals to a file that parses
// to the same policy, and that torchwood reads it too and agrees on every
// set of cosigners, unless the input uses what torchwood reads otherwise
// ('#' inside a line, non-ASCII bytes, which its field splitting may take
// for white space, or ML-DSA keys, which it lacks).
func FuzzParse(f *testing.F) {
	k := newKeys(f)
	for _, p := range interopPolicies {
		f.Add(k.expand(p))
	}
	f.Add(k.expand("log <log>\nwitness m <M1>\nquorum m\n"))
	f.Add(k.expand("witness a <X1>\nquorum a\nlog <log>\n"))
	names := []string{"X1", "X2", "X3", "Y1", "Y2", "Y3"}
	cps := make([][]byte, 1<<len(names))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := policy.Parse(b)
		if err != nil {
			return
		}
		m := p.Marshal()
		q, err := policy.Parse(m)
		if err != nil || !bytes.Equal(q.Marshal(), m) {
			t.Fatalf("Parse(Marshal(%q)) = %v, %q", b, err, m)
		}
		if torchwoodReadsOtherwise(b) || len(p.LogKeys(origin)) != 1 || len(p.Logs()) != 1 {
			return
		}
		tw, err := torchwood.ParsePolicy(b)
		if err != nil {
			t.Fatalf("torchwood.ParsePolicy(%q) = %v; ours accepts it", b, err)
		}
		for mask := range cps {
			if cps[mask] == nil {
				var set []string
				for i, n := range names {
					if mask&(1<<i) != 0 {
						set = append(set, n)
					}
				}
				cps[mask] = k.checkpoint(t, set...)
			}
			_, _, err := verify.OpenCosigned(cps[mask], origin, p.LogKeys(origin), p)
			_, _, twErr := torchwood.VerifyCheckpoint(cps[mask], tw)
			if (err == nil) != (twErr == nil) {
				t.Errorf("policy %q, cosigners %b: ours %v, torchwood %v", b, mask, err, twErr)
			}
		}
	})
}

func torchwoodReadsOtherwise(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		if i := bytes.IndexByte(l, '#'); i >= 0 && len(bytes.TrimLeft(l[:i], " \t")) > 0 {
			return true
		}
	}
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return hasMLDSA(b)
}

// hasMLDSA reports whether b holds a vkey too long to be Ed25519's.
func hasMLDSA(b []byte) bool {
	for _, f := range bytes.Fields(b) {
		if parts := bytes.SplitN(f, []byte("+"), 3); len(parts) == 3 && len(parts[2]) > 100 {
			return true
		}
	}
	return false
}
