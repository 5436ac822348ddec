package policy_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"filippo.io/mldsa"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
)

const origin = "log.example.org/policy"

// keys are deterministic test keys: a log and witnesses, Ed25519 ones
// (type 0x04) and ML-DSA-44 ones (type 0x06).
type keys struct {
	log     verify.Signer
	logVkey string
	signers map[string]verify.Signer // by witness name
	vkeys   map[string]string
}

func newKeys(t testing.TB) *keys {
	t.Helper()
	seed := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	lk := ed25519.NewKeyFromSeed(seed(1))
	k := &keys{log: verify.NewEd25519Signer(origin, lk), logVkey: verify.Ed25519VerifierKey(origin, lk.Public().(ed25519.PublicKey)),
		signers: map[string]verify.Signer{}, vkeys: map[string]string{}}
	now := func() time.Time { return time.Unix(1800000000, 0) }
	for i, name := range []string{"X1", "X2", "X3", "Y1", "Y2", "Y3"} {
		wk := ed25519.NewKeyFromSeed(seed(byte(10 + i)))
		kname := "witness.example/" + strings.ToLower(name)
		k.signers[name] = verify.NewCosigner(kname, wk, now)
		k.vkeys[name] = verify.CosignatureVerifierKey(kname, wk.Public().(ed25519.PublicKey))
	}
	for i, name := range []string{"M1", "M2"} {
		mk, err := mldsa.NewPrivateKey(mldsa.MLDSA44(), seed(byte(20+i)))
		if err != nil {
			t.Fatal(err)
		}
		kname := "pq.example/" + strings.ToLower(name)
		if k.signers[name], err = verify.NewMLDSACosigner(kname, mk, now); err != nil {
			t.Fatal(err)
		}
		k.vkeys[name] = verify.MLDSACosignatureVerifierKey(kname, mk.PublicKey())
	}
	return k
}

// expand replaces <log> and <NAME> in a policy template with vkeys.
func (k *keys) expand(tmpl string) []byte {
	r := []string{"<log>", k.logVkey}
	for name, v := range k.vkeys {
		r = append(r, "<"+name+">", v)
	}
	return []byte(strings.NewReplacer(r...).Replace(tmpl))
}

// checkpoint returns a checkpoint signed by the log and cosigned by the
// named witnesses.
func (k *keys) checkpoint(t testing.TB, names ...string) []byte {
	t.Helper()
	signers := []verify.Signer{k.log}
	for _, n := range names {
		signers = append(signers, k.signers[n])
	}
	text := verify.Checkpoint{Origin: origin, Size: 5, Root: verify.EmptyRoot}.Text()
	msg, err := verify.Sign(text, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// specExample is the example of c2sp.org/tlog-policy, with keys.
const specExample = `log <log>

witness X1 <X1>
witness X2 <X2>
witness X3 <X3>
group X-witnesses 2 X1 X2 X3

witness Y1 <Y1>
witness Y2 <Y2>
witness Y3 <Y3>
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`

// TestSpecExample checks the example's meaning as the specification
// states it: two of the X witnesses and one of the Y witnesses.
func TestSpecExample(t *testing.T) {
	k := newKeys(t)
	p, err := policy.Parse(k.expand(specExample))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Logs()) != 1 || len(p.Witnesses()) != 6 || p.QuorumName() != "X-and-Y" {
		t.Fatalf("Parse = %d logs, %d witnesses, quorum %s", len(p.Logs()), len(p.Witnesses()), p.QuorumName())
	}
	for _, tc := range []struct {
		cosigners []string
		met       bool
	}{
		{nil, false},
		{[]string{"X1", "X2", "Y1"}, true},
		{[]string{"X1", "X3", "Y3"}, true},
		{[]string{"X1", "X2", "X3", "Y1", "Y2", "Y3"}, true},
		{[]string{"X1", "X2", "X3"}, false},
		{[]string{"X1", "Y1", "Y2", "Y3"}, false},
		{[]string{"Y1", "Y2"}, false},
	} {
		_, _, err := verify.OpenCosigned(k.checkpoint(t, tc.cosigners...), origin, p.LogKeys(origin), p)
		if met := err == nil; met != tc.met {
			t.Errorf("OpenCosigned(cosigned by %v) = %v, want met %v", tc.cosigners, err, tc.met)
		}
		if err != nil && !errors.Is(err, verify.ErrNoQuorum) {
			t.Errorf("OpenCosigned(cosigned by %v) = %v, want ErrNoQuorum", tc.cosigners, err)
		}
	}
}

func TestParse(t *testing.T) {
	k := newKeys(t)
	for _, tc := range []struct {
		name, policy string
		quorum       string
		met, unmet   [][]string // cosigner sets
	}{
		{"quorum none", "log <log>\nquorum none\n", "none", [][]string{nil}, nil},
		{"one witness", "log <log>\nwitness a <X1>\nquorum a\n", "a", [][]string{{"X1"}}, [][]string{nil, {"X2"}}},
		{"blanks, comments, tabs", "\n  # comment\n\t\nlog\t<log>  https://log.example.org/\n witness  a <X1> \t\n#x\nquorum a\n", "a", [][]string{{"X1"}}, [][]string{nil}},
		{"ML-DSA and Ed25519", "log <log>\nwitness e <X1>\nwitness m <M1> https://pq.example/\ngroup both all e m\nquorum both\n", "both",
			[][]string{{"X1", "M1"}}, [][]string{{"X1"}, {"M1"}, {"M2", "X1"}}},
		{"threshold 2 of 3", "log <log>\nwitness a <X1>\nwitness b <X2>\nwitness c <M1>\ngroup g 2 a b c\nquorum g\n", "g",
			[][]string{{"X1", "X2"}, {"X2", "M1"}}, [][]string{{"X1"}, {"M1"}}},
		{"quorum before a log line", "witness a <X1>\nquorum a\nlog <log>\n", "a", [][]string{{"X1"}}, [][]string{nil}},
		{"non-ASCII names", "log <log>\nwitness K <X1>\nwitness \u212a <X2>\ngroup g\u00a0h all K \u212a\nquorum g\u00a0h\n", "g\u00a0h",
			[][]string{{"X1", "X2"}}, [][]string{{"X1"}}},
		{"a group named all", "log <log>\nwitness a <X1>\ngroup all any a\nquorum all\n", "all", [][]string{{"X1"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.Parse(k.expand(tc.policy))
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if p.QuorumName() != tc.quorum {
				t.Errorf("QuorumName = %q, want %q", p.QuorumName(), tc.quorum)
			}
			for _, set := range append(tc.met, tc.unmet...) {
				_, _, err := verify.OpenCosigned(k.checkpoint(t, set...), origin, p.LogKeys(origin), p)
				if want := len(tc.unmet) == 0 || !contains(tc.unmet, set); (err == nil) != want {
					t.Errorf("OpenCosigned(cosigned by %v) = %v, want met %v", set, err, want)
				}
			}
			q, err := policy.Parse(p.Marshal())
			if err != nil || !bytes.Equal(q.Marshal(), p.Marshal()) {
				t.Errorf("Parse(Marshal()) = %v, %q; Marshal() = %q", err, q.Marshal(), p.Marshal())
			}
		})
	}
}

func contains(sets [][]string, set []string) bool {
	for _, s := range sets {
		if fmt.Sprint(s) == fmt.Sprint(set) {
			return true
		}
	}
	return false
}

func TestParseRejects(t *testing.T) {
	k := newKeys(t)
	logKey := k.logVkey
	for _, tc := range []struct{ name, policy, err string }{
		{"empty", "", "no quorum line"},
		{"no quorum", "log <log>\nwitness a <X1>\n", "no quorum line"},
		{"two quorums", "quorum none\nquorum none\n", "line 2: a second quorum line"},
		{"no final newline", "quorum none", "line 1: no final newline"},
		{"carriage return", "quorum none\r\n", "control character 0x0d"},
		{"NUL", "# \x00\nquorum none\n", "control character 0x00"},
		{"DEL", "quorum none\n#\x7f\n", "line 2: control character 0x7f"},
		{"unknown keyword", "registrar 2b0e\nquorum none\n", `unknown keyword "registrar"`},
		{"keyword case", "Quorum none\n", `unknown keyword "Quorum"`},
		{"trailing comment", "quorum none # none\n", "want quorum <name>|none"},
		{"log without key", "log\nquorum none\n", "want log <vkey> [<url>]"},
		{"log with two URLs", "log <log> a b\nquorum none\n", "want log"},
		{"log key of a witness", "log <X1>\nquorum none\n", "log key: type 0x04"},
		{"witness key of a log", "witness a <log>\nquorum a\n", "witness a key: type 0x01"},
		{"bad vkey", "log " + logKey[:len(logKey)-2] + "\nquorum none\n", "log key: "},
		{"duplicate log", "log <log>\nlog <log> https://mirror/\nquorum none\n", "line 2: log key " + origin},
		{"duplicate witness key", "witness a <X1>\nwitness b <X1>\nquorum a\n", "line 2: witness b: the key of an earlier"},
		{"same key, another name", "witness a <X1>\nwitness b " + verify.CosignatureVerifierKey("other.example/x1", pubOf(t, k.vkeys["X1"])) + "\nquorum a\n", "line 2: witness b: the key of an earlier"},
		{"duplicate name", "witness a <X1>\nwitness a <X2>\nquorum a\n", "name a is already defined"},
		{"group named like a witness", "witness a <X1>\ngroup a any a\nquorum a\n", "name a is already defined"},
		{"witness named none", "witness none <X1>\nquorum none\n", "name none is already defined"},
		{"none as member", "witness a <X1>\ngroup g any none\nquorum g\n", "none is not defined"},
		{"undefined member", "group g any a\nwitness a <X1>\nquorum g\n", "line 1: group g: a is not defined on an earlier line"},
		{"undefined quorum", "quorum a\nwitness a <X1>\n", "line 1: quorum: a is not defined"},
		{"self member", "witness a <X1>\ngroup g any g\nquorum g\n", "g is not defined"},
		{"member twice in a group", "witness a <X1>\ngroup g 1 a a\nquorum g\n", "a is already a group member"},
		{"member of two groups", "witness a <X1>\nwitness b <X2>\ngroup g any a b\ngroup h any a\nquorum g\n", "line 4: group h: a is already a group member"},
		{"no members", "witness a <X1>\ngroup g any\nquorum a\n", "want group"},
		{"k zero", "witness a <X1>\ngroup g 0 a\nquorum g\n", `threshold "0"`},
		{"k above n", "witness a <X1>\ngroup g 2 a\nquorum g\n", `threshold "2"`},
		{"k leading zero", "witness a <X1>\ngroup g 01 a\nquorum g\n", `threshold "01"`},
		{"k with sign", "witness a <X1>\ngroup g +1 a\nquorum g\n", `threshold "+1"`},
		{"k upper case", "witness a <X1>\ngroup g ANY a\nquorum g\n", `threshold "ANY"`},
		{"quorum with two names", "witness a <X1>\nwitness b <X2>\nquorum a b\n", "want quorum"},
		{"too large", strings.Repeat("#\n", policy.MaxSize/2) + "quorum none\n", "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.Parse(k.expand(tc.policy))
			if err == nil || !errors.Is(err, policy.ErrMalformed) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse = %v, %v; want an error with %q wrapping ErrMalformed", p, err, tc.err)
			}
		})
	}
}

// pubOf returns the Ed25519 public key a vkey wraps.
func pubOf(t testing.TB, vkey string) ed25519.PublicKey {
	t.Helper()
	_, rest, _ := strings.Cut(vkey, "+")
	_, b64, _ := strings.Cut(rest, "+")
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != 33 {
		t.Fatalf("vkey %q: %v", vkey, err)
	}
	return ed25519.PublicKey(b[1:])
}

// TestLimits checks the sizes tlog-policy recommends supporting (32 logs,
// witnesses and groups), and that MaxEntries is enforced.
func TestLimits(t *testing.T) {
	gen := func(n int) []byte {
		var b strings.Builder
		var members []string
		for i := range n {
			seed := bytes.Repeat([]byte{byte(i), byte(i >> 8), 7}, 11)[:32]
			k := ed25519.NewKeyFromSeed(seed)
			pub := k.Public().(ed25519.PublicKey)
			fmt.Fprintf(&b, "log %s\n", verify.Ed25519VerifierKey(fmt.Sprintf("log%d.example", i), pub))
			fmt.Fprintf(&b, "witness w%d %s\n", i, verify.CosignatureVerifierKey(fmt.Sprintf("w%d.example", i), pub))
			fmt.Fprintf(&b, "group g%d any w%d\n", i, i)
			members = append(members, fmt.Sprintf("g%d", i))
		}
		fmt.Fprintf(&b, "quorum %s\n", members[n-1])
		return []byte(b.String())
	}
	for _, n := range []int{32, policy.MaxEntries} {
		p, err := policy.Parse(gen(n))
		if err != nil || len(p.Logs()) != n || len(p.Witnesses()) != n {
			t.Errorf("Parse(%d logs, witnesses and groups) = %v", n, err)
		}
	}
	if _, err := policy.Parse(gen(policy.MaxEntries + 1)); err == nil || !strings.Contains(err.Error(), "more than 256") {
		t.Errorf("Parse(%d entries) = %v, want an error", policy.MaxEntries+1, err)
	}
}
