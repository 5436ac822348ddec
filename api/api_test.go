package api_test

import (
	"encoding/json"
	"testing"

	"github.com/pledgelog/pledgelog/api"
)

// TestProblem checks that a problem as the server writes it decodes into
// api.Problem and reads as an error with its status, type name, detail
// and pointer.
func TestProblem(t *testing.T) {
	body := `{"type":"https://pledgelog.dev/problems/bad-signature","title":"Bad signature","status":422,` +
		`"detail":"signature 0 does not verify","pointer":"/entries/3/signatures/0/sig","code":"bad-signature"}`
	var p api.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	var err error = &p
	want := "422 bad-signature: signature 0 does not verify (at /entries/3/signatures/0/sig)"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if p.Code != "bad-signature" {
		t.Errorf("code %q", p.Code)
	}
}
