package web_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
)

// reencode spells a leaf differently: members reordered, URL-safe base64,
// white space. It is the same statement with the same signatures.
func reencode(t *testing.T, leaf []byte) []byte {
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		t.Fatal(err)
	}
	var sigs []string
	for _, s := range env.Signatures {
		sigs = append(sigs, fmt.Sprintf(`{ "sig": %q, "keyid": %q }`, base64.URLEncoding.EncodeToString(s.Sig), s.KeyID))
	}
	return fmt.Appendf(nil, "{\n  \"signatures\": [%s],\n  \"payloadType\": %q,\n  \"payload\": %q\n}\n",
		strings.Join(sigs, ", "), attest.PayloadType, base64.URLEncoding.EncodeToString(env.Payload))
}

// forge flips a bit of the (first) signature.
func forge(t *testing.T, leaf []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(leaf, &m); err != nil {
		t.Fatal(err)
	}
	sig := m["signatures"].([]any)[0].(map[string]any)
	raw, _ := base64.StdEncoding.DecodeString(sig["sig"].(string))
	raw[5] ^= 1
	sig["sig"] = base64.StdEncoding.EncodeToString(raw)
	out, _ := json.Marshal(m)
	return out
}

// TestSubmit provokes every answer of the write API and checks that
// nothing rejected reached the log.
func TestSubmit(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	ms, gg := h.demo.Keys["microsoft"], h.demo.Keys["github"]
	msTok, ggTok := h.token("microsoft", ms, nil), h.token("github", gg, nil)
	var rejected [][]byte
	reject := func(what, path, token string, body []byte, status int, slug string) {
		t.Helper()
		resp, rb := h.post(path, token, body)
		wantProblem(t, what, resp, rb, status, slug)
		rejected = append(rejected, body)
	}

	size := h.log.Latest().Size
	first := h.pledge("microsoft", "no-offense", "We still mean it.", ms)
	resp, body := h.post("/api/v1/entries", msTok, first)
	if i := h.wantBundle("new pledge", resp, body, 201); i != size {
		t.Fatalf("new pledge at %d, want %d", i, size)
	}
	resp, body = h.post("/api/v1/entries", msTok, reencode(t, first))
	if i := h.wantBundle("re-encoded pledge", resp, body, 200); i != size {
		t.Errorf("re-encoded pledge at %d, want the first index %d", i, size)
	}

	reject("forged", "/api/v1/entries", msTok, forge(t, h.pledge("microsoft", "no-offense", "Forged.", ms)), 403, "bad-signature")
	reject("another signatory's key", "/api/v1/entries", msTok, h.pledge("microsoft", "no-offense", "Signed by GitHub.", gg), 403, "foreign-key")
	reject("issuer mismatch", "/api/v1/entries", msTok, h.pledge("github", "no-offense", "GitHub's.", gg), 403, "issuer-mismatch")
	reject("unknown field", "/api/v1/entries", msTok, []byte(`{"payload":"","payloadType":"x","signatures":[],"extra":1}`), 400, "malformed-entry")
	reject("malformed JSON", "/api/v1/entries", msTok, []byte(`{"payload":`), 400, "malformed-entry")
	reject("oversized", "/api/v1/entries", msTok, bytes.Repeat([]byte(" "), attest.MaxSubmissionSize+1), 413, "body-too-large")
	reject("no token", "/api/v1/entries", "", h.pledge("microsoft", "no-offense", "No token.", ms), 401, "unauthorized")

	// Key rotation: add a key, then revoke the old one.
	ms2 := newKey(t)
	addKey := h.event(&attest.SignatoryEvent{Action: attest.ActionAddKey, Signatory: "microsoft", Key: publicKey(t, ms2)}, ms, ms2)
	resp, body = h.post("/api/v1/entries", msTok, addKey)
	h.wantBundle("add-key", resp, body, 201)
	ms2Tok := h.token("microsoft", ms2, nil)
	revoke := h.event(&attest.SignatoryEvent{Action: attest.ActionRevoke, Signatory: "microsoft", KeyID: keyID(t, ms), Reason: attest.ReasonSuperseded}, ms2)
	resp, body = h.post("/api/v1/entries", ms2Tok, revoke)
	h.wantBundle("revoke-key", resp, body, 201)
	before := h.log.Latest().Size
	resp, body = h.post("/api/v1/entries", ms2Tok, addKey)
	if i := h.wantBundle("replayed registry event", resp, body, 200); h.log.Latest().Size != before || i != before-2 {
		t.Errorf("replayed add-key: index %d, size %d; want %d, %d", i, h.log.Latest().Size, before-2, before)
	}
	ms3 := newKey(t)
	reject("stale chain head", "/api/v1/entries", ms2Tok, h.eventAt(&attest.SignatoryEvent{Action: attest.ActionAddKey, Signatory: "microsoft", Key: publicKey(t, ms3)}, 1, ms2, ms3), 409, "chain-head")
	reject("revoked key", "/api/v1/entries", ms2Tok, h.pledge("microsoft", "no-offense", "Old key.", ms), 403, "revoked-key")
	reject("token of a revoked key", "/api/v1/entries", msTok, h.pledge("microsoft", "no-offense", "New key.", ms2), 401, "unauthorized")

	// A key revoked earlier in the same batch wins over a pledge it signed.
	gg2 := newKey(t)
	resp, body = h.post("/api/v1/entries", ggTok, h.event(&attest.SignatoryEvent{Action: attest.ActionAddKey, Signatory: "github", Key: publicKey(t, gg2)}, gg, gg2))
	h.wantBundle("github add-key", resp, body, 201)
	revokeGG := h.event(&attest.SignatoryEvent{Action: attest.ActionRevoke, Signatory: "github", KeyID: keyID(t, gg), Reason: attest.ReasonSuperseded}, gg2)
	batch := batchBody(revokeGG, h.pledge("github", "no-offense", "Signed by the key revoked just before.", gg))
	resp, body = h.post("/api/v1/entries/batch", ggTok, batch)
	wantProblem(t, "revoked earlier in the batch", resp, body, 403, "revoked-key")
	if p := problemOf(t, body); !strings.HasPrefix(p.Pointer, "/entries/1/") || p.Code == "" {
		t.Errorf("revoked earlier in the batch: pointer %q, code %q; want /entries/1/… and a code", p.Pointer, p.Code)
	}
	rejected = append(rejected, revokeGG)

	checkUnlogged(t, h, rejected)
}

// eventAt signs a registry event with seq, off the head of its chain.
func (h *demoHarness) eventAt(e *attest.SignatoryEvent, seq uint64, keys ...crypto.Signer) []byte {
	info, _ := h.reg.Signatory(e.Signatory)
	e.Origin, e.Seq, e.Prev = testOrigin, seq, info.Head
	st, err := attest.NewStatement(e)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.sign(st, keys...)
}

func batchBody(entries ...[]byte) []byte {
	raw := make([]json.RawMessage, len(entries))
	for i, e := range entries {
		raw[i] = e
	}
	b, _ := json.Marshal(api.BatchRequest{Entries: raw})
	return b
}

func problemOf(t *testing.T, body []byte) api.Problem {
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkUnlogged checks that none of the rejected bodies is in the log.
func checkUnlogged(t *testing.T, h *demoHarness, rejected [][]byte) {
	t.Helper()
	for _, body := range rejected {
		leaf, _, err := attest.Canonicalize(body)
		if err != nil {
			continue // not an attestation: it cannot be in the log
		}
		if i, found, err := h.log.Lookup(context.Background(), attest.DedupKey(leaf)); err != nil || found {
			t.Errorf("a rejected entry is in the log at %d (%v): %.80s", i, err, leaf)
		}
	}
}

// TestTokens checks every way a session token must be refused, before
// anything reaches the log.
func TestTokens(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	ms, other := h.demo.Keys["microsoft"], newKey(t)
	size := h.log.Latest().Size
	body := h.pledge("microsoft", "no-offense", "Token test.", ms)
	for _, tc := range []struct {
		name string
		iss  string
		mod  func(*jwt.Token, jwt.MapClaims)
	}{
		{"expired", "microsoft", func(_ *jwt.Token, c jwt.MapClaims) {
			c["iat"], c["exp"] = time.Now().Add(-10*time.Minute).Unix(), time.Now().Add(-6*time.Minute).Unix()
		}},
		{"lifetime over 5 minutes", "microsoft", func(_ *jwt.Token, c jwt.MapClaims) { c["exp"] = time.Now().Add(10 * time.Minute).Unix() }},
		{"no iat", "microsoft", func(_ *jwt.Token, c jwt.MapClaims) { delete(c, "iat") }},
		{"no exp", "microsoft", func(_ *jwt.Token, c jwt.MapClaims) { delete(c, "exp") }},
		{"wrong audience", "microsoft", func(_ *jwt.Token, c jwt.MapClaims) { c["aud"] = "example.com/other-log" }},
		{"unknown issuer", "nobody", nil},
		{"another issuer's kid", "github", nil},
		{"no kid", "microsoft", func(tok *jwt.Token, _ jwt.MapClaims) { delete(tok.Header, "kid") }},
		{"unknown kid", "microsoft", func(tok *jwt.Token, _ jwt.MapClaims) { tok.Header["kid"] = keyID(t, other) }},
		{"alg none", "microsoft", func(tok *jwt.Token, _ jwt.MapClaims) {
			tok.Method, tok.Header["alg"], tok.Header["signWith"] = jwt.SigningMethodNone, "none", jwt.UnsafeAllowNoneSignatureType
		}},
		{"HS256 with the public key", "microsoft", func(tok *jwt.Token, _ jwt.MapClaims) {
			tok.Method, tok.Header["alg"], tok.Header["signWith"] = jwt.SigningMethodHS256, "HS256", publicKey(t, ms).SPKI
		}},
		{"jwk and jku of another key", "microsoft", func(tok *jwt.Token, _ jwt.MapClaims) {
			x := base64.RawURLEncoding.EncodeToString(other.Public().(ed25519.PublicKey))
			tok.Header["jwk"] = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": x}
			tok.Header["jku"], tok.Header["x5u"], tok.Header["signWith"] = "https://attacker.example/jwks", "https://attacker.example/x5", other
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, rb := h.post("/api/v1/entries", h.token(tc.iss, ms, tc.mod), body)
			wantProblem(t, tc.name, resp, rb, 401, "unauthorized")
		})
	}
	if got := h.log.Latest().Size; got != size {
		t.Errorf("log size %d after refused tokens, want %d", got, size)
	}
}
