package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// TestVerifyJSON: pledge verify --json and pledge-verify bundle --json
// print the proven values as fields (index, size, root, cosigners, and
// of the v2 bundle pledge submit saved the map root, the key and the
// accord the map proves), the same in both, besides the facts as
// sentences.
func TestVerifyJSON(t *testing.T) {
	e := newEnv(t)
	e.register("jsonco")
	e.must("pledge", "sign", "--signatory", "jsonco", "--accord", accord, "--principle", "no-offense",
		"--status", "committed", "--statement", "For the JSON test.")
	var sub struct{ Index uint64 }
	json.Unmarshal([]byte(e.must("pledge", "submit", "--json").stdout), &sub)
	info, err := client.New(logURL).Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got bundle.ResultJSON
	if err := json.Unmarshal([]byte(e.must("pledge", "verify", "--log-key", info.VerifierKey, "--json").stdout), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Verified || got.Index != sub.Index || got.Size <= got.Index || got.Root == "" || got.Signer != "jsonco" ||
		got.Cosigners == nil || len(got.Keys) != 0 || got.BundleVersion != 2 || got.MapRoot == "" || len(got.KeyID) != 64 ||
		got.KeyAdded >= got.Index || got.KeyRevoked != nil || got.Accord == nil || got.Accord.ID != accord || len(got.Facts) == 0 ||
		!strings.HasPrefix(got.Origin, "localhost/") || got.LogKey == "" || got.PredicateType == "" ||
		!strings.Contains(got.NonRevocation, "not revoked (map proof)") {
		t.Errorf("verify --json = %+v", got)
	}
	regID := strings.TrimSpace(e.must("pledgelog", "registrar", "key", "--id", "--data", dataDir).stdout)
	var pv bundle.ResultJSON
	out := e.must("pledge-verify", "bundle", "envelope.bundle.json", "--log-key", info.VerifierKey, "--registrar-key", regID, "--json").stdout
	if err := json.Unmarshal([]byte(out), &pv); err != nil || !reflect.DeepEqual(pv, got) {
		t.Errorf("pledge-verify bundle --json = %+v (%v),\nwant pledge verify's %+v", pv, err, got)
	}
}
