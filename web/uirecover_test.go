package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

// TestUIRecover shows a signatory whose key was compromised and recovered
// by the registrar, then withdrew a pledge: the page flags the recover,
// the revoked key and the void pledges.
func TestUIRecover(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	recovered := recoverMicrosoft(t, h)

	tb := newTab(t)
	srv := newUIServer(t, h.srv.Config.Handler)
	tb.open(srv.URL + "/signatories/microsoft")
	body := tb.text("main")
	for _, w := range []string{"Keys added by the registrar (recover)", "entry #" + strconv.FormatUint(recovered, 10),
		"revoked at #172 (compromised); its signatures from #125 on are void", "void", "withdrawn", "registry event recover", "registrar (recover)"} {
		if !strings.Contains(body, w) {
			t.Errorf("signatory page does not show %q", w)
		}
	}
	tb.shoot("signatory-recovered")
	tb.open(srv.URL + "/entries/" + strconv.FormatUint(recovered, 10))
	if got := tb.text("#proof-result"); !strings.HasPrefix(got, "Proven:") {
		t.Errorf("recover entry: proof result %q", got)
	}
	if got := tb.text("main"); !strings.Contains(got, "a key added by the registrar, not by the signatory") {
		t.Errorf("recover entry is not flagged")
	}
	tb.open(srv.URL + "/accords/" + accordID)
	if got := tb.text("table.matrix"); !strings.Contains(got, "withdrawn") {
		t.Errorf("matrix does not show the withdrawal")
	}
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// recoverMicrosoft revokes the demo key of microsoft as compromised (its
// signatures void from #125), has the registrar recover it with a new
// key, and withdraws a pledge with that key. It returns the index of the
// recover.
func recoverMicrosoft(t *testing.T, h *demoHarness) uint64 {
	t.Helper()
	ctx := context.Background()
	old := h.demo.Keys["microsoft"]
	voidFrom := uint64(125)
	newKey := newKey(t)
	a, _ := h.reg.Accord(accordID)
	var recovered uint64
	for i, leaf := range []func() []byte{ // signed in turn: each event names the chain's head
		func() []byte {
			return h.event(&attest.SignatoryEvent{Action: attest.ActionRevoke, Signatory: "microsoft", KeyID: keyID(t, old),
				Reason: attest.ReasonCompromised, VoidFrom: &voidFrom}, h.demo.Registrar)
		},
		func() []byte {
			return h.event(&attest.SignatoryEvent{Action: attest.ActionRecover, Signatory: "microsoft", Key: publicKey(t, newKey)},
				h.demo.Registrar, newKey)
		},
		func() []byte {
			return h.sign(attest.NewPledgeStatement(&attest.Pledge{Origin: testOrigin, Signatory: "microsoft", Accord: accordID,
				Principle: "no-offense", Status: attest.StatusWithdrawn, Statement: "Demo data: a withdrawal for the test.",
				Effective: "2026-01-02"}, a.Digest), newKey)
		},
	} {
		res, err := h.log.Append(ctx, leaf())
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if i == 1 {
			recovered = res.Index
		}
	}
	waitPublished(t, h.log, 175)

	return recovered
}
