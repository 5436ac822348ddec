package web_test

import (
	"bytes"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/web"
)

func TestBatch(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	ms := h.demo.Keys["microsoft"]
	tok := h.token("microsoft", ms, nil)
	a, b := h.pledge("microsoft", "no-offense", "A.", ms), h.pledge("microsoft", "stronger-defense", "B.", ms)
	size := h.log.Latest().Size
	resp, body := h.post("/api/v1/entries/batch", tok, batchBody(a, reencode(t, a), b))
	if resp.StatusCode != 201 {
		t.Fatalf("batch = %d: %s", resp.StatusCode, body)
	}
	var br api.BatchResponse
	if err := json.Unmarshal(body, &br); err != nil {
		t.Fatal(err)
	}
	want := []uint64{size, size, size + 1}
	for k, item := range br.Entries {
		if item.Index != want[k] || len(item.Evidence) == 0 {
			t.Errorf("batch item %d: index %d, evidence %v; want index %d and evidence", k, item.Index, item.Evidence, want[k])
		}
	}
	if len(br.Entries) != 3 || br.Checkpoint == "" {
		t.Fatalf("batch response %s", body)
	}
	resp, body = h.post("/api/v1/entries/batch", tok, batchBody(b))
	if resp.StatusCode != 200 {
		t.Errorf("batch of a duplicate = %d: %s", resp.StatusCode, body)
	}

	var many [][]byte
	for i := range api.MaxBatch + 1 {
		many = append(many, h.pledge("microsoft", "no-offense", "Many "+strconv.Itoa(i)+".", ms))
	}
	c := h.pledge("microsoft", "no-offense", "C.", ms)
	bad := bytes.Replace(reencode(t, c), []byte(`"payloadType"`), []byte(`"payloadtype"`), 1)
	for _, tc := range []struct {
		name   string
		ct     string
		body   []byte
		status int
		slug   string
		ptr    string
	}{
		{"too many", "application/json", batchBody(many...), 400, "bad-request", ""},
		{"empty", "application/json", []byte(`{"entries":[]}`), 400, "bad-request", ""},
		{"unknown member", "application/json", []byte(`{"entries":[],"more":1}`), 400, "bad-request", ""},
		{"bad envelope", "application/json", batchBody(c, bad), 400, "malformed-entry", "/entries/1/"},
		{"media type", "text/plain", batchBody(c), 415, "unsupported-media-type", ""},
		{"too large", "application/json", bytes.Repeat([]byte(" "), 9<<20), 413, "body-too-large", ""},
	} {
		hd := http.Header{"Content-Type": {tc.ct}, "Authorization": {"Bearer " + tok}}
		resp, body := do(t, h.srv, "POST", "/api/v1/entries/batch", hd, tc.body)
		wantProblem(t, tc.name, resp, body, tc.status, tc.slug)
		if p := problemOf(t, body); len(p.Pointer) < len(tc.ptr) || p.Pointer[:len(tc.ptr)] != tc.ptr {
			t.Errorf("%s: pointer %q, want %q…", tc.name, p.Pointer, tc.ptr)
		}
	}
	if got := h.log.Latest().Size; got != size+2 {
		t.Errorf("log size %d, want %d", got, size+2)
	}
	checkUnlogged(t, h, append(many, c))
}

// TestRegistrarToken registers a signatory with a single-use registrar
// token bound to the body.
func TestRegistrarToken(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	key := newKey(t)
	reg := h.event(&attest.SignatoryEvent{Action: attest.ActionRegister, Signatory: "newco", Name: "NewCo", Key: publicKey(t, key)}, h.demo.Registrar, key)
	other := h.event(&attest.SignatoryEvent{Action: attest.ActionRegister, Signatory: "otherco", Name: "OtherCo", Key: publicKey(t, key)}, h.demo.Registrar, key)
	tok := h.registrarToken(reg)
	resp, body := h.post("/api/v1/entries", tok, other)
	wantProblem(t, "body_sha256 of another body", resp, body, 401, "unauthorized")
	resp, body = h.post("/api/v1/entries", tok, reg)
	h.wantBundle("register", resp, body, 201)
	resp, body = h.post("/api/v1/entries", tok, reg)
	wantProblem(t, "replayed registrar token", resp, body, 401, "unauthorized")
	if _, ok := h.reg.Signatory("otherco"); ok {
		t.Error("otherco was registered")
	}
}

func TestRateLimits(t *testing.T) {
	h := newDemoHarness(t, func(c *web.Config) { c.IPLimit = web.Limit{Rate: 0.5, Burst: 1} }, nil)
	ms := h.demo.Keys["microsoft"]
	tok := h.token("microsoft", ms, nil)
	h.post("/api/v1/entries", tok, h.pledge("microsoft", "no-offense", "One.", ms))
	resp, body := h.post("/api/v1/entries", tok, h.pledge("microsoft", "no-offense", "Two.", ms))
	wantProblem(t, "second request", resp, body, 429, "rate-limited")
	if ra := resp.Header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2", ra)
	}

	h = newDemoHarness(t, func(c *web.Config) { c.SignatoryLimit = web.Limit{Rate: 1, Burst: 1} }, nil)
	ms = h.demo.Keys["microsoft"]
	tok = h.token("microsoft", ms, nil)
	h.post("/api/v1/entries", tok, h.pledge("microsoft", "no-offense", "One.", ms))
	resp, body = h.post("/api/v1/entries", tok, h.pledge("microsoft", "no-offense", "Two.", ms))
	wantProblem(t, "second request of a signatory", resp, body, 429, "rate-limited")
}

// TestPushback fills the sequencer's queue and wants a 503.
func TestPushback(t *testing.T) {
	h := newDemoHarness(t, nil, func(c *log.Config) { c.MaxPending, c.MaxBatchAge, c.MaxBatchSize = 1, time.Second, 2 })
	ms := h.demo.Keys["microsoft"]
	tok := h.token("microsoft", ms, nil)
	done := make(chan int)
	go func() {
		resp, _ := h.post("/api/v1/entries", tok, h.pledge("microsoft", "no-offense", "Slow.", ms))
		done <- resp.StatusCode
	}()
	for n, _ := h.log.Pending(); n == 0; n, _ = h.log.Pending() {
		time.Sleep(time.Millisecond)
	}
	resp, body := h.post("/api/v1/entries", tok, h.pledge("microsoft", "no-offense", "Pushed back.", ms))
	wantProblem(t, "pushback", resp, body, 503, "pushback")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if code := <-done; code != 201 {
		t.Errorf("the first request = %d, want 201", code)
	}
}

// TestEntryTooLarge submits an accord whose leaf exceeds 65,535 bytes.
func TestEntryTooLarge(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	a := &attest.Accord{Origin: testOrigin, ID: "big", Title: "Big", Text: "Big."}
	for i := range 9 {
		a.Principles = append(a.Principles, attest.Principle{ID: "p" + strconv.Itoa(i), Title: "P", Text: strings.Repeat("x", 7000)})
	}
	st, err := attest.NewStatement(a)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ed25519Sign(h, payload)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := json.Marshal(map[string]any{"payload": payload, "payloadType": attest.PayloadType,
		"signatures": []map[string]any{{"keyid": keyID(t, h.demo.Registrar), "sig": sig}}})
	resp, body := h.post("/api/v1/entries", h.registrarToken(env), env)
	wantProblem(t, "entry too large", resp, body, 413, "entry-too-large")
}

func ed25519Sign(h *demoHarness, payload []byte) ([]byte, error) {
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(attest.PayloadType), attest.PayloadType, len(payload), payload)
	return h.demo.Registrar.Sign(nil, pae, crypto.Hash(0))
}

// TestES256 registers a signatory with a P-256 key, whose tokens must be
// ES256 and nothing else.
func TestES256(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	key, err := attest.GenerateKey(attest.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	reg := h.event(&attest.SignatoryEvent{Action: attest.ActionRegister, Signatory: "p256co", Name: "P256Co", Key: publicKey(t, key)}, h.demo.Registrar, key)
	h.mustPost(h.registrarToken(reg), reg)
	pledge := h.pledge("p256co", "no-offense", "Signed with P-256.", key)
	es256 := h.token("p256co", key, func(tok *jwt.Token, _ jwt.MapClaims) {
		tok.Method, tok.Header["alg"] = jwt.SigningMethodES256, "ES256"
	})
	eddsa := h.token("p256co", h.demo.Keys["microsoft"], func(tok *jwt.Token, _ jwt.MapClaims) { tok.Header["kid"] = keyID(t, key) })
	resp, body := h.post("/api/v1/entries", eddsa, pledge)
	wantProblem(t, "EdDSA token for a P-256 key", resp, body, 401, "unauthorized")
	resp, body = h.post("/api/v1/entries", es256, pledge)
	h.wantBundle("ES256", resp, body, 201)
}

// nearlyFull is a Storage whose disk is full once full is set.
type nearlyFull struct {
	log.Storage
	full atomic.Bool
}

func (s *nearlyFull) FreeBytes() (uint64, error) {
	if s.full.Load() {
		return 1 << 20, nil
	}
	return 1 << 40, nil
}

// TestDiskFull wants a 503 with Retry-After for a submission while the
// storage is nearly full, and nothing logged.
func TestDiskFull(t *testing.T) {
	var st *nearlyFull
	h := newDemoHarness(t, nil, func(c *log.Config) { st = &nearlyFull{Storage: c.Storage}; c.Storage = st })
	st.full.Store(true)
	ms := h.demo.Keys["microsoft"]
	size := h.log.Latest().Size
	resp, body := h.post("/api/v1/entries", h.token("microsoft", ms, nil), h.pledge("microsoft", "no-offense", "Full.", ms))
	wantProblem(t, "disk full", resp, body, 503, "disk-full")
	if resp.Header.Get("Retry-After") == "" || h.log.Latest().Size != size {
		t.Errorf("disk full: Retry-After %q, size %d; want one, %d", resp.Header.Get("Retry-After"), h.log.Latest().Size, size)
	}
}
