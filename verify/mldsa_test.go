package verify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"filippo.io/mldsa"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/pledgelog/pledgelog/verify"
)

const mldsaName = "witness.example.org/pq"

func mldsaKey(t testing.TB, seed []byte) *mldsa.PrivateKey {
	t.Helper()
	k, err := mldsa.NewPrivateKey(mldsa.MLDSA44(), seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestMLDSACosignatureFormats checks ML-DSA-44 cosignatures against
// transparency-dev/formats' implementation of c2sp.org/tlog-cosignature,
// both ways, with extension lines (which the ML-DSA message omits).
func TestMLDSACosignatureFormats(t *testing.T) {
	seed := bytes.Repeat([]byte{9}, 32)
	key := mldsaKey(t, seed)
	vkey := verify.MLDSACosignatureVerifierKey(mldsaName, key.PublicKey())
	ours, err := verify.NewMLDSACosigner(mldsaName, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, vkey)
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", mldsaName, ours.KeyID(), base64.StdEncoding.EncodeToString(append([]byte{0x06}, seed...)))
	fs, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	fv, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if fs.KeyHash() != ours.KeyID() || fv.KeyHash() != ours.KeyID() || v.KeyID() != ours.KeyID() {
		t.Errorf("key IDs: formats %08x %08x, ours %08x %08x", fs.KeyHash(), fv.KeyHash(), ours.KeyID(), v.KeyID())
	}
	for _, text := range []string{sofaText, sofaText + "extension line\n"} {
		msg, err := note.Sign(&note.Note{Text: text}, fs)
		if err != nil {
			t.Fatal(err)
		}
		n, err := verify.Open(msg, v)
		if err != nil {
			t.Fatalf("Open(formats' cosignature) = %v", err)
		}
		if ts, err := verify.CosignatureTime(n.Sigs[0].Sig); err != nil || time.Since(ts) > time.Hour {
			t.Errorf("CosignatureTime(formats' cosignature) = %v, %v", ts, err)
		}
		msg, err = verify.Sign([]byte(text), ours)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := note.Open(msg, note.VerifierList(fv)); err != nil {
			t.Errorf("formats: Open(our cosignature of %q) = %v", text, err)
		}
		// A cosignature of another tree does not verify.
		other := bytes.Replace(msg, []byte("20852163"), []byte("20852164"), 1)
		if _, err := verify.Open(other, v); !errors.As(err, new(*verify.SignatureError)) {
			t.Errorf("Open(cosignature of another size) = %v, want a SignatureError", err)
		}
	}
}

// TestMLDSACosignatureCircl checks the ML-DSA-44 signatures themselves
// against Cloudflare's CIRCL, an implementation of FIPS 204 independent of
// filippo.io/mldsa, over the cosigned_message of c2sp.org/tlog-cosignature
// written out here field by field.
func TestMLDSACosignatureCircl(t *testing.T) {
	var seed [32]byte
	copy(seed[:], bytes.Repeat([]byte{3}, 32))
	cpub, cpriv := mldsa44.NewKeyFromSeed(&seed)
	key := mldsaKey(t, seed[:])
	if !bytes.Equal(cpub.Bytes(), key.PublicKey().Bytes()) {
		t.Fatal("CIRCL and filippo.io/mldsa derive different public keys from one seed")
	}
	const ts = 1679315147
	message := []byte("subtree/v1\n\x00")
	message = append(message, byte(len(mldsaName)))
	message = append(message, mldsaName...)
	message = binary.BigEndian.AppendUint64(message, ts)
	message = append(message, byte(len(sofaOrigin)))
	message = append(message, sofaOrigin...)
	message = binary.BigEndian.AppendUint64(message, 0)
	message = binary.BigEndian.AppendUint64(message, 20852163)
	root, _ := base64.StdEncoding.DecodeString("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
	message = append(message, root...)

	ours, err := verify.NewMLDSACosigner(mldsaName, key, func() time.Time { return time.Unix(ts, 0) })
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ours.Sign([]byte(sofaText))
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 8+mldsa44.SignatureSize || binary.BigEndian.Uint64(sig) != ts {
		t.Fatalf("Sign = %d bytes, time %d", len(sig), binary.BigEndian.Uint64(sig))
	}
	if !mldsa44.Verify(cpub, message, nil, sig[8:]) {
		t.Error("CIRCL rejects our ML-DSA-44 cosignature")
	}
	csig := make([]byte, mldsa44.SignatureSize)
	if err := mldsa44.SignTo(cpriv, message, nil, true, csig); err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, verify.MLDSACosignatureVerifierKey(mldsaName, key.PublicKey()))
	cosig := append(binary.BigEndian.AppendUint64(nil, ts), csig...)
	if !v.Verify([]byte(sofaText), cosig) {
		t.Error("Verify rejects CIRCL's ML-DSA-44 signature of the cosigned message")
	}
	if v.Verify([]byte(sofaText), append(binary.BigEndian.AppendUint64(nil, ts+1), csig...)) {
		t.Error("Verify accepts the signature under another timestamp")
	}
}

func TestMLDSACosignerRejects(t *testing.T) {
	key := mldsaKey(t, bytes.Repeat([]byte{4}, 32))
	if _, err := verify.NewMLDSACosigner(string(bytes.Repeat([]byte{'a'}, 256)), key, nil); err == nil {
		t.Error("NewMLDSACosigner(256-byte name) succeeded")
	}
	k65, err := mldsa.GenerateKey(mldsa.MLDSA65())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.NewMLDSACosigner(mldsaName, k65, nil); err == nil {
		t.Error("NewMLDSACosigner(ML-DSA-65 key) succeeded")
	}
	epoch, err := verify.NewMLDSACosigner(mldsaName, key, func() time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if sig, err := epoch.Sign([]byte(sofaText)); err == nil {
		t.Errorf("Sign at time 0 = %x, want an error (tlog-witness forbids a zero timestamp)", sig[:8])
	}
	s, _ := verify.NewMLDSACosigner(mldsaName, key, nil)
	if _, err := s.Sign([]byte("not a checkpoint\n")); err == nil {
		t.Error("Sign(not a checkpoint) succeeded")
	}
}
