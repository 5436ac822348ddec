package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccordFiles: pledgelog accord add takes the example accord of
// docs/examples/accord.json (its "_comment" is not logged), whose
// principles then take pledges, and the repository's accord data file
// attest/tech-accord-2018.json ("_source", "summary", "signatories"): the
// demo log holds that accord already, so the log answers 409 exists for
// its id, not the CLI a refusal of the file.
func TestAccordFiles(t *testing.T) {
	e := newEnv(t)
	e.register("accordco")
	example, _ := filepath.Abs("../../docs/examples/accord.json")
	r := e.must("pledgelog", "accord", "add", "--file", example, "--registrar-key", registrarKey(), "--json")
	var out struct {
		Accord     string
		Principles []string
		Index      uint64
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Accord != "example-open-source-accord-2026" ||
		strings.Join(out.Principles, " ") != "security-policy timely-answers signed-releases" || out.Index == 0 {
		t.Errorf("accord add --json of the example printed %q (%v)", r.stdout, err)
	}
	e.must("pledge", "sign", "--signatory", "accordco", "--accord", "example-open-source-accord-2026",
		"--principle", "timely-answers", "--status", "committed", "--statement", "We answer within 14 days.")
	e.must("pledge", "submit")
	repo, _ := filepath.Abs("../../attest/tech-accord-2018.json")
	r = e.run("pledgelog", "accord", "add", "--file", repo, "--registrar-key", registrarKey())
	if r.code != 2 || strings.Contains(r.stderr, "unknown field") || !strings.Contains(r.stderr, "409 exists (at /payload/predicate/id)") {
		t.Errorf("accord add of %s = %d: %s%s", repo, r.code, r.stdout, r.stderr)
	}
}
