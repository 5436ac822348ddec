package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/web"
	"golang.org/x/mod/sumdb/tlog"
)

// The fuzz targets of what the network reaches in web: session tokens
// (header, claims, crit, kid), the batch wrapper, the backup request, the
// query numbers and cursors, and tile paths. Each sends its input through
// the server's real handler, in memory, and checks the answer against a
// reference written here from the specifications (RFC 7515/7519 for
// tokens, a JSON token stream for the wrappers, strconv for numbers,
// x/mod's sumdb/tlog for tile paths): never a 5xx, always a problem with
// a stable type for an error, and agreement with the reference.

// fuzzNow is the fixed clock of token validation in the fuzz targets, so
// that the seeds' tokens stay valid.
var fuzzNow = time.Unix(1780000000, 0)

// fuzzServer is the demo log behind the real handler.
type fuzzServer struct {
	h      http.Handler
	demo   *attest.Demo
	size   uint64
	admin  string
	kid    string // of microsoft's demo key
	backup chan string
}

func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	fs := &fuzzServer{admin: "fuzz-admin-token", backup: make(chan string, 1)}
	al := runAttestLog(tb, 9)
	l := al.Log()
	var err error
	if fs.demo, err = attest.NewDemo(testOrigin, []byte("web fuzz")); err != nil {
		tb.Fatal(err)
	}
	if _, err := l.AppendBatch(context.Background(), fs.demo.Entries); err != nil {
		tb.Fatal(err)
	}
	for l.Latest().Size < uint64(len(fs.demo.Entries)) {
		time.Sleep(time.Millisecond)
	}
	fs.size = uint64(len(fs.demo.Entries))
	off := web.Limit{Rate: -1}
	srv, err := web.New(web.Config{Attest: al, IPLimit: off, SignatoryLimit: off, ReadLimit: off,
		Now: func() time.Time { return fuzzNow }, AdminToken: []byte(fs.admin),
		Backup: func(_ context.Context, dest string) error {
			select {
			case fs.backup <- dest:
			default:
			}
			return nil
		}})
	if err != nil {
		tb.Fatal(err)
	}
	fs.h = srv.Handler()
	pk, err := attest.NewPublicKey(fs.demo.Keys["microsoft"].Public())
	if err != nil {
		tb.Fatal(err)
	}
	fs.kid = pk.ID()
	return fs
}

// fuzzAnswer is an answer of the handler.
type fuzzAnswer struct {
	status int
	header http.Header
	body   []byte
	p      api.Problem
}

// do sends one request to the handler and checks what every answer must
// be: no 5xx, and a 4xx a problem of a known type.
func (fs *fuzzServer) do(t *testing.T, method, target, auth string, body []byte) fuzzAnswer {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	fs.h.ServeHTTP(w, r)
	a := fuzzAnswer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	if a.status >= 500 {
		t.Fatalf("%s %s: %d: %s", method, target, a.status, a.body)
	}
	if a.status >= 400 && method != http.MethodHead {
		dec := json.NewDecoder(bytes.NewReader(a.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a.p); err != nil || !strings.HasPrefix(a.p.Type, api.ProblemBase) || a.p.Status != a.status {
			t.Fatalf("%s %s: %d is no problem: %v: %.300s", method, target, a.status, err, a.body)
		}
	}
	return a
}

func (a fuzzAnswer) slug() string { return strings.TrimPrefix(a.p.Type, api.ProblemBase) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signToken signs header and claims, as they are, with key.
func signToken(header, claims []byte, key ed25519.PrivateKey) string {
	in := b64(header) + "." + b64(claims)
	return in + "." + b64(ed25519.Sign(key, []byte(in)))
}

// tokenSeeds are headers and claims of session tokens: valid ones, and
// the cases the package comment and RFC 7515/7519 name.
func tokenSeeds(kid string) [][2]string {
	now := fuzzNow.Unix()
	h := fmt.Sprintf(`{"alg":"EdDSA","typ":"JWT","kid":%q}`, kid)
	c := fmt.Sprintf(`{"iss":"microsoft","aud":%q,"iat":%d,"exp":%d}`, testOrigin, now, now+120)
	return [][2]string{
		{h, c},
		{fmt.Sprintf(`{"alg":"EdDSA","kid":%q}`, kid), fmt.Sprintf(`{"iss":"microsoft","aud":[%q,"other"],"iat":%d,"exp":%d,"nbf":%d,"jti":"x"}`, testOrigin, now, now+300, now-10)},
		{fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"crit":["exp"],"exp":1}`, kid), c},
		{fmt.Sprintf(`{"alg":"none","kid":%q}`, kid), c},
		{fmt.Sprintf(`{"alg":"ES256","kid":%q}`, kid), c},
		{`{"alg":"EdDSA","kid":"nope"}`, c},
		{h, fmt.Sprintf(`{"iss":"microsoft","aud":%q,"iat":%d,"exp":%d}`, testOrigin, now, now+301)},
		{h, fmt.Sprintf(`{"iss":"microsoft","aud":%q,"iat":%d,"exp":%d}`, testOrigin, now-400, now-200)},
		{h, fmt.Sprintf(`{"iss":"microsoft","aud":%q,"iat":%d.5,"exp":%d.5}`, testOrigin, now, now+60)},
		{h, fmt.Sprintf(`{"iss":"microsoft","aud":%q,"iat":%d,"exp":1e300}`, testOrigin, now)},
		{h, fmt.Sprintf(`{"iss":"microsoft","aud":"wrong","iat":%d,"exp":%d}`, now, now+60)},
		{h, fmt.Sprintf(`{"iss":"apple","aud":%q,"iat":%d,"exp":%d}`, testOrigin, now, now+60)},
		{h, fmt.Sprintf(`{"iss":"microsoft","aud":%q,"exp":%d}`, testOrigin, now+60)},
		{h, fmt.Sprintf(`{"iss":"microsoft","aud":%q,"iat":"%d","exp":%d}`, testOrigin, now, now+60)},
		{h, fmt.Sprintf(`{"iss":"microsoft","Iss":"apple","aud":%q,"iat":%d,"exp":%d}`, testOrigin, now, now+60)},
		{h, fmt.Sprintf(`{"ISS":"microsoft","aud":%q,"iat":%d,"exp":%d}`, testOrigin, now, now+60)},
		{h, fmt.Sprintf(`{"iss":"apple","iss":"microsoft","aud":%q,"iat":%d,"exp":%d}`, testOrigin, now, now+60)},
		{fmt.Sprintf(`{"alg":"EdDSA","kid":"other","kid":%q}`, kid), c},
	}
}

// FuzzSessionToken sends tokens signed by a registered key, with fuzzed
// header and claims, and wants the server to accept exactly those that
// the reference, refToken, finds valid: so the fuzzer explores header,
// claims, crit and kid, not signatures it cannot forge.
func FuzzSessionToken(f *testing.F) {
	fs := newFuzzServer(f)
	for _, s := range tokenSeeds(fs.kid) {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	key := fs.demo.Keys["microsoft"]
	f.Fuzz(func(t *testing.T, header, claims []byte) {
		tok := signToken(header, claims, key)
		a := fs.do(t, http.MethodPost, "/api/v1/entries", "Bearer "+tok, []byte("{}"))
		accepted := a.status != http.StatusUnauthorized
		if accepted && (a.status != http.StatusBadRequest || a.slug() == "unauthorized") {
			t.Fatalf("token accepted, then %d %s; want 400 for the body {}", a.status, a.slug())
		}
		want, sure := refToken(header, claims, fs.kid)
		if sure && accepted != want {
			t.Fatalf("header %s claims %s: accepted %v (%d %s), the reference says %v", header, claims, accepted, a.status, a.p.Detail, want)
		}
		checkNoEcho(t, a, header, claims)
	})
}

// FuzzSessionTokenRaw sends whatever Authorization header the fuzzer
// makes. None can have a valid signature but the seed's, so all but that
// one must be refused, each with the unauthorized problem.
func FuzzSessionTokenRaw(f *testing.F) {
	fs := newFuzzServer(f)
	for _, s := range tokenSeeds(fs.kid)[:3] {
		f.Add("Bearer " + signToken([]byte(s[0]), []byte(s[1]), fs.demo.Keys["microsoft"]))
	}
	// RFC 7515 A.5 (unsecured), RFC 8037 A.4 (an Ed25519 JWS), RFC 7519 3.1.
	f.Add("Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.")
	f.Add("Bearer eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
	f.Add("Bearer eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("Bearer ")
	valid := "Bearer " + signToken([]byte(tokenSeeds(fs.kid)[0][0]), []byte(tokenSeeds(fs.kid)[0][1]), fs.demo.Keys["microsoft"])
	f.Fuzz(func(t *testing.T, auth string) {
		if strings.ContainsAny(auth, "\r\n\x00") {
			return // not a header value net/http would deliver
		}
		a := fs.do(t, http.MethodPost, "/api/v1/entries", auth, []byte("{}"))
		if a.status == http.StatusUnauthorized {
			if a.slug() != "unauthorized" {
				t.Fatalf("401 of type %s", a.slug())
			}
			return
		}
		if !refSigned(auth, fs.demo.Keys["microsoft"].Public().(ed25519.PublicKey)) && auth != valid {
			t.Fatalf("Authorization %q accepted (%d): its signature is not microsoft's", auth, a.status)
		}
	})
}

// checkNoEcho wants the problem's detail free of the token's unverified
// kid and iss.
func checkNoEcho(t *testing.T, a fuzzAnswer, header, claims []byte) {
	var h, c map[string]any
	json.Unmarshal(header, &h)
	json.Unmarshal(claims, &c)
	for _, v := range []any{h["kid"], c["iss"]} {
		if s, ok := v.(string); ok && len(s) >= 6 && strings.Contains(a.p.Detail, s) {
			t.Fatalf("the detail %q echoes the unverified %q", a.p.Detail, s)
		}
	}
}

// refSigned reports whether auth is a bearer JWS compact token whose
// signature pub verifies (RFC 7515 §5.2, by hand).
func refSigned(auth string, pub ed25519.PublicKey) bool {
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	return err == nil && ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig)
}

// leeway is the server's clock leeway for exp, nbf and iat (web/auth.go).
const leeway = 30

// refToken is the reference: whether a token of header and claims,
// signed by microsoft's key kid, is valid by the package comment's rules
// (RFC 7515 and 7519: an alg of EdDSA, the key's kid, no crit; iss
// microsoft, aud the origin, iat and exp numbers, exp at most 5 minutes
// after iat, now within them and nbf, with 30 s of leeway). Member names
// are case-sensitive (RFC 7515 §4, RFC 7519 §4). sure is false within a
// second of a time bound, where rounding decides.
func refToken(header, claims []byte, kid string) (valid, sure bool) {
	if !refMembers(header, nil) || !refMembers(claims, []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "body_sha256"}) {
		return false, true
	}
	var h map[string]any
	if json.Unmarshal(header, &h) != nil || h == nil || h["alg"] != "EdDSA" || h["kid"] != kid {
		return false, true
	}
	if _, crit := h["crit"]; crit {
		return false, true
	}
	var c map[string]any
	if json.Unmarshal(claims, &c) != nil || c == nil || c["iss"] != "microsoft" {
		return false, true
	}
	for _, name := range []string{"sub", "jti", "body_sha256"} {
		if v, ok := c[name]; ok && v != nil {
			if _, str := v.(string); !str {
				return false, true
			}
		}
	}
	if !refAudience(c["aud"]) {
		return false, true
	}
	now := float64(fuzzNow.Unix())
	iat, ok1 := c["iat"].(float64)
	exp, ok2 := c["exp"].(float64)
	nbf, hasNBF := c["nbf"]
	nbfN, ok3 := nbf.(float64)
	if !ok1 || !ok2 || (hasNBF && nbf != nil && !ok3) {
		return false, true
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1 || math.Abs(a) > 1<<53 || math.Abs(b) > 1<<53 }
	if near(iat, now+leeway) || near(exp, now-leeway) || near(exp-iat, 300) || (ok3 && near(nbfN, now+leeway)) {
		return false, false
	}
	valid = iat <= now+leeway && exp > now-leeway && exp-iat <= 300 && (!ok3 || nbfN <= now+leeway)
	return valid, true
}

// refMembers reports whether b is an object whose member names are
// distinct, and none a case variant of one of names (RFC 7515 §4 lets a
// parser refuse duplicates; RFC 7519 names are case-sensitive).
func refMembers(b []byte, names []string) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, _ := dec.Token()
		name, _ := t.(string)
		if seen[name] || dec.Decode(new(json.RawMessage)) != nil {
			return false
		}
		seen[name] = true
		for _, n := range names {
			if strings.EqualFold(n, name) && n != name {
				return false
			}
		}
	}
	return true
}

// refAudience: aud is the origin, or an array of strings holding it.
func refAudience(aud any) bool {
	switch v := aud.(type) {
	case string:
		return v == testOrigin
	case []any:
		found := false
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return false
			}
			found = found || s == testOrigin
		}
		return found
	}
	return false
}

// FuzzBatch sends fuzzed bodies to POST /api/v1/entries/batch with a
// valid token, and wants the wrapper, {"entries": [1 to 64 envelopes]}
// with no other, duplicate or case-variant member, refused exactly when
// the reference, read from a JSON token stream, refuses it.
func FuzzBatch(f *testing.F) {
	fs := newFuzzServer(f)
	tok := "Bearer " + signToken([]byte(tokenSeeds(fs.kid)[0][0]), []byte(tokenSeeds(fs.kid)[0][1]), fs.demo.Keys["microsoft"])
	env := fs.demo.Entries[len(fs.demo.Entries)-1] // a logged leaf: its resubmission is a duplicate
	for _, s := range []string{`{"entries": [%s]}`, `{"entries": [%s, %s]}`, `{"entries": []}`, `{"entries": [%s], "x": 1}`,
		`{"Entries": [%s]}`, `{"entries": [%s], "entries": []}`, `{"entries": {}}`, `[%s]`, `{"entries": [%s]} {}`, `{"entries": [{}]}`, `null`} {
		f.Add([]byte(strings.ReplaceAll(s, "%s", string(env))))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a := fs.do(t, http.MethodPost, "/api/v1/entries/batch", tok, body)
		wrapper := a.status == http.StatusBadRequest && a.slug() == "bad-request" && a.p.Pointer == ""
		want := refBatch(body)
		if want == wrapper && a.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("body %q: %d %s %q; the reference finds the wrapper valid: %v", body, a.status, a.slug(), a.p.Detail, want)
		}
		if a.status >= 400 && !wrapper && !strings.HasPrefix(a.p.Pointer, "/entries/") && a.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("body %q: %d %s with pointer %q: an entry's error must point at it", body, a.status, a.slug(), a.p.Pointer)
		}
	})
}

// refBatch reports whether body is one JSON object with exactly the
// member "entries", an array of 1 to 64 values.
func refBatch(body []byte) bool {
	if !json.Valid(body) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, _ := dec.Token(); t != json.Delim('{') {
		return false
	}
	if t, _ := dec.Token(); t != "entries" {
		return false
	}
	if t, _ := dec.Token(); t != json.Delim('[') {
		return false
	}
	n := 0
	for dec.More() {
		if dec.Decode(new(json.RawMessage)) != nil {
			return false
		}
		n++
	}
	dec.Token() // ]
	t, err := dec.Token()
	_, more := dec.Token()
	return t == json.Delim('}') && err == nil && more == io.EOF && n >= 1 && n <= api.MaxBatch
}

// FuzzBackupRequest sends fuzzed bodies to POST /admin/backup with the
// admin token: a backup must be taken exactly when the body is
// {"dest": a clean absolute path without control characters}, and for
// that dest.
func FuzzBackupRequest(f *testing.F) {
	fs := newFuzzServer(f)
	for _, s := range []string{`{"dest": "/var/backups/pledgelog-1"}`, `{"dest": "relative"}`, `{"dest": "/a/../b"}`,
		`{"dest": "/a\nb"}`, `{"dest": "/a", "dest": "/b"}`, `{"Dest": "/a"}`, `{"dest": "/a"} x`, `{}`, `{"dest": 1}`,
		`{"dest": "/a/"}`, `{"dest": "/\u0085"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a := fs.do(t, http.MethodPost, "/admin/backup", "Bearer "+fs.admin, body)
		var dest string
		select {
		case dest = <-fs.backup:
		default:
		}
		want, wantDest := refBackup(body)
		switch {
		case (a.status == http.StatusOK) != want:
			t.Fatalf("body %q: %d %q; the reference says valid %v", body, a.status, a.p.Detail, want)
		case want && dest != wantDest:
			t.Fatalf("body %q: backed up to %q, want %q", body, dest, wantDest)
		case !want && dest != "":
			t.Fatalf("body %q refused, but backed up to %q", body, dest)
		case !want && a.status != http.StatusBadRequest && a.status != http.StatusRequestEntityTooLarge:
			t.Fatalf("body %q: %d, want 400", body, a.status)
		}
	})
}

// refBackup: one object with exactly the string member dest, a clean
// absolute path without control characters, and at most 4 KiB.
func refBackup(body []byte) (bool, string) {
	if len(body) > 4<<10 || !json.Valid(body) {
		return false, ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	t1, _ := dec.Token()
	t2, _ := dec.Token()
	t3, _ := dec.Token()
	t4, _ := dec.Token()
	_, end := dec.Token()
	dest, ok := t3.(string)
	if t1 != json.Delim('{') || t2 != "dest" || !ok || t4 != json.Delim('}') || end != io.EOF {
		return false, ""
	}
	if !strings.HasPrefix(dest, "/") || filepath.Clean(dest) != dest || strings.ContainsFunc(dest, unicode.IsControl) {
		return false, ""
	}
	return true, dest
}

// refNumber parses an index or size as the API documents it: decimal
// digits, 0 to 2^63-1.
func refNumber(s string) (uint64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n <= math.MaxInt64
}

// FuzzQueryNumbers sends fuzzed numbers as an entry index and as the
// parameters of the inclusion and consistency proofs, and wants each
// answer to agree with refNumber and the tree size: a bad number 400
// bad-parameter, a number beyond the tree 404, a proof within it 200.
func FuzzQueryNumbers(f *testing.F) {
	fs := newFuzzServer(f)
	for _, s := range [][2]string{{"0", "1"}, {"3", "10"}, {"-1", "2"}, {"+1", "2"}, {"01", "2"}, {"9223372036854775807", "9223372036854775808"},
		{"18446744073709551616", "1"}, {"1e3", "0x10"}, {" 1", "1 "}, {"", ""}, {"٣", "1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, x, y string) {
		n, okX := refNumber(x)
		m, okY := refNumber(y)
		a := fs.do(t, http.MethodGet, "/api/v1/entries/"+url.PathEscape(x), "", nil)
		checkNumberAnswer(t, a, x, okX, okX && n < fs.size, false)
		q := url.Values{"index": {x}, "size": {y}}.Encode()
		a = fs.do(t, http.MethodGet, "/api/v1/proof/inclusion?"+q, "", nil)
		// Proofs are served to the tree sizes of a checkpoint: the demo was
		// logged in one batch, so its size has one, and the empty tree.
		checkNumberAnswer(t, a, q, okX && okY, okX && okY && n < m && m == fs.size, false)
		q = url.Values{"from": {x}, "to": {y}}.Encode()
		a = fs.do(t, http.MethodGet, "/api/v1/proof/consistency?"+q, "", nil)
		checkNumberAnswer(t, a, q, okX && okY, okX && okY && n <= m && m == fs.size, okX && okY && n == 0 && m == 0)
	})
}

// checkNumberAnswer checks an answer to numbers: parses says whether
// they are numbers, within whether the answer must be 200, and empty
// whether it may be (the empty tree).
func checkNumberAnswer(t *testing.T, a fuzzAnswer, what string, parses, within, empty bool) {
	t.Helper()
	switch {
	case !parses && (a.status != http.StatusBadRequest || a.slug() != "bad-parameter") && a.status != http.StatusNotFound:
		t.Fatalf("%q: %d %s, want 400 bad-parameter", what, a.status, a.slug())
	case parses && a.slug() == "bad-parameter" && within:
		t.Fatalf("%q: %d %s %q, but the numbers are valid", what, a.status, a.slug(), a.p.Detail)
	case within && a.status != http.StatusOK:
		t.Fatalf("%q: %d %s %q, want 200", what, a.status, a.slug(), a.p.Detail)
	case !within && !empty && a.status == http.StatusOK:
		t.Fatalf("%q: 200, but it is not within the tree of size 56", what)
	}
}

// FuzzSearchQuery sends fuzzed query strings to the search and the
// signatories' list, and follows the cursor of a page: a page holds at
// most its limit of results, and its next cursor leads to a 200.
func FuzzSearchQuery(f *testing.F) {
	fs := newFuzzServer(f)
	for _, q := range []string{"signatory=microsoft", "accord=cybersecurity-tech-accord-2018&limit=2", "status=progress&limit=1",
		"accord=cybersecurity-tech-accord-2018&principle=p1", "principle=p1", "subject=" + strings.Repeat("ab", 32),
		"signatory=Microsoft", "signatory=microsoft&signatory=apple", "limit=0", "limit=501", "limit=01", "cursor=AA",
		"signatory=microsoft&cursor=%00", "x=1", "signatory=registrar", "limit=3&cursor=bWljcm9zb2Z0", ";", "%zz"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if !requestTarget("/?" + q) {
			return
		}
		for _, p := range []string{"/api/v1/search?", "/api/v1/signatories?", "/api/v1/accords?"} {
			a := fs.do(t, http.MethodGet, p+q, "", nil)
			if a.status >= 400 {
				// A search for an accord or principle the log does not
				// hold is 422 unknown-reference.
				unknown := p == "/api/v1/search?" && a.status == http.StatusUnprocessableEntity && a.slug() == "unknown-reference"
				if !unknown && (a.status != http.StatusBadRequest || a.slug() != "bad-parameter") {
					t.Fatalf("%s%s: %d %s, want 200, 400 bad-parameter or (search) 422 unknown-reference", p, q, a.status, a.slug())
				}
				continue
			}
			checkListPage(t, fs, p, q, a)
		}
	})
}

// checkListPage checks one 200 page of a list and follows its cursor once.
func checkListPage(t *testing.T, fs *fuzzServer, p, q string, a fuzzAnswer) {
	var page map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &page); err != nil {
		t.Fatalf("%s%s: 200 but %v", p, q, err)
	}
	limit := 50
	vals, _ := url.ParseQuery(q)
	if l, err := strconv.Atoi(vals.Get("limit")); err == nil {
		limit = l
	}
	for name, raw := range page {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) == nil && len(items) > limit {
			t.Fatalf("%s%s: %d %s, more than the limit %d", p, q, len(items), name, limit)
		}
	}
	var next string
	if json.Unmarshal(page["next"], &next) != nil || next == "" {
		return
	}
	vals.Set("cursor", next)
	if b := fs.do(t, http.MethodGet, p+vals.Encode(), "", nil); b.status != http.StatusOK {
		t.Fatalf("%s%s: its next cursor %q gets %d %s", p, q, next, b.status, b.p.Detail)
	}
}

// FuzzTilePath sends fuzzed tile paths, by GET and HEAD, and wants the
// answer to agree with x/mod's sumdb/tlog, an independent parser, and
// the tree size: a path it refuses is 400 bad-tile-path (but the forms
// the C2SP spec has and sumdb lacks), a tile of the tree 200, one beyond
// it 404.
func FuzzTilePath(f *testing.F) {
	fs := newFuzzServer(f)
	for _, p := range []string{"0/000", "0/000.p/56", "1/000.p/1", "entries/000.p/56", "0/x001/000", "0/000.p/0", "0/000.p/256",
		"0/001", "entries/000", "63/000.p/1", "64/000", "0/00", "0/0000", "-1/000", "data/000.p/1", "0/000.p/", "zzz"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		target := "/tile/" + p
		if !requestTarget(target) || strings.ContainsAny(p, "?%") {
			return
		}
		get := fs.do(t, http.MethodGet, target, "", nil)
		head := fs.do(t, http.MethodHead, target, "", nil)
		if head.status != get.status {
			t.Fatalf("%s: GET %d, HEAD %d", target, get.status, head.status)
		}
		ours, ourErr := verify.ParseTilePath("tile/" + p)
		// x/mod's paths have the tile height, 8, after tile/, and data for
		// entries.
		xp := "tile/8/" + p
		if rest, ok := strings.CutPrefix(p, "entries/"); ok {
			xp = "tile/8/data/" + rest
		}
		_, xErr := tlog.ParseTilePath(xp)
		switch {
		case ourErr != nil && (get.status != http.StatusBadRequest || get.slug() != "bad-tile-path") && get.status != http.StatusNotFound:
			t.Fatalf("%s: %d %s; ParseTilePath refuses it: %v", target, get.status, get.slug(), ourErr)
		case ourErr == nil && get.status == http.StatusBadRequest:
			t.Fatalf("%s: 400 %q, but ParseTilePath parses it", target, get.p.Detail)
		case xErr != nil && ourErr == nil && ours.N <= math.MaxInt64: // x/mod's N is an int64
			t.Fatalf("%s: ours parses it as %+v, x/mod refuses it: %v", target, ours, xErr)
		}
		if ourErr != nil {
			return
		}
		in, exact := tileInTree(ours, fs.size)
		switch {
		case get.status == http.StatusOK && !in:
			t.Fatalf("%s: 200 for a tile beyond the tree of size %d", target, fs.size)
		case get.status != http.StatusOK && exact:
			t.Fatalf("%s: %d %s for a tile of the tree", target, get.status, get.slug())
		}
	})
}

// tileInTree reports whether tile t is within a tree of size n, and
// whether it is exactly a tile of its current shape (full, or the partial
// tile at the tree's edge), which the server must serve.
func tileInTree(t verify.Tile, n uint64) (in, exact bool) {
	level := uint(max(t.Level, 0))
	if 8*level >= 64 {
		return false, false
	}
	have := n >> (8 * level)
	if t.N > have/verify.TileWidth {
		return false, false
	}
	end := t.N*verify.TileWidth + uint64(t.Width)
	return end <= have, end <= have && (t.Width == verify.TileWidth || end == have)
}

// requestTarget reports whether s can be sent as a request target.
func requestTarget(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	_, err := url.ParseRequestURI(s)
	return err == nil
}
