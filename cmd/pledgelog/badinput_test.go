package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/cmd/internal/clitest"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// The bad-input suite: every case of testdata/badinput/http-*.json is sent, as
// raw bytes on its own TCP connection, to a real pledgelog serve of the
// demo log. Each must get its documented answer, none may leak internals,
// and afterwards the log must be unchanged: the same signed checkpoint, a
// clean pledge-verify audit, no error or panic in the server's log, and
// bounded memory and metric labels. testdata/badinput/README.md describes
// the format of the cases.

// badCase is one case of the suite.
type badCase struct {
	Name   string            `json:"name"`
	Method string            `json:"method"` // default GET
	Path   string            `json:"path"`   // sent as it is in the request line
	Header map[string]string `json:"header"`
	// Auth is the Authorization the request bears: "" none, "signatory"
	// (a session token of Token.Iss, default microsoft), "registrar" (a
	// registrar token with a fresh jti, bound to the body) or "admin".
	Auth     string        `json:"auth"`
	Token    tokenSpec     `json:"token"`
	Body     string        `json:"body"`
	BodyB64  string        `json:"body_b64"`
	Envelope *envelopeSpec `json:"envelope"` // replaces {{built}} in Body, or is the body
	Truncate int           `json:"truncate"` // bytes cut off the end of the body
	// Raw is sent as it is instead of a request built from the fields
	// above; with Stall the client then sends nothing more, and waits.
	Raw   string `json:"raw"`
	Stall bool   `json:"stall"`
	// Send is how many times the same request is sent (default 1):
	// FirstStatus is the answer wanted to the first, Status to the last.
	Send        int `json:"send"`
	FirstStatus int `json:"first_status"`

	Status int `json:"status"`
	// Type is the problem type's slug; "html" for a UI page; "plain" for
	// net/http's own text answers; "bundle" for a proof bundle (a
	// duplicate's answer); "closed" for a connection closed without an
	// answer (or with 408).
	Type      string   `json:"type"`
	BodyNot   []string `json:"body_not"` // what the answer must not hold
	Pointer   string   `json:"pointer"`
	Code      string   `json:"code"`
	DetailNot []string `json:"detail_not"`
}

// tokenSpec describes the session token of a case.
type tokenSpec struct {
	Iss    *string        `json:"iss"`     // default microsoft ("registrar" for Auth registrar)
	KidOf  string         `json:"kid_of"`  // whose key id is the kid; default Iss
	Kid    *string        `json:"kid"`     // a literal kid instead
	SignAs string         `json:"sign_as"` // whose key signs: a principal, or "stranger"; default KidOf
	Alg    string         `json:"alg"`     // EdDSA (default), none, HS256 (keyed with the public key)
	Header map[string]any `json:"header"`  // header members set, or removed when null
	Claims map[string]any `json:"claims"`  // claims set, or removed when null
	IatIn  *int64         `json:"iat_in"`  // iat, seconds from now (default 0)
	ExpIn  *int64         `json:"exp_in"`  // exp, seconds from now (default 120)
	// Forge replaces the signed claims by these after signing.
	Forge map[string]any `json:"forge"`
	Raw   *string        `json:"raw"` // the whole Authorization header value
}

// envelopeSpec is a DSSE envelope built by the harness around a statement
// written in the case, signed by Signer's demo key.
type envelopeSpec struct {
	Statement    string `json:"statement"`
	StatementB64 string `json:"statement_b64"`
	PayloadType  string `json:"payload_type"` // default application/vnd.in-toto+json
	Signer       string `json:"signer"`       // default microsoft; "stranger": a key nobody registered
	BadSig       bool   `json:"bad_sig"`      // flip a bit of the signature
}

// leaks are strings that no answer to bad input may hold: Go error texts,
// source paths, stack traces, module paths.
var leaks = []string{".go:", "goroutine ", "panic", "runtime.", "runtime/", "github.com/", "golang.org/",
	"json: ", "invalid character", "unexpected EOF", "strconv.", "cannot unmarshal", "pebble", "/tmp/", "/home/",
	"/root/", "no such file", "permission denied", "syscall"}

// suite is the demo log served by a real pledgelog serve, with what the
// cases need to make tokens and envelopes.
type suite struct {
	t      *testing.T
	d      dataDir
	srv    *server
	addr   string
	vkey   string
	demo   *attest.Demo
	digest string // of the demo accord's predicate
	admin  string
	vars   map[string]string
	jti    int
	mu     sync.Mutex
}

const (
	badOrigin = "example.com/badinput"
	badSeed   = "bad input suite"
)

func TestBadInputHTTP(t *testing.T) {
	cases := loadBadCases(t)
	s := newSuite(t)
	before := s.checkpoint()
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.Name, func(t *testing.T) {
				t.Parallel()
				s.run(t, tc)
			})
		}
	})
	s.checkAfter(before, cases)
}

func loadBadCases(t *testing.T) []badCase {
	t.Helper()
	files, err := filepath.Glob("testdata/badinput/http-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in testdata/badinput: %v", err)
	}
	var all []badCase
	names := map[string]bool{}
	for _, f := range files {
		for _, c := range clitest.ReadJSON[[]badCase](t, f) {
			if c.Name == "" || names[c.Name] || (c.Status == 0 && c.Type != "closed") || c.Type == "" {
				t.Fatalf("%s: case %q: needs a unique name, a status and a type", f, c.Name)
			}
			names[c.Name] = true
			all = append(all, c)
		}
	}
	return all
}

func newSuite(t *testing.T) *suite {
	t.Helper()
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	code, _, stderr := pledgelog(t, nil, "init", "--demo", "--demo-seed", badSeed, "--data", string(d), "--origin", badOrigin)
	if code != 0 {
		t.Fatalf("init --demo = %d: %s", code, stderr)
	}
	s := &suite{t: t, d: d}
	var err error
	if s.demo, err = attest.NewDemo(badOrigin, []byte(badSeed)); err != nil {
		t.Fatal(err)
	}
	accord, _ := attest.TechAccord(badOrigin)
	accord.Notice = "Demo data: accord text as reported in public news of its launch."
	if s.digest, err = attest.PredicateDigest(accord); err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(d.tokenFile())
	if err != nil {
		t.Fatal(err)
	}
	s.admin = strings.TrimSpace(string(token))
	s.srv, s.vkey = startServeArgs(t, d, "--ip-rate", "-1", "--signatory-rate", "-1", "--read-timeout", "3s")
	s.addr = strings.TrimPrefix(s.srv.url, "http://")
	s.vars = map[string]string{
		"{{origin}}":        badOrigin,
		"{{accord_digest}}": s.digest,
		"{{data}}":          string(d),
		"{{envelope}}":      string(s.pledge("microsoft")),
		"{{logged}}":        string(s.demo.Entries[40]),
		"{{microsoft_kid}}": s.keyID("microsoft"),
		"{{registrar_kid}}": s.keyID(attest.RegistrarID),
	}
	return s
}

// startServeArgs is startServe with extra flags; it also returns the vkey
// that serve prints.
func startServeArgs(t *testing.T, d dataDir, args ...string) (*server, string) {
	t.Helper()
	s := &server{cmd: exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0", "--publish-interval", "10ms"}, args...)...)}
	s.cmd.Env = append(cleanEnv(), "PLEDGELOG_DATA="+string(d))
	s.cmd.Stderr = &s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	vline, _ := r.ReadString('\n')
	_, url, ok := strings.Cut(strings.TrimSpace(line), " at ")
	vkey, ok2 := strings.CutPrefix(strings.TrimSpace(vline), "vkey: ")
	if err != nil || !ok || !ok2 {
		t.Fatalf("serve printed %q, %q (%v): %s", line, vline, err, s.stderr.String())
	}
	go io.Copy(io.Discard, r)
	s.url = strings.TrimSuffix(url, "/")
	return s, vkey
}

func (s *suite) key(who string) ed25519.PrivateKey {
	switch who {
	case attest.RegistrarID:
		return s.demo.Registrar
	case "stranger":
		return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	}
	k, ok := s.demo.Keys[who]
	if !ok {
		s.t.Fatalf("no demo key for %q", who)
	}
	return k
}

func (s *suite) keyID(who string) string {
	pk, err := attest.NewPublicKey(s.key(who).Public())
	if err != nil {
		s.t.Fatal(err)
	}
	return pk.ID()
}

// pledge is a valid new pledge of signatory, not in the log: the cases
// send it only with credentials that must fail.
func (s *suite) pledge(signatory string) []byte {
	a, _ := attest.TechAccord(badOrigin)
	p := &attest.Pledge{Origin: badOrigin, Signatory: signatory, Accord: a.ID, Principle: a.Principles[0].ID,
		Status: attest.StatusProgress, Statement: "A pledge the bad-input suite never gets logged (demo data).",
		Effective: "2026-01-02"}
	leaf, err := attest.SignWithKeys(attest.NewPledgeStatement(p, s.digest), s.key(signatory))
	if err != nil {
		s.t.Fatal(err)
	}
	return leaf
}

var repeatPattern = regexp.MustCompile(`\{\{rep (\d+) ("(?:[^"\\]|\\.)*")\}\}`)

// expand replaces the placeholders of text: the suite's variables and
// {{rep N "s"}}, s (a Go string literal) repeated N times.
func (s *suite) expand(text string) string {
	for k, v := range s.vars {
		text = strings.ReplaceAll(text, k, v)
	}
	return repeatPattern.ReplaceAllStringFunc(text, func(m string) string {
		sub := repeatPattern.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[1])
		unit, err := strconv.Unquote(sub[2])
		if err != nil {
			s.t.Fatalf("placeholder %s: %v", m, err)
		}
		return strings.Repeat(unit, n)
	})
}

func (s *suite) body(t *testing.T, tc badCase) []byte {
	body := []byte(s.expand(tc.Body))
	if tc.BodyB64 != "" {
		b, err := base64.StdEncoding.DecodeString(tc.BodyB64)
		if err != nil {
			t.Fatalf("body_b64: %v", err)
		}
		body = b
	}
	if tc.Envelope != nil {
		env := s.envelope(t, tc.Envelope)
		if tc.Body == "" {
			return env
		}
		body = bytes.ReplaceAll(body, []byte("{{built}}"), env)
	}
	if tc.Truncate > 0 {
		body = body[:max(len(body)-tc.Truncate, 0)]
	}
	return body
}

func (s *suite) envelope(t *testing.T, e *envelopeSpec) []byte {
	payload := []byte(s.expand(e.Statement))
	if e.StatementB64 != "" {
		b, err := base64.StdEncoding.DecodeString(e.StatementB64)
		if err != nil {
			t.Fatalf("statement_b64: %v", err)
		}
		payload = b
	}
	pt := cmpOr(e.PayloadType, attest.PayloadType)
	signer := cmpOr(e.Signer, "microsoft")
	sig := ed25519.Sign(s.key(signer), dsse.PAE(pt, payload))
	if e.BadSig {
		sig[0] ^= 1
	}
	env, _ := json.Marshal(map[string]any{"payload": payload, "payloadType": pt,
		"signatures": []map[string]string{{"keyid": s.keyID(signer), "sig": base64.StdEncoding.EncodeToString(sig)}}})
	return env
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// authorization returns the Authorization header of tc, or "".
func (s *suite) authorization(t *testing.T, tc badCase, body []byte) string {
	ts := tc.Token
	if ts.Raw != nil {
		return s.expand(*ts.Raw)
	}
	switch tc.Auth {
	case "":
		return ""
	case "admin":
		return "Bearer " + s.admin
	case "signatory", "registrar":
	default:
		t.Fatalf("unknown auth %q", tc.Auth)
	}
	iss := "microsoft"
	if tc.Auth == "registrar" {
		iss = attest.RegistrarID
	}
	if ts.Iss != nil {
		iss = *ts.Iss
	}
	kidOf := cmpOr(ts.KidOf, iss)
	kid := ""
	if ts.Kid != nil {
		kid = s.expand(*ts.Kid)
	} else if kidOf != "" {
		kid = s.keyID(kidOf)
	}
	now := time.Now().Unix()
	iat, exp := now, now+120
	if ts.IatIn != nil {
		iat = now + *ts.IatIn
	}
	if ts.ExpIn != nil {
		exp = now + *ts.ExpIn
	}
	claims := map[string]any{"iss": iss, "aud": badOrigin, "iat": iat, "exp": exp}
	if tc.Auth == "registrar" {
		s.mu.Lock()
		s.jti++
		claims["jti"] = fmt.Sprintf("badinput-%d-%d", now, s.jti)
		s.mu.Unlock()
		sum := sha256.Sum256(body)
		claims["body_sha256"] = hex.EncodeToString(sum[:])
	}
	alg := cmpOr(ts.Alg, "EdDSA")
	header := map[string]any{"alg": alg, "typ": "JWT", "kid": kid}
	merge(header, ts.Header, s.expand)
	merge(claims, ts.Claims, s.expand)
	signAs := cmpOr(ts.SignAs, cmpOr(kidOf, "microsoft"))
	tok := signJWT(t, header, claims, alg, s.key(signAs))
	if ts.Forge != nil {
		merge(claims, ts.Forge, s.expand)
		parts := strings.Split(tok, ".")
		parts[1] = b64url(mustJSON(t, claims))
		tok = strings.Join(parts, ".")
	}
	return "Bearer " + tok
}

// merge sets the members of over in m, deleting those that are null;
// strings are expanded.
func merge(m, over map[string]any, expand func(string) string) {
	for k, v := range over {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case string:
			m[k] = expand(v)
		default:
			m[k] = v
		}
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signJWT signs a JWS compact token by hand, so that the cases can make
// tokens a JWT library would refuse to make.
func signJWT(t *testing.T, header, claims map[string]any, alg string, key ed25519.PrivateKey) string {
	input := b64url(mustJSON(t, header)) + "." + b64url(mustJSON(t, claims))
	var sig []byte
	switch alg {
	case "none":
	case "HS256": // the classic confusion: the public key as an HMAC secret
		m := hmac.New(sha256.New, key.Public().(ed25519.PublicKey))
		m.Write([]byte(input))
		sig = m.Sum(nil)
	default:
		sig = ed25519.Sign(key, []byte(input))
	}
	return input + "." + b64url(sig)
}

// request builds the bytes of tc's request.
func (s *suite) request(t *testing.T, tc badCase) []byte {
	if tc.Raw != "" {
		return []byte(s.expand(tc.Raw))
	}
	body := s.body(t, tc)
	method := cmpOr(tc.Method, http.MethodGet)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, s.expand(tc.Path), s.addr)
	header := map[string]string{}
	for k, v := range tc.Header {
		header[k] = s.expand(v)
	}
	if a := s.authorization(t, tc, body); a != "" {
		header["Authorization"] = a
	}
	_, cl := header["Content-Length"]
	_, te := header["Transfer-Encoding"]
	if !cl && !te && (len(body) > 0 || method == http.MethodPost) {
		header["Content-Length"] = strconv.Itoa(len(body))
	}
	for _, k := range slices.Sorted(maps.Keys(header)) {
		fmt.Fprintf(&b, "%s: %s\r\n", k, header[k])
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// answer is what the server did with one request.
type answer struct {
	status int
	header http.Header
	body   []byte
	closed bool // closed without an answer
}

// send writes req on a new connection and reads the answer. A server
// that neither answers nor closes within a minute fails the case.
func (s *suite) send(t *testing.T, req []byte, head, stall bool) answer {
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	werr := make(chan error, 1)
	go func() { // the server may answer before it reads all of a big body
		_, err := conn.Write(req)
		werr <- err
	}()
	if !stall {
		defer func() { <-werr }()
	}
	r := bufio.NewReader(conn)
	if _, err := r.Peek(1); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("no answer and no close within a minute")
		}
		return answer{closed: true}
	}
	var hr *http.Request
	if head {
		hr = &http.Request{Method: http.MethodHead}
	}
	resp, err := http.ReadResponse(r, hr)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer's body: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

func (s *suite) run(t *testing.T, tc badCase) {
	req := s.request(t, tc)
	head := strings.EqualFold(tc.Method, http.MethodHead)
	a := s.send(t, req, head, tc.Stall)
	for i := 1; i < max(tc.Send, 1); i++ {
		if tc.FirstStatus != 0 && i == 1 && a.status != tc.FirstStatus {
			t.Errorf("first answer %d, want %d: %s", a.status, tc.FirstStatus, a.body)
		}
		a = s.send(t, req, head, tc.Stall)
	}
	checkAnswer(t, tc, a)
}

func checkAnswer(t *testing.T, tc badCase, a answer) {
	t.Helper()
	for _, l := range leaks {
		if bytes.Contains(a.body, []byte(l)) {
			t.Errorf("the answer leaks %q: %.300s", l, a.body)
		}
	}
	for _, n := range tc.BodyNot {
		if bytes.Contains(a.body, []byte(n)) {
			t.Errorf("the answer holds %q: %.300s", n, a.body)
		}
	}
	if tc.Type == "closed" { // closed, or net/http's own 400 or 408
		plain := strings.HasPrefix(a.header.Get("Content-Type"), "text/plain")
		if !a.closed && !(plain && (a.status == http.StatusBadRequest || a.status == http.StatusRequestTimeout)) {
			t.Errorf("answer %d, want the connection closed (or net/http's 400 or 408): %s", a.status, a.body)
		}
		return
	}
	if a.closed {
		t.Fatalf("connection closed without an answer; want %d %s", tc.Status, tc.Type)
	}
	if a.status != tc.Status {
		t.Errorf("status %d, want %d: %.300s", a.status, tc.Status, a.body)
	}
	ct := a.header.Get("Content-Type")
	switch tc.Type {
	case "plain":
		return
	case "html":
		if !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type %q, want an HTML page", ct)
		}
		return
	case "bundle":
		// A request without Accept gets the v2 bundle (docs/formats.md).
		if ct != "application/vnd.pledgelog.bundle.v2+json" {
			t.Errorf("Content-Type %q, want a v2 proof bundle", ct)
		}
		return
	}
	if strings.EqualFold(tc.Method, http.MethodHead) { // a problem's head: no body, no Content-Type
		ct = "application/problem+json"
	}
	if ct != "application/problem+json" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q; want application/problem+json, no-store: %.300s",
			ct, a.header.Get("Cache-Control"), a.body)
		return
	}
	if strings.EqualFold(tc.Method, http.MethodHead) {
		return
	}
	var p api.Problem
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem %s: %v", a.body, err)
	}
	if p.Type != api.ProblemBase+tc.Type || p.Status != a.status || p.Title == "" {
		t.Errorf("problem %+v, want type %s%s", p, api.ProblemBase, tc.Type)
	}
	if tc.Pointer != "" && p.Pointer != tc.Pointer {
		t.Errorf("pointer %q, want %q", p.Pointer, tc.Pointer)
	}
	if tc.Code != "" && p.Code != tc.Code {
		t.Errorf("code %q, want %q", p.Code, tc.Code)
	}
	for _, n := range tc.DetailNot {
		if strings.Contains(p.Detail, n) {
			t.Errorf("detail %q says %q", p.Detail, n)
		}
	}
}

// checkpoint returns the served checkpoint, verified.
func (s *suite) checkpoint() []byte {
	s.t.Helper()
	resp, err := http.Get(s.srv.url + "/checkpoint")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	verifiedSize(s.t, body, s.vkey)
	return body
}

// checkAfter checks that the suite left the log as it was and the server
// well.
func (s *suite) checkAfter(before []byte, cases []badCase) {
	t := s.t
	time.Sleep(100 * time.Millisecond) // ten publish intervals: anything appended would be published
	if after := s.checkpoint(); !bytes.Equal(after, before) {
		t.Errorf("the checkpoint changed:\n%s\nbecame\n%s", before, after)
	}
	s.checkMetrics(cases)
	s.checkMemory()
	s.audit()
	s.srv.stop(t)
	logged := s.srv.stderr.String()
	for _, bad := range []string{"level=ERROR", "panic", "goroutine "} {
		if strings.Contains(logged, bad) {
			t.Errorf("the server logged %q:\n%s", bad, logged)
		}
	}
}

// checkMetrics wants the method label of the request counter bounded:
// none of the made-up methods of the cases may become a label value.
func (s *suite) checkMetrics(cases []badCase) {
	resp, err := http.Get(s.srv.url + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, tc := range cases {
		m := tc.Method
		if m == "" || slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}, m) {
			continue
		}
		if bytes.Contains(body, []byte(`method="`+m+`"`)) {
			s.t.Errorf("/metrics has the method label %q of case %q: unbounded cardinality", m, tc.Name)
		}
	}
}

// maxServeRSS bounds the server's peak resident memory over the suite.
// serve starts at about 35 MiB; the suite's bodies are at most 8 MiB
// (MaxBatchBytes), two at a time (-parallel defaults to GOMAXPROCS), and
// a parse may cost a small multiple of its input, no more. Deep nesting
// once cost 90 MiB for an 18 KB body, 345 MiB for 100 KB and 10 GiB for
// 60 KB.
const maxServeRSS = 160 << 20

func (s *suite) checkMemory() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.srv.cmd.Process.Pid))
	if err != nil {
		s.t.Logf("no peak RSS: %v", err)
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			s.t.Logf("serve's peak RSS over the suite: %d MiB", kb>>10)
			if kb<<10 > maxServeRSS {
				s.t.Errorf("serve's peak RSS %d MiB, want at most %d MiB", kb>>10, maxServeRSS>>20)
			}
		}
	}
}

var buildVerify = sync.OnceValues(func() (string, error) {
	out := filepath.Join(filepath.Dir(binary), "pledge-verify")
	cmd := exec.Command("go", "build", "-o", out, "../pledge-verify")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building pledge-verify: %v: %s", err, b)
	}
	return out, nil
})

// audit replays the whole log with pledge-verify, pinning the log key and
// the demo registrar key.
func (s *suite) audit() {
	pv, err := buildVerify()
	if err != nil {
		s.t.Fatal(err)
	}
	wantAudit(s.t, pv, s.srv.url, s.vkey, s.keyID(attest.RegistrarID), uint64(len(s.demo.Entries)))
}
