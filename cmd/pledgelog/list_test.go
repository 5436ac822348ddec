package main

import (
	"strings"
	"testing"
)

// TestSignatoryListEmpty: signatory list on a log without signatories
// says so (it printed nothing), and --json prints an empty array.
func TestSignatoryListEmpty(t *testing.T) {
	d, _ := mustInit(t)
	s := startServe(t, d)
	defer s.stop(t)
	code, stdout, stderr := pledgelog(t, nil, "signatory", "list", "--url", s.url)
	if code != 0 || !strings.Contains(stdout, "no signatories yet") {
		t.Errorf("signatory list on an empty log = %d, %q: %s", code, stdout, stderr)
	}
	code, stdout, stderr = pledgelog(t, nil, "signatory", "list", "--url", s.url, "--json")
	if code != 0 || stdout != "[]\n" {
		t.Errorf("signatory list --json on an empty log = %d, %q: %s", code, stdout, stderr)
	}
}
