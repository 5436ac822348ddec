package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"

	"github.com/pledgelog/pledgelog/verify"
)

const root64 = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

var validCheckpoints = []string{
	sofaText,
	"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\u2014 not a signature\n",
	"log.example.org/tech-accord\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	"o\n18446744073709551615\n" + root64 + "\n",
	"o\n9223372036854775807\n" + root64 + "\nextension one\nextension two\n",
	"example.com/é\n1\n" + root64 + "\n \n",
}

func TestParseCheckpoint(t *testing.T) {
	for _, text := range validCheckpoints {
		c, err := verify.ParseCheckpoint([]byte(text))
		if err != nil {
			t.Errorf("ParseCheckpoint(%q) = %v", text, err)
			continue
		}
		if got := c.Text(); string(got) != text {
			t.Errorf("ParseCheckpoint(%q).Text() = %q", text, got)
		}
		tc, err := torchwood.ParseCheckpoint(text)
		if c.Size > 1<<63-1 {
			continue // torchwood's size is an int64
		}
		if err != nil || tc.Origin != c.Origin || uint64(tc.N) != c.Size || verify.Hash(tc.Hash) != c.Root ||
			tc.Extension != extensionText(c.Extensions) {
			t.Errorf("torchwood.ParseCheckpoint(%q) = %+v, %v; ParseCheckpoint = %+v", text, tc, err, c)
		}
	}
	c, _ := verify.ParseCheckpoint([]byte(sofaText))
	want := verify.Checkpoint{Origin: sofaOrigin, Size: 20852163, Root: mustHash(t, root64)}
	if c.Origin != want.Origin || c.Size != want.Size || c.Root != want.Root || c.Extensions != nil {
		t.Errorf("ParseCheckpoint(%q) = %+v, want %+v", sofaText, c, want)
	}
}

func extensionText(ext []string) string {
	var b strings.Builder
	for _, e := range ext {
		b.WriteString(e + "\n")
	}
	return b.String()
}

func mustHash(t testing.TB, s string) verify.Hash {
	t.Helper()
	h, err := verify.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseCheckpointRejects(t *testing.T) {
	// A root whose standard base64 has a '+' and a '/'.
	plusSlash := "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	urlSafe := strings.NewReplacer("+", "-", "/", "_").Replace(plusSlash)
	for _, tc := range []struct {
		name, text  string
		torchwoodOK bool // torchwood.ParseCheckpoint accepts it
	}{
		{"empty", "", false},
		{"two lines", "o\n1\n", false},
		{"no final newline", "o\n1\n" + root64, false},
		{"no final newline after extension", "o\n1\n" + root64 + "\next", false},
		{"leading zero", "o\n01000\n" + root64 + "\n", false},
		{"zero zero", "o\n00\n" + root64 + "\n", false},
		{"plus sign", "o\n+5\n" + root64 + "\n", false},
		{"minus sign", "o\n-5\n" + root64 + "\n", false},
		{"space in size", "o\n 5\n" + root64 + "\n", false},
		{"empty size", "o\n\n" + root64 + "\n", false},
		{"hex size", "o\n0x10\n" + root64 + "\n", false},
		{"size overflow", "o\n18446744073709551616\n" + root64 + "\n", false},
		{"empty origin", "\n1\n" + root64 + "\n", true},
		{"plus in origin", "example.com/a+b\n1\n" + root64 + "\n", true},
		{"space in origin", "example.com/a b\n1\n" + root64 + "\n", true},
		{"short hash", "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", false},
		{"long hash", "o\n1\n" + root64 + "AAAA\n", false},
		{"unpadded hash", "o\n1\n" + strings.TrimSuffix(root64, "=") + "\n", false},
		{"url-safe base64", "o\n1\n" + urlSafe + "\n", false},
		{"non-canonical base64", "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", true},
		{"hex hash", "o\n1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n", false},
		{"empty extension line", "o\n1\n" + root64 + "\n\n", false},
		{"empty extension between", "o\n1\n" + root64 + "\na\n\nb\n", false},
		{"CR line ends", "o\r\n1\r\n" + root64 + "\r\n", false},
		{"CR in origin", "o\r\n1\n" + root64 + "\n", true},
		{"CR in extension", "o\n1\n" + root64 + "\next\r\n", true},
		{"NUL in origin", "o\x00\n1\n" + root64 + "\n", true},
		{"invalid UTF-8", "o\xff\n1\n" + root64 + "\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := verify.ParseCheckpoint([]byte(tc.text)); !errors.Is(err, verify.ErrMalformedCheckpoint) {
				t.Errorf("ParseCheckpoint(%q) = %+v, %v, want ErrMalformedCheckpoint", tc.text, c, err)
			}
			if _, err := torchwood.ParseCheckpoint(tc.text); (err == nil) != tc.torchwoodOK {
				t.Errorf("torchwood.ParseCheckpoint(%q) = %v, want ok %v", tc.text, err, tc.torchwoodOK)
			}
		})
	}
}

func TestParseHash(t *testing.T) {
	for _, s := range []string{"", "AAAA", verify.EmptyRoot.String() + "=", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=",
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUA"} {
		if h, err := verify.ParseHash(s); !errors.Is(err, verify.ErrMalformedHash) {
			t.Errorf("ParseHash(%q) = %x, %v, want ErrMalformedHash", s, h, err)
		}
	}
	h := verify.LeafHash([]byte("x"))
	text, _ := h.MarshalText()
	var back verify.Hash
	if err := back.UnmarshalText(text); err != nil || back != h || string(text) != h.String() {
		t.Errorf("UnmarshalText(MarshalText(%x)) = %x, %v", h, back, err)
	}
}

// policy is a log key and three witnesses, all from fixed seeds.
type policy struct {
	log       verify.Signer
	logKey    verify.Verifier
	witnesses []verify.Signer
	wkeys     []verify.Verifier
}

func newPolicy(t *testing.T, origin string) policy {
	key := func(i byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{i}, 32)) }
	now := func() time.Time { return time.Unix(1750000000, 0) }
	p := policy{log: verify.NewEd25519Signer(origin, key(1))}
	p.logKey = mustVerifier(t, verify.Ed25519VerifierKey(origin, key(1).Public().(ed25519.PublicKey)))
	for i, name := range []string{"w1.example", "w2.example", "w3.example"} {
		k := key(byte(10 + i))
		p.witnesses = append(p.witnesses, verify.NewCosigner(name, k, now))
		p.wkeys = append(p.wkeys, mustVerifier(t, verify.CosignatureVerifierKey(name, k.Public().(ed25519.PublicKey))))
	}
	return p
}

func TestOpenCheckpoint(t *testing.T) {
	const origin = "log.example.org/tech-accord"
	p := newPolicy(t, origin)
	c := verify.Checkpoint{Origin: origin, Size: 42, Root: verify.LeafHash([]byte("root"))}
	sign := func(text []byte, signers ...verify.Signer) []byte {
		msg, err := verify.Sign(text, signers...)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	text := c.Text()
	w1, w2, w3 := p.witnesses[0], p.witnesses[1], p.witnesses[2]
	all := sign(text, p.log, w1, w2, w3)
	// w1 with a second key: counts once.
	key99 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{99}, 32))
	w1b := verify.NewCosigner("w1.example", key99, nil)
	twoKeys := append(slices.Clone(p.wkeys), mustVerifier(t, verify.CosignatureVerifierKey("w1.example", key99.Public().(ed25519.PublicKey))))

	for _, tc := range []struct {
		name      string
		msg       []byte
		origin    string
		logKeys   []verify.Verifier
		witnesses []verify.Verifier
		quorum    int
		err       error
		nsigs     int
	}{
		{"all", all, origin, []verify.Verifier{p.logKey}, p.wkeys, 3, nil, 4},
		{"quorum 0, no witnesses", sign(text, p.log), origin, []verify.Verifier{p.logKey}, nil, 0, nil, 1},
		{"quorum 2 of 3", sign(text, p.log, w1, w3), origin, []verify.Verifier{p.logKey}, p.wkeys, 2, nil, 3},
		{"quorum 3 of 2", sign(text, p.log, w1, w3), origin, []verify.Verifier{p.logKey}, p.wkeys, 3, verify.ErrNoQuorum, 0},
		{"quorum beyond witnesses", all, origin, []verify.Verifier{p.logKey}, p.wkeys, 4, verify.ErrNoQuorum, 0},
		{"one witness, two keys", sign(text, p.log, w1, w1b), origin, []verify.Verifier{p.logKey}, twoKeys, 2, verify.ErrNoQuorum, 0},
		{"one witness, two keys, quorum 1", sign(text, p.log, w1, w1b), origin, []verify.Verifier{p.logKey}, twoKeys, 1, nil, 3},
		{"duplicate cosignature", sign(text, p.log, w1, w1), origin, []verify.Verifier{p.logKey}, p.wkeys, 2, verify.ErrNoQuorum, 0},
		{"unknown witness ignored", all, origin, []verify.Verifier{p.logKey}, p.wkeys[:1], 1, nil, 2},
		{"witnesses only", sign(text, w1, w2), origin, []verify.Verifier{p.logKey}, p.wkeys, 2, verify.ErrNoVerifiedSignature, 0},
		{"no log key", all, origin, nil, p.wkeys, 3, verify.ErrNoVerifiedSignature, 0},
		{"other origin asked", all, "log.example.org/other", nil, p.wkeys, 0, verify.ErrOriginMismatch, 0},
		{"bad cosignature", flipSignature(t, all, 2), origin, []verify.Verifier{p.logKey}, p.wkeys, 1, &verify.SignatureError{}, 0},
		{"bad log signature", flipSignature(t, all, 0), origin, []verify.Verifier{p.logKey}, p.wkeys, 1, &verify.SignatureError{}, 0},
		{"not a checkpoint", sign([]byte("hello\n"), p.log), origin, []verify.Verifier{p.logKey}, nil, 0, verify.ErrMalformedCheckpoint, 0},
		{"malformed note", text, origin, []verify.Verifier{p.logKey}, nil, 0, verify.ErrMalformedNote, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := verify.OpenCheckpoint(tc.msg, tc.origin, tc.logKeys, tc.witnesses, tc.quorum)
			if !sameError(err, tc.err) {
				t.Fatalf("OpenCheckpoint = %v, want %v", err, tc.err)
			}
			if err == nil && (got.Size != 42 || got.Root != c.Root || len(n.Sigs) != tc.nsigs) {
				t.Errorf("OpenCheckpoint = %+v, %d signatures, want %d", got, len(n.Sigs), tc.nsigs)
			}
		})
	}

	// A log key named otherwise than the origin is a configuration error.
	other := verify.NewEd25519Signer("other", ed25519.NewKeyFromSeed(make([]byte, 32)))
	otherKey := mustVerifier(t, verify.Ed25519VerifierKey("other", ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)))
	if _, _, err := verify.OpenCheckpoint(sign(text, other), origin, []verify.Verifier{otherKey}, nil, 0); err == nil {
		t.Errorf("OpenCheckpoint with a log key named %q succeeded", otherKey.Name())
	}
}
