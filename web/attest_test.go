package web_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/web"
	"github.com/sigstore/sigstore/pkg/signature"
)

const accordID = "cybersecurity-tech-accord-2018"

// demoHarness is the demo log, with the attestation hooks, behind a real
// server on loopback.
type demoHarness struct {
	t    *testing.T
	log  *log.Log
	st   *memory.Storage
	reg  *attest.Registry
	alog *attestlog.Log
	demo *attest.Demo
	srv  *httptest.Server
	jti  int
}

// newDemoHarness logs the demo and serves it; cfg and lcfg may adjust the
// configurations.
func newDemoHarness(t *testing.T, cfg func(*web.Config), lcfg func(*log.Config)) *demoHarness {
	t.Helper()
	h := &demoHarness{t: t, st: memory.New()}
	s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	lc := log.Config{Origin: testOrigin, Signer: s, Storage: h.st, PublishInterval: time.Millisecond}
	if lcfg != nil {
		lcfg(&lc)
	}
	if h.alog, err = attestlog.Create(context.Background(), lc); err != nil {
		t.Fatal(err)
	}
	h.log, h.reg = h.alog.Log(), h.alog.Registry()
	runLog(t, h.log)
	if h.demo, err = attest.NewDemo(testOrigin, []byte("web test")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.log.AppendBatch(context.Background(), h.demo.Entries); err != nil {
		t.Fatal(err)
	}
	wc := web.Config{Attest: h.alog, IPLimit: web.Limit{Rate: -1}, SignatoryLimit: web.Limit{Rate: -1},
		ReadLimit: web.Limit{Rate: -1}}
	if cfg != nil {
		cfg(&wc)
	}
	h.srv = serve(t, wc)
	return h
}

// runAttestLog creates an attestation log in memory, signed by the log key
// derived from keySeed and published every millisecond, and runs it until
// the test ends.
func runAttestLog(tb testing.TB, keySeed byte) *attestlog.Log {
	tb.Helper()
	s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{keySeed}, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	lc := log.Config{Origin: testOrigin, Signer: s, Storage: memory.New(), PublishInterval: time.Millisecond}
	al, err := attestlog.Create(context.Background(), lc)
	if err != nil {
		tb.Fatal(err)
	}
	runLog(tb, al.Log())
	return al
}

func runLog(t testing.TB, l *log.Log) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func keyID(t *testing.T, key crypto.Signer) string {
	pk, err := attest.NewPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pk.ID()
}

// token mints a session token of iss signed by key; mod may change it
// before it is signed.
func (h *demoHarness) token(iss string, key crypto.Signer, mod func(*jwt.Token, jwt.MapClaims)) string {
	now := time.Now()
	c := jwt.MapClaims{"iss": iss, "aud": testOrigin, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix()}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = keyID(h.t, key)
	var signKey any = key
	if mod != nil {
		mod(tok, c)
		if k, ok := tok.Header["signWith"]; ok {
			signKey = k
			delete(tok.Header, "signWith")
		}
	}
	s, err := tok.SignedString(signKey)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// registrarToken mints a single-use registrar token bound to body.
func (h *demoHarness) registrarToken(body []byte) string {
	h.jti++
	jti := h.jti
	return h.token(attest.RegistrarID, h.demo.Registrar, func(_ *jwt.Token, c jwt.MapClaims) {
		sum := sha256.Sum256(body)
		c["jti"], c["body_sha256"] = fmt.Sprintf("jti-%d", jti), hex.EncodeToString(sum[:])
	})
}

// post sends body to path with a bearer token.
func (h *demoHarness) post(path, token string, body []byte) (*http.Response, []byte) {
	h.t.Helper()
	hd := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		hd.Set("Authorization", "Bearer "+token)
	}
	return do(h.t, h.srv, http.MethodPost, path, hd, body)
}

// sign signs a statement with keys into a canonical leaf.
func (h *demoHarness) sign(st *attest.Statement, keys ...crypto.Signer) []byte {
	h.t.Helper()
	leaf, err := attest.SignWithKeys(st, keys...)
	if err != nil {
		h.t.Fatal(err)
	}
	return leaf
}

func (h *demoHarness) pledge(signatory, principle, text string, key crypto.Signer) []byte {
	a, _ := h.reg.Accord(accordID)
	p := &attest.Pledge{Origin: testOrigin, Signatory: signatory, Accord: accordID, Principle: principle,
		Status: attest.StatusReaffirmed, Statement: text, Effective: "2026-01-02"}
	return h.sign(attest.NewPledgeStatement(p, a.Digest), key)
}

// event signs a registry event of signatory at the head of its chain.
func (h *demoHarness) event(e *attest.SignatoryEvent, keys ...crypto.Signer) []byte {
	info, ok := h.reg.Signatory(e.Signatory)
	if ok {
		e.Seq, e.Prev = info.Seq+1, info.Head
	}
	e.Origin = testOrigin
	st, err := attest.NewStatement(e)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.sign(st, keys...)
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicKey(t *testing.T, k crypto.Signer) *attest.PublicKey {
	pk, err := attest.NewPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &pk
}

// policy pins the log key and the registrar key by id only, so that a
// bundle must carry the genesis as evidence.
func (h *demoHarness) policy() bundle.Policy {
	v, err := verify.NewVerifier(h.log.VerifierKey())
	if err != nil {
		h.t.Fatal(err)
	}
	return bundle.Policy{Origin: testOrigin, LogKeys: []verify.Verifier{v},
		RegistrarKeyIDs: []string{keyID(h.t, h.demo.Registrar)}}
}

// wantBundle checks a 200 or 201 bundle answer, a v2 bundle (the
// server's default), and returns its index.
func (h *demoHarness) wantBundle(what string, resp *http.Response, body []byte, status int) uint64 {
	h.t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != bundle.MediaTypeV2 {
		h.t.Fatalf("%s: %d %s, want %d %s: %s", what, resp.StatusCode, resp.Header.Get("Content-Type"), status, bundle.MediaTypeV2, body)
	}
	b, err := bundle.Parse(body)
	if err != nil {
		h.t.Fatalf("%s: bundle.Parse: %v", what, err)
	}
	r, err := bundle.Verify(b, h.policy())
	if err != nil {
		h.t.Fatalf("%s: bundle.Verify: %v", what, err)
	}
	return r.Index
}
