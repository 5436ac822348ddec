package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pledgelog/pledgelog/attest"
)

// Session token rules, as the package comment states them ("The session
// token is a JWT …").
const (
	maxTokenLifetime = 5 * time.Minute
	tokenLeeway      = 30 * time.Second
	maxTokenBytes    = 8 << 10
	maxCachedTokens  = 1 << 16
)

// claims are the claims of a session token.
type claims struct {
	jwt.RegisteredClaims
	// BodySHA256 binds a registrar token to one request body: the
	// lowercase hex SHA-256 of its exact bytes.
	BodySHA256 string `json:"body_sha256,omitempty"`
}

// session is an authenticated request's principal and key.
type session struct {
	issuer string // a signatory id or attest.RegistrarID
	keyID  string
	// single is a registrar token's claims, which bind it to one body and
	// one use: checked by bind once the body is read.
	single *claims
}

// cachedToken is a verified signatory token, valid until exp while its
// key is.
type cachedToken struct {
	session
	exp     time.Time
	version uint64 // of the registry when the key was last found valid
}

// authenticator verifies session tokens against the registry's keys.
type authenticator struct {
	reg    *attest.Registry
	origin string
	now    func() time.Time
	jti    UsedTokens

	mu    sync.Mutex
	cache map[[32]byte]cachedToken // guarded by mu
}

func unauthorized(detail string) error { return problemf(kindUnauthorized, detail) }

// authenticate checks the bearer token of r before its body is read, so
// that a request without a valid token costs no body buffering. Unknown
// issuers and keys fail before any signature work. A registrar token is
// not accepted until bind has checked it against the body.
func (a *authenticator) authenticate(r *http.Request) (*session, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" || len(token) > maxTokenBytes {
		return nil, unauthorized("a bearer session token is required")
	}
	sum := sha256.Sum256([]byte(token))
	if s, ok := a.cached(sum); ok {
		return s, nil
	}
	s, c, key, err := a.lookup(token)
	if err != nil {
		return nil, err
	}
	if err := a.verify(token, s, key); err != nil {
		return nil, err
	}
	if s.issuer == attest.RegistrarID {
		s.single = c
		return s, nil
	}
	a.remember(sum, cachedToken{session: *s, exp: c.ExpiresAt.Time, version: a.reg.Version()})
	return s, nil
}

// bind completes the authentication of a request whose body is body: a
// registrar token must be bound to it and unused.
func (a *authenticator) bind(s *session, body []byte) error {
	if s.single == nil {
		return nil
	}
	return a.once(s.single, body)
}

// lookup parses token without verifying it, to find its issuer and key.
func (a *authenticator) lookup(token string) (*session, *claims, attest.KeyInfo, error) {
	c := new(claims)
	t, _, err := jwt.NewParser().ParseUnverified(token, c)
	if err != nil {
		return nil, nil, attest.KeyInfo{}, unauthorized("the session token is not a JWT")
	}
	if err := strictJOSE(token); err != nil {
		return nil, nil, attest.KeyInfo{}, err
	}
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515, section 4.1.11: a recipient must reject a token
		// whose crit names extensions it does not understand, and this
		// server understands none.
		return nil, nil, attest.KeyInfo{}, unauthorized("the session token has a crit header: no extension is supported")
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" || c.Issuer == "" {
		return nil, nil, attest.KeyInfo{}, unauthorized("the session token needs a kid header and an iss claim")
	}
	key, err := a.reg.Key(c.Issuer, kid)
	switch {
	case err != nil:
		// The kid and iss are not verified yet: never echoed.
		return nil, nil, key, unauthorized("the token's kid names no key registered for its issuer")
	case !key.Valid():
		return nil, nil, key, unauthorized("the token's key is revoked")
	}
	return &session{issuer: c.Issuer, keyID: kid}, c, key, nil
}

// registeredClaims are the claims this server reads, with whether each
// is a NumericDate.
var registeredClaims = map[string]bool{"iss": false, "sub": false, "aud": false, "jti": false,
	"body_sha256": false, "exp": true, "iat": true, "nbf": true}

// strictJOSE checks the JSON of token's header and claims (which
// ParseUnverified has decoded, so both are objects): member names
// distinct in each (RFC 7515 §4 lets a parser reject duplicates), no
// case variant of a claim this server reads (encoding/json would match
// "ISS" to iss: RFC 7519 names are case-sensitive), and exp, iat and nbf
// JSON numbers (RFC 7519 §2; encoding/json also takes "123" for one).
func strictJOSE(token string) error {
	parts := strings.Split(token, ".")
	for i, part := range parts[:2] {
		b, err := jwt.NewParser().DecodeSegment(part)
		if err != nil || !strictObject(b, i == 1) {
			return unauthorized("the session token's header and claims need distinct members, " +
				"claim names exactly as RFC 7519 spells them, and exp, iat and nbf as numbers")
		}
	}
	return nil
}

// strictObject checks the members of the JSON object b; claims says
// whether b is a token's claims.
func strictObject(b []byte, claims bool) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		name, _ := t.(string)
		if err != nil || seen[name] {
			return false
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return false
		}
		if !claims {
			continue
		}
		for known, date := range registeredClaims {
			if strings.EqualFold(name, known) && (name != known || date && !isNumber(v)) {
				return false
			}
		}
	}
	return true
}

// isNumber reports whether v is a JSON number (or null, which leaves
// the claim out).
func isNumber(v json.RawMessage) bool {
	return len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9' || string(v) == "null")
}

// method is the one JWT algorithm a key of type t may sign with.
func method(t attest.KeyType) string {
	if t == attest.ECDSAP256 {
		return jwt.SigningMethodES256.Alg()
	}
	return jwt.SigningMethodEdDSA.Alg()
}

// verify checks token's signature with the registered key only (never a
// jwk, jku or x5u header), its algorithm, audience, issuer and lifetime.
func (a *authenticator) verify(token string, s *session, key attest.KeyInfo) error {
	p := jwt.NewParser(jwt.WithValidMethods([]string{method(key.Type)}), jwt.WithAudience(a.origin),
		jwt.WithIssuer(s.issuer), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(tokenLeeway), jwt.WithTimeFunc(a.now))
	c := new(claims)
	_, err := p.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return key.Public, nil })
	if err != nil {
		return unauthorized("invalid session token: " + reason(err))
	}
	if c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > maxTokenLifetime {
		return unauthorized("the session token needs iat, and exp at most 5 minutes after it")
	}
	return nil
}

// reason names why jwt rejected a token, without echoing the token.
func reason(err error) string {
	for _, e := range []error{jwt.ErrTokenExpired, jwt.ErrTokenInvalidAudience, jwt.ErrTokenInvalidIssuer,
		jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenNotValidYet, jwt.ErrTokenRequiredClaimMissing,
		jwt.ErrTokenSignatureInvalid, jwt.ErrTokenUnverifiable, jwt.ErrTokenMalformed} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "rejected"
}

// once enforces the registrar token rules: bound to this body, and used
// once.
func (a *authenticator) once(c *claims, body []byte) error {
	sum := sha256.Sum256(body)
	if c.BodySHA256 != hex.EncodeToString(sum[:]) {
		return unauthorized("a registrar token needs a body_sha256 claim matching the body")
	}
	switch {
	case c.ID == "":
		return unauthorized("a registrar token needs a jti claim")
	case len(c.ID) > maxJTI:
		return unauthorized("a registrar token's jti is at most 128 bytes")
	case strings.ContainsAny(c.ID, " \t\r\n"):
		return unauthorized("a registrar token's jti must not contain white space")
	}
	fresh, err := a.jti.Use(c.ID, c.ExpiresAt.Add(tokenLeeway))
	if err != nil {
		return err
	}
	if !fresh {
		return unauthorized("this registrar token was already used")
	}
	return nil
}
