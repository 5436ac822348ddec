package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/pledgelog/pledgelog/verify"
)

// The example of C2SP signed-note.md.
const (
	c2spVkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
	c2spNote = "This is an example message.\n\n" +
		"— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

// The example of golang.org/x/mod/sumdb/note (BSD-3-Clause).
const (
	neumannSkey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
	neumannVkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
	neumannText = "If you think cryptography is the answer to your problem,\n" +
		"then you don't know what your problem is.\n"
	neumannNote = neumannText + "\n" +
		"— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

// seedFromSkey returns the Ed25519 private key of an x/mod signer key.
func seedFromSkey(t testing.TB, skey string) ed25519.PrivateKey {
	t.Helper()
	f := strings.SplitN(skey, "+", 5) // PRIVATE+KEY+name+id+base64
	k, err := base64.StdEncoding.DecodeString(f[len(f)-1])
	if err != nil || len(k) != 33 {
		t.Fatalf("bad skey %q", skey)
	}
	return ed25519.NewKeyFromSeed(k[1:])
}

func mustVerifier(t testing.TB, vkey string) verify.Verifier {
	t.Helper()
	v, err := verify.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("NewVerifier(%q) = %v", vkey, err)
	}
	return v
}

func TestC2SPExample(t *testing.T) {
	n, err := verify.Open([]byte(c2spNote), mustVerifier(t, c2spVkey))
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	if string(n.Text) != "This is an example message.\n" || len(n.Sigs) != 1 ||
		n.Sigs[0].Name != "example.com/foo" || n.Sigs[0].KeyID != 0x530d903a || len(n.Sigs[0].Sig) != 64 {
		t.Errorf("Open = %q %+v", n.Text, n.Sigs)
	}
}

func TestSignNeumann(t *testing.T) {
	key := seedFromSkey(t, neumannSkey)
	s := verify.NewEd25519Signer("PeterNeumann", key)
	if s.KeyID() != 0xc74f20a3 {
		t.Errorf("KeyID = %08x, want c74f20a3", s.KeyID())
	}
	if got := verify.Ed25519VerifierKey("PeterNeumann", key.Public().(ed25519.PublicKey)); got != neumannVkey {
		t.Errorf("Ed25519VerifierKey = %q, want %q", got, neumannVkey)
	}
	msg, err := verify.Sign([]byte(neumannText), s)
	if err != nil || string(msg) != neumannNote {
		t.Errorf("Sign = %q, %v, want %q", msg, err, neumannNote)
	}
	if _, err := verify.Open([]byte(neumannNote), mustVerifier(t, neumannVkey)); err != nil {
		t.Errorf("Open = %v", err)
	}
}

// TestNoteInterop signs with verify and opens with x/mod, and the reverse.
func TestNoteInterop(t *testing.T) {
	skey, vkey, err := note.GenerateKey(nil, "log.example.org/interop")
	if err != nil {
		t.Fatal(err)
	}
	xSigner, _ := note.NewSigner(skey)
	xVerifier, _ := note.NewVerifier(vkey)
	ours := verify.NewEd25519Signer("log.example.org/interop", seedFromSkey(t, skey))
	other := verify.NewEd25519Signer("witness.example/other", ed25519.NewKeyFromSeed(make([]byte, 32)))
	text := []byte("log.example.org/interop\n7\n" + verify.EmptyRoot.String() + "\n")

	msg, err := verify.Sign(text, other, ours)
	if err != nil {
		t.Fatal(err)
	}
	xn, err := note.Open(msg, note.VerifierList(xVerifier))
	if err != nil || xn.Text != string(text) || len(xn.Sigs) != 1 || len(xn.UnverifiedSigs) != 1 {
		t.Errorf("x/mod Open(verify.Sign) = %+v, %v", xn, err)
	}
	xmsg, err := note.Sign(&note.Note{Text: string(text)}, xSigner)
	if err != nil || !bytes.HasSuffix(msg, xmsg[len(text)+1:]) {
		t.Errorf("x/mod signature %q is not among ours %q (%v)", xmsg, msg, err)
	}
	n, err := verify.Open(xmsg, mustVerifier(t, vkey))
	if err != nil || !bytes.Equal(n.Text, text) || n.Sigs[0].KeyID != ours.KeyID() {
		t.Errorf("Open(x/mod Sign) = %+v, %v", n, err)
	}
}

func TestOpenKeys(t *testing.T) {
	text := []byte("keys\n")
	keyA := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	keyB := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	a := verify.NewEd25519Signer("a.example", keyA)
	b := verify.NewEd25519Signer("b.example", keyB)
	a2 := verify.NewEd25519Signer("a.example", keyB) // same name as a, other key ID
	vkeyA := verify.Ed25519VerifierKey("a.example", keyA.Public().(ed25519.PublicKey))
	vkeyB := verify.Ed25519VerifierKey("b.example", keyB.Public().(ed25519.PublicKey))

	sign := func(signers ...verify.Signer) []byte {
		msg, err := verify.Sign(text, signers...)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	good := sign(a)
	badSig := flipSignature(t, good, 0)
	// Same key ID as a, other name: an unknown key.
	renamed := bytes.Replace(good, []byte("— a.example "), []byte("— c.example "), 1)

	for _, tc := range []struct {
		name  string
		msg   []byte
		vkeys []string
		want  []string // names of verified signatures; nil: an error
		err   error
	}{
		{"known", good, []string{vkeyA}, []string{"a.example"}, nil},
		{"unknown", good, []string{vkeyB}, nil, verify.ErrNoVerifiedSignature},
		{"same name other id", sign(a2), []string{vkeyA}, nil, verify.ErrNoVerifiedSignature},
		{"same name other id, and known", sign(a2, a), []string{vkeyA}, []string{"a.example"}, nil},
		{"same id other name", renamed, []string{vkeyA}, nil, verify.ErrNoVerifiedSignature},
		{"bad signature", badSig, []string{vkeyA}, nil, &verify.SignatureError{}},
		{"bad signature and good one", append(bytes.Clone(badSig), sign(b)[len(text)+1:]...), []string{vkeyA, vkeyB}, nil, &verify.SignatureError{}},
		{"two known", sign(b, a), []string{vkeyA, vkeyB}, []string{"b.example", "a.example"}, nil},
		{"one of two known", sign(b, a), []string{vkeyA}, []string{"a.example"}, nil},
		{"duplicate", append(bytes.Clone(good), good[len(text)+1:]...), []string{vkeyA}, []string{"a.example"}, nil},
		{"no verifiers", good, nil, nil, verify.ErrNoVerifiedSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var vs []verify.Verifier
			var xvs []note.Verifier
			for _, k := range tc.vkeys {
				vs = append(vs, mustVerifier(t, k))
				xv, _ := note.NewVerifier(k)
				xvs = append(xvs, xv)
			}
			n, err := verify.Open(tc.msg, vs...)
			var names []string
			if n != nil {
				for _, s := range n.Sigs {
					names = append(names, s.Name)
				}
			}
			if fmt.Sprint(names) != fmt.Sprint(tc.want) || !sameError(err, tc.err) {
				t.Errorf("Open = %v, %v, want %v, %v", names, err, tc.want, tc.err)
			}
			if _, xerr := note.Open(tc.msg, note.VerifierList(xvs...)); (xerr == nil) != (err == nil) {
				t.Errorf("x/mod Open = %v, but Open = %v", xerr, err)
			}
		})
	}
}

// flipSignature changes one bit of signature i of a note.
func flipSignature(t testing.TB, msg []byte, i int) []byte {
	t.Helper()
	n, err := verify.ParseNote(msg)
	if err != nil {
		t.Fatal(err)
	}
	n.Sigs[i].Sig[len(n.Sigs[i].Sig)-1] ^= 1
	return n.Bytes()
}

// sameError reports whether err matches want: errors.Is for sentinels,
// errors.As for a *SignatureError.
func sameError(err, want error) bool {
	if _, ok := want.(*verify.SignatureError); ok {
		var se *verify.SignatureError
		return errors.As(err, &se)
	}
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

func TestSignatureErrorEvidence(t *testing.T) {
	msg := []byte(strings.Replace(neumannNote, "problem is", "problem was", 1))
	_, err := verify.Open(msg, mustVerifier(t, neumannVkey))
	var se *verify.SignatureError
	if !errors.As(err, &se) || se.Name != "PeterNeumann" || se.KeyID != 0xc74f20a3 {
		t.Errorf("Open(changed text) = %v, want SignatureError for PeterNeumann+c74f20a3", err)
	}
}

func sigLine(name string, n int) string {
	return "— " + name + " " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n)) + "\n"
}

// validNotes are syntactically valid notes; ParseNote(n).Bytes() == n.
var validNotes = []string{
	c2spNote,
	neumannNote,
	"a\n\n" + sigLine("k", 5),
	"\n\n" + sigLine("k", 68),
	"a\n\nb\n\n" + sigLine("k", 68) + sigLine("k", 68) + sigLine("é/ü", 76),
	"text with \x7f and \uFFFD\n\n" + sigLine("k", 68),
	"a\n\n" + strings.Repeat(sigLine("k", 68), 100),
}

func TestParseNoteRoundTrip(t *testing.T) {
	for _, msg := range validNotes {
		n, err := verify.ParseNote([]byte(msg))
		if err != nil {
			t.Errorf("ParseNote(%q) = %v", msg, err)
			continue
		}
		if got := n.Bytes(); string(got) != msg {
			t.Errorf("ParseNote(%q).Bytes() = %q", msg, got)
		}
	}
}

func TestParseNoteRejects(t *testing.T) {
	sig := sigLine("k", 68)
	for _, tc := range []struct {
		name, msg string
		xmodOK    bool // x/mod accepts it (less strict)
	}{
		{"empty", "", false},
		{"no blank line", "a\n" + sig, false},
		{"no signature", "a\n\n", false},
		{"no final newline", "a\n\n" + strings.TrimSuffix(sig, "\n"), false},
		{"blank line after signatures", "a\n\n" + sig + "\n", false},
		{"carriage return", "a\r\n\n" + sig, false},
		{"tab", "a\tb\n\n" + sig, false},
		{"NUL", "a\x00\n\n" + sig, false},
		{"invalid UTF-8", "a\xff\n\n" + sig, false},
		{"hyphen", "a\n\n- k " + sig[len("— k "):], false},
		{"no space after dash", "a\n\n—k " + sig[len("— k "):], false},
		{"empty name", "a\n\n—  " + sig[len("— k "):], false},
		{"plus in name", "a\n\n" + sigLine("a+b", 68), false},
		{"no-break space in name", "a\n\n" + sigLine("a\u00a0b", 68), false},
		{"two spaces", "a\n\n— k  " + sig[len("— k "):], false},
		{"short signature", "a\n\n" + sigLine("k", 4), false},
		{"no signature bytes", "a\n\n— k \n", false},
		{"bad base64", "a\n\n— k AAAA*AAA\n", false},
		{"url-safe base64", "a\n\n— k ____AA==\n", false},
		{"missing padding", "a\n\n— k AAAAAAA\n", false},
		{"non-canonical base64", "a\n\n— k AAAAAAB=\n", true},
		{"too many signatures", "a\n\n" + strings.Repeat(sig, 101), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n, err := verify.ParseNote([]byte(tc.msg)); !errors.Is(err, verify.ErrMalformedNote) {
				t.Errorf("ParseNote(%q) = %+v, %v, want ErrMalformedNote", tc.msg, n, err)
			}
			_, xerr := note.Open([]byte(tc.msg), note.VerifierList())
			var unverified *note.UnverifiedNoteError
			if xmodOK := errors.As(xerr, &unverified); xmodOK != tc.xmodOK {
				t.Errorf("x/mod parses %q: %v, want %v", tc.msg, xmodOK, tc.xmodOK)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	s := verify.NewEd25519Signer("k", ed25519.NewKeyFromSeed(make([]byte, 32)))
	bad := verify.NewEd25519Signer("a b", ed25519.NewKeyFromSeed(make([]byte, 32)))
	for _, tc := range []struct {
		name    string
		text    string
		signers []verify.Signer
	}{
		{"no final newline", "a", []verify.Signer{s}},
		{"empty", "", []verify.Signer{s}},
		{"carriage return", "a\r\n", []verify.Signer{s}},
		{"invalid UTF-8", "\xc0\n", []verify.Signer{s}},
		{"no signer", "a\n", nil},
		{"bad name", "a\n", []verify.Signer{s, bad}},
	} {
		if msg, err := verify.Sign([]byte(tc.text), tc.signers...); !errors.Is(err, verify.ErrMalformedNote) {
			t.Errorf("%s: Sign = %q, %v, want ErrMalformedNote", tc.name, msg, err)
		}
	}
}

func TestNewVerifierRejects(t *testing.T) {
	pub := seedFromSkey(t, neumannSkey).Public().(ed25519.PublicKey)
	key := func(typ byte, k []byte) string {
		return base64.StdEncoding.EncodeToString(append([]byte{typ}, k...))
	}
	id := func(name string, typ byte, k []byte) string {
		return fmt.Sprintf("%08x", verify.KeyID(name, typ, k))
	}
	for _, tc := range []struct {
		name, vkey string
		err        error
	}{
		{"empty", "", verify.ErrMalformedKey},
		{"name only", "PeterNeumann", verify.ErrMalformedKey},
		{"no key", "PeterNeumann+c74f20a3", verify.ErrMalformedKey},
		{"empty key", "PeterNeumann+c74f20a3+", verify.ErrMalformedKey},
		{"empty name", "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", verify.ErrMalformedKey},
		{"space in name", "Peter Neumann+" + id("Peter Neumann", 1, pub) + "+" + key(1, pub), verify.ErrMalformedKey},
		{"short id", "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", verify.ErrMalformedKey},
		{"upper-case id", "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", verify.ErrMalformedKey},
		{"wrong id", "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", verify.ErrMalformedKey},
		{"other name", "PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", verify.ErrMalformedKey},
		{"bad base64", "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", verify.ErrMalformedKey},
		{"short key", "PeterNeumann+" + id("PeterNeumann", 1, pub[:31]) + "+" + key(1, pub[:31]), verify.ErrMalformedKey},
		{"long key", "PeterNeumann+" + id("PeterNeumann", 1, append(pub, 0)) + "+" + key(1, append(pub, 0)), verify.ErrMalformedKey},
		{"type 0x02", "PeterNeumann+" + id("PeterNeumann", 2, pub) + "+" + key(2, pub), verify.ErrUnsupportedKey},
		{"type 0x03", "PeterNeumann+" + id("PeterNeumann", 3, pub) + "+" + key(3, pub), verify.ErrUnsupportedKey},
		{"type 0x06 of 32 bytes", "PeterNeumann+" + id("PeterNeumann", 6, pub) + "+" + key(6, pub), verify.ErrMalformedKey},
		{"cosignature id for Ed25519 key", "PeterNeumann+" + id("PeterNeumann", 4, pub) + "+" + key(1, pub), verify.ErrMalformedKey},
	} {
		if v, err := verify.NewVerifier(tc.vkey); !errors.Is(err, tc.err) {
			t.Errorf("%s: NewVerifier(%q) = %v, %v, want %v", tc.name, tc.vkey, v, err, tc.err)
		}
	}
	// A '+' in the base64 part is part of the key.
	plus := "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
	if v, err := verify.NewVerifier(plus); err != nil || v.Name() != "example.com/log/testdata" || v.KeyID() != 0x33d7b496 {
		t.Errorf("NewVerifier(%q) = %v, %v", plus, v, err)
	}
}
