package witness

import (
	"bytes"
	"strings"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/pledgelog/pledgelog/verify"
)

// TestKeyFormats checks that transparency-dev/formats reads our key files
// (as cosigners with the same key IDs), and that what one signs the
// other's verifier accepts.
func TestKeyFormats(t *testing.T) {
	text := verify.Checkpoint{Origin: "example.org/log", Size: 3, Root: verify.EmptyRoot}.Text()
	for _, typ := range []byte{verify.TypeCosignature, verify.TypeMLDSACosignature} {
		k, err := GenerateKey("witness.example.org/w", typ)
		if err != nil {
			t.Fatal(err)
		}
		file := k.Marshal()
		back, err := ParseKey(file)
		if err != nil || !bytes.Equal(back.Marshal(), file) || back.VerifierKey() != k.VerifierKey() {
			t.Fatalf("ParseKey(Marshal()) = %v, %v", back, err)
		}
		fs, err := fnote.NewSignerForCosignatureV1(strings.TrimSpace(string(file)))
		if err != nil {
			t.Fatalf("formats reads our type %#02x key file: %v", typ, err)
		}
		ours, err := k.Signer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if fs.KeyHash() != ours.KeyID() || fs.Name() != ours.Name() {
			t.Errorf("type %#02x: formats key %s %08x, ours %s %08x", typ, fs.Name(), fs.KeyHash(), ours.Name(), ours.KeyID())
		}
		msg, err := note.Sign(&note.Note{Text: string(text)}, fs)
		if err != nil {
			t.Fatal(err)
		}
		v, err := verify.NewVerifier(k.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := verify.Open(msg, v); err != nil {
			t.Errorf("type %#02x: formats' cosignature with our key file: %v", typ, err)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	k, err := GenerateKey("w.example", verify.TypeCosignature)
	if err != nil {
		t.Fatal(err)
	}
	good := string(k.Marshal())
	for _, bad := range []string{
		"",
		strings.Replace(good, "PRIVATE+KEY", "PUBLIC+KEY", 1),
		strings.Replace(good, "w.example", "x.example", 1), // the key ID no longer matches
		good[:len(good)-5] + "\n",
		strings.Replace(good, "+w.example+", "+w example+", 1),
	} {
		if _, err := ParseKey([]byte(bad)); err == nil {
			t.Errorf("ParseKey(%q) succeeded", bad)
		}
	}
	if _, err := GenerateKey("w.example", verify.TypeEd25519); err == nil {
		t.Error("GenerateKey(type 0x01) succeeded")
	}
}
