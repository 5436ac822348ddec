package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"filippo.io/torchwood"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/pledgelog/pledgelog/verify"
)

// A cosigned checkpoint built from fixed seeds and checked below with
// transparency-dev/formats, an independent implementation; the browser
// tests (web/testdata/ui/jstest.js) verify the same bytes.
const (
	sofaOrigin  = "example.com/behind-the-sofa"
	sofaLogVkey = "example.com/behind-the-sofa+785a0da4+AaxMR+jgU7jquHw1bVYLFlbKP1dMJpUPvz2B2VXlckTA"
	sofaWitVkey = "witness.example.com/w1+261afb8b+BJDv2HnWEc4IFq3bpKSLT9dcie6/ToZYVGqODIfVebBC"
	sofaText    = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	sofaNote    = sofaText + "\n" +
		"— example.com/behind-the-sofa eFoNpCmkJXUlTGQ6hUJ3IhXSb/d/0fjUZVhnDc4A+XCGqJNwpJb+vME+PQnY+APfhH0JTcDCQScMvX1rLoA9gfUZkQU=\n" +
		"— witness.example.com/w1 Jhr7iwAAAABkGFDLbtAmaFn7GRqIFfQKf5U3ThEUjCbV6mY559WM5GA9VJfwcLT4SUVi1hnOy+0h4YEfeNXxD3FgSih8U71j/nxyCw==\n"
)

func TestCosignatureExample(t *testing.T) {
	logKey, witness := mustVerifier(t, sofaLogVkey), mustVerifier(t, sofaWitVkey)
	c, n, err := verify.OpenCheckpoint([]byte(sofaNote), sofaOrigin, []verify.Verifier{logKey}, []verify.Verifier{witness}, 1)
	if err != nil {
		t.Fatalf("OpenCheckpoint = %v", err)
	}
	if c.Size != 20852163 || c.Root.String() != "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=" || len(n.Sigs) != 2 {
		t.Errorf("OpenCheckpoint = %+v, %+v", c, n.Sigs)
	}
	ts, err := verify.CosignatureTime(n.Sigs[1].Sig)
	if err != nil || ts.Unix() != 1679315147 {
		t.Errorf("CosignatureTime = %v (%d), %v, want 1679315147", ts, ts.Unix(), err)
	}
	if _, err := verify.CosignatureTime(n.Sigs[0].Sig); err == nil {
		t.Errorf("CosignatureTime(log signature) succeeded")
	}

	// Every one-byte change breaks it.
	for i := range len(sofaNote) {
		for _, x := range []byte{0x01, 0x20} {
			msg := []byte(sofaNote)
			msg[i] ^= x
			if _, _, err := verify.OpenCheckpoint(msg, sofaOrigin, []verify.Verifier{logKey}, []verify.Verifier{witness}, 1); err == nil {
				t.Errorf("OpenCheckpoint accepts the note with byte %d ^ %#x: %q", i, x, msg)
			}
		}
	}
}

func TestCosignatureExampleFormats(t *testing.T) {
	v, err := fnote.NewVerifierForCosignatureV1(sofaWitVkey)
	if err != nil {
		t.Fatal(err)
	}
	logKey, _ := note.NewVerifier(sofaLogVkey)
	n, err := note.Open([]byte(sofaNote), note.VerifierList(logKey, v))
	if err != nil || len(n.Sigs) != 2 {
		t.Fatalf("x/mod Open with formats cosignature verifier = %v", err)
	}
	ts, err := fnote.CoSigV1Timestamp(n.Sigs[1])
	if err != nil || ts.Unix() != 1679315147 {
		t.Errorf("CoSigV1Timestamp = %v, %v", ts, err)
	}
}

func TestCosigner(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	pub := key.Public().(ed25519.PublicKey)
	now := time.Unix(1700000000, 0)
	s := verify.NewCosigner("w.example", key, func() time.Time { return now })
	vkey := verify.CosignatureVerifierKey("w.example", pub)
	v := mustVerifier(t, vkey)
	if s.KeyID() != verify.KeyID("w.example", 0x04, pub) || v.KeyID() != s.KeyID() || v.Name() != "w.example" {
		t.Errorf("key IDs: signer %08x, verifier %08x", s.KeyID(), v.KeyID())
	}
	if s.KeyID() == verify.NewEd25519Signer("w.example", key).KeyID() {
		t.Errorf("cosigner and plain signer share key ID %08x", s.KeyID())
	}
	text := []byte(sofaText)
	sig, err := s.Sign(text)
	if err != nil || len(sig) != 72 || binary.BigEndian.Uint64(sig) != 1700000000 {
		t.Fatalf("Sign = %x, %v", sig, err)
	}
	msg := []byte(fmt.Sprintf("cosignature/v1\ntime %d\n%s", 1700000000, text))
	if !ed25519.Verify(pub, msg, sig[8:]) {
		t.Errorf("cosignature does not sign %q", msg)
	}
	if !v.Verify(text, sig) {
		t.Errorf("Verify(own cosignature) = false")
	}
	if ts, err := verify.CosignatureTime(sig); err != nil || !ts.Equal(now) {
		t.Errorf("CosignatureTime = %v, %v, want %v", ts, err, now)
	}

	bad := func(what string, text, sig []byte) {
		if v.Verify(text, sig) {
			t.Errorf("Verify accepts %s", what)
		}
	}
	other := bytes.Replace(text, []byte("20852163"), []byte("20852164"), 1)
	bad("another checkpoint", other, sig)
	later := bytes.Clone(sig)
	later[7]++
	bad("another time", text, later)
	bad("a short signature", text, sig[:71])
	bad("a long signature", text, append(bytes.Clone(sig), 0))
	bad("a plain Ed25519 signature", text, ed25519.Sign(key, text))
	// A valid signature, by the right key, of a text that is no checkpoint.
	notCheckpoint := []byte("hello\n")
	forged := binary.BigEndian.AppendUint64(nil, 5)
	forged = append(forged, ed25519.Sign(key, []byte("cosignature/v1\ntime 5\nhello\n"))...)
	bad("a text that is no checkpoint", notCheckpoint, forged)
	huge := binary.BigEndian.AppendUint64(nil, 1<<63)
	huge = append(huge, ed25519.Sign(key, fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", uint64(1<<63), text))...)
	bad("a time beyond 2^63-1", text, huge)
	if _, err := verify.CosignatureTime(huge); err == nil {
		t.Errorf("CosignatureTime(2^63) succeeded")
	}

	if sig, err := s.Sign(notCheckpoint); err == nil {
		t.Errorf("Sign(%q) = %x, want an error", notCheckpoint, sig)
	}
	early := verify.NewCosigner("w.example", key, func() time.Time { return time.Unix(-1, 0) })
	if sig, err := early.Sign(text); err == nil {
		t.Errorf("Sign before 1970 = %x, want an error", sig)
	}
}

// TestCosignatureInterop checks cosignatures against torchwood's and
// transparency-dev/formats' implementations, both ways.
func TestCosignatureInterop(t *testing.T) {
	seed := bytes.Repeat([]byte{5}, 32)
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	const name = "witness.example.org/interop"
	vkey := verify.CosignatureVerifierKey(name, pub)
	ours := verify.NewCosigner(name, key, nil)
	v := mustVerifier(t, vkey)
	text := []byte(sofaText)

	tw, err := torchwood.NewCosignatureSigner(name, key)
	if err != nil {
		t.Fatal(err)
	}
	if got := tw.Verifier().String(); got != vkey {
		t.Errorf("torchwood vkey %q, ours %q", got, vkey)
	}
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, ours.KeyID(), base64.StdEncoding.EncodeToString(append([]byte{0x04}, seed...)))
	fs, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	fv, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if fs.KeyHash() != ours.KeyID() || fv.KeyHash() != ours.KeyID() || tw.KeyHash() != ours.KeyID() {
		t.Errorf("key IDs: formats %08x %08x, torchwood %08x, ours %08x", fs.KeyHash(), fv.KeyHash(), tw.KeyHash(), ours.KeyID())
	}

	for _, signer := range []note.Signer{tw, fs} {
		msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := verify.Open(msg, v); err != nil || len(n.Sigs[0].Sig) != 72 {
			t.Errorf("Open(%T cosignature) = %v", signer, err)
		}
	}
	msg, err := verify.Sign(text, ours)
	if err != nil {
		t.Fatal(err)
	}
	for _, xv := range []note.Verifier{tw.Verifier(), fv} {
		n, err := note.Open(msg, note.VerifierList(xv))
		if err != nil {
			t.Errorf("%T: Open(our cosignature) = %v", xv, err)
			continue
		}
		ts, err := torchwood.CosignatureTimestamp(n.Sigs[0])
		if ours, _ := verify.CosignatureTime(mustParse(t, msg).Sigs[0].Sig); err != nil || ts != ours.Unix() {
			t.Errorf("torchwood timestamp %d, %v; ours %d", ts, err, ours.Unix())
		}
	}
	// A cosignature is not a plain signature, and the reverse.
	plain := verify.NewEd25519Signer(name, key)
	plainMsg, _ := verify.Sign(text, plain)
	if _, err := verify.Open(plainMsg, v); !errors.Is(err, verify.ErrNoVerifiedSignature) {
		t.Errorf("Open(plain signature, cosignature key) = %v, want ErrNoVerifiedSignature", err)
	}
}

func mustParse(t testing.TB, msg []byte) *verify.Note {
	t.Helper()
	n, err := verify.ParseNote(msg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAddCosignatures adds a witness's response lines to a signed checkpoint.
func TestAddCosignatures(t *testing.T) {
	p := newPolicy(t, "log.example.org/add")
	text := verify.Checkpoint{Origin: "log.example.org/add", Size: 3, Root: verify.EmptyRoot}.Text()
	signed, err := verify.Sign(text, p.log)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := verify.Sign(text, p.witnesses[0], p.witnesses[1])
	if err != nil {
		t.Fatal(err)
	}
	response := cosigned[len(text)+1:] // the signature lines
	sigs, err := verify.ParseSignatures(response)
	if err != nil || len(sigs) != 2 {
		t.Fatalf("ParseSignatures(%q) = %v, %v", response, sigs, err)
	}
	n := mustParse(t, signed)
	n.Sigs = append(n.Sigs, sigs...)
	if _, _, err := verify.OpenCheckpoint(n.Bytes(), "log.example.org/add", []verify.Verifier{p.logKey}, p.wkeys, 2); err != nil {
		t.Errorf("OpenCheckpoint(with added cosignatures) = %v", err)
	}
	for _, bad := range []string{"", "\n", string(response[:len(response)-1]), "— w1.example AAAA\rAAA=\n", "x\n\n" + string(response)} {
		if sigs, err := verify.ParseSignatures([]byte(bad)); !errors.Is(err, verify.ErrMalformedNote) {
			t.Errorf("ParseSignatures(%q) = %v, %v, want ErrMalformedNote", bad, sigs, err)
		}
	}
}
