package attest_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

// TestDetailsInOurWords: a FieldError's detail, which the server shows
// to clients, never holds encoding/json's messages (before jsonDetail it
// said "invalid character 'o' in literal null (expecting 'u')", "unexpected
// EOF" or "json: cannot unmarshal number into Go struct field
// Pledge.status of type string").
func TestDetailsInOurWords(t *testing.T) {
	env := func(statement string) string {
		return `{"payload":"` + base64.StdEncoding.EncodeToString([]byte(statement)) +
			`","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"` + strings.Repeat("a", 64) + `","sig":"AA=="}]}`
	}
	pledge := `{"_type":"https://in-toto.io/Statement/v1","predicate":{"status":5},"predicateType":"https://pledgelog.dev/pledge/v1","subject":[]}`
	for _, tc := range []struct{ name, in, code, detail string }{
		{"truncated", `{"payload":"e30=","sig`, "invalid-json", "truncated JSON"},
		{"NUL", "\x00", "invalid-json", "not valid JSON at byte 1"},
		{"not JSON payload", env("not json"), "invalid-json", "not valid JSON at byte 2"},
		{"wrong type", env(pledge), "wrong-type", "want a string, not a JSON number"},
	} {
		_, _, err := attest.Canonicalize([]byte(tc.in))
		var fe *attest.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: Canonicalize = %v, want a FieldError", tc.name, err)
		}
		if fe.Code != tc.code || fe.Detail != tc.detail {
			t.Errorf("%s: code %q, detail %q; want %q, %q", tc.name, fe.Code, fe.Detail, tc.code, tc.detail)
		}
		for _, bad := range []string{"json:", "invalid character", "unexpected EOF", "Go ", "struct"} {
			if strings.Contains(fe.Detail, bad) {
				t.Errorf("%s: detail %q holds %q", tc.name, fe.Detail, bad)
			}
		}
	}
}
