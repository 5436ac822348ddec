package web_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pledgelog/pledgelog/log/cosign"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
	"github.com/pledgelog/pledgelog/verify/witness"
	"github.com/pledgelog/pledgelog/web"
)

// witnessedUI is a demo log whose checkpoints real witnesses cosign
// (verify/witness, the code of pledge-verify witness serve, each on its
// own loopback server) through the log's own collector (log/cosign, as
// pledgelog serve --policy runs it): three Ed25519 witnesses and an
// ML-DSA-44 one, a quorum of two of the four.
type witnessedUI struct {
	log     *pinLog
	servers []*httptest.Server
	names   []string // the witnesses' key names
	handler http.Handler
	// up says which witnesses are up: the collector publishes a
	// checkpoint once all of those cosigned it (and the policy's quorum
	// is met), so that what the page is served does not depend on which
	// witness answered first.
	up atomic.Pointer[[]bool]
}

func newWitnessedUI(t *testing.T) *witnessedUI {
	t.Helper()
	wu := &witnessedUI{log: newPinLog(t, testOrigin, "ui")}
	wu.log.witnessed = true
	logPolicy, err := policy.Parse([]byte("log " + seedVKey(testOrigin, 9) + "\nquorum none\n"))
	if err != nil {
		t.Fatal(err)
	}
	text := "log " + seedVKey(testOrigin, 9) + "\n"
	var vkeys []string
	var cws []cosign.Witness
	for i, typ := range []byte{verify.TypeCosignature, verify.TypeCosignature, verify.TypeCosignature, verify.TypeMLDSACosignature} {
		k, err := witness.GenerateKey(fmt.Sprintf("witness.example/w%d", i+1), typ)
		if err != nil {
			t.Fatal(err)
		}
		w, err := witness.New(witness.Config{Key: k, Policy: logPolicy, StateDir: t.TempDir(), Rate: 10000, Burst: 10000})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(w)
		t.Cleanup(srv.Close)
		wu.servers, wu.names, vkeys = append(wu.servers, srv), append(wu.names, k.Name()), append(vkeys, k.VerifierKey())
		text += fmt.Sprintf("witness w%d %s %s\n", i+1, k.VerifierKey(), srv.URL)
	}
	text += "group two 2 w1 w2 w3 w4\nquorum two\n"
	pol, err := policy.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range pol.Witnesses() {
		cws = append(cws, cosign.Witness{Name: w.Name, Key: w.Key, URL: wu.servers[i].URL})
	}
	wu.handler = wu.log.open(func(c *web.Config) {
		c.Policy, c.Witnesses, c.WitnessQuorum = []byte(text), vkeys, 2
	}, 9)
	wu.setUp(true, true, true, true)
	met := func(cosigned []bool) bool {
		for i, up := range *wu.up.Load() {
			if up && !cosigned[i] {
				return false
			}
		}
		return pol.Met(cosigned)
	}
	c, err := cosign.New(cosign.Config{Log: wu.log.log, Witnesses: cws, Met: met, Interval: 20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return wu
}

func (wu *witnessedUI) setUp(up ...bool) { wu.up.Store(&up) }

// cosignatureTimes returns the times of the cosignatures on h's
// /checkpoint, by key name, as the page prints them.
func cosignatureTimes(t *testing.T, h http.Handler) map[string]string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/checkpoint", nil))
	n, err := verify.ParseNote(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range n.Sigs {
		if s.Name != testOrigin {
			out[s.Name] = time.Unix(int64(binary.BigEndian.Uint64(s.Sig)), 0).UTC().Format("2006-01-02T15:04:05.000Z")
		}
	}
	return out
}

// rewriteCheckpoint serves h, with change applied to the signatures of
// the note /checkpoint answers.
func rewriteCheckpoint(t *testing.T, h http.Handler, change func(sigs []verify.Signature) []verify.Signature) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/checkpoint" {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		n, err := verify.ParseNote(rec.Body.Bytes())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		n.Sigs = change(n.Sigs)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(n.Bytes())
	})
}

// TestUIWitnessed checks the witness set a page pins from the server on
// a first visit, against a log that real witnesses cosign: every pinned
// witness is listed with the time of its cosignature; a pinned witness
// that is down (its cosignature missing, the quorum still met) is a
// warning that names it; a cosignature that does not verify (its time
// made fresher) is an alarm, and so is a quorum the served checkpoint no
// longer meets; the ML-DSA-44 witness's cosignature is shown as there
// but not verifiable in the page.
func TestUIWitnessed(t *testing.T) {
	wu := newWitnessedUI(t)
	wu.log.grow(80)
	srv := newAddrServer(t, wu.handler)
	tb := newReader(t)
	tb.open(srv.URL + "/")
	times := cosignatureTimes(t, wu.handler)
	w1, w2, w3, w4 := wu.names[0], wu.names[1], wu.names[2], wu.names[3]
	tb.status("ok", "Verified: the log's checkpoint of size 80 is signed by the pinned key and cosigned by "+
		w1+" at "+times[w1]+", "+w2+" at "+times[w2]+", "+w3+" at "+times[w3]+".",
		"The ML-DSA-44 cosignature of "+w4+" is there but this page cannot verify ML-DSA-44")
	if got := tb.text("#trust-key"); !strings.Contains(got, "Pinned witnesses (quorum 2 of 4, from this server, on your first visit): "+strings.Join(wu.names, ", ")) {
		t.Errorf("trust key %q does not show the pinned witnesses", got)
	}
	tb.witnesses(w1+": cosigned at "+times[w1]+", verified", w2+": cosigned at "+times[w2]+", verified",
		w3+": cosigned at "+times[w3]+", verified", w4+": ML-DSA-44 cosignature dated "+times[w4]+", not verifiable in this page")
	tb.shoot("witnessed")

	// w3 is down: the collector publishes what w1, w2 and w4 cosigned.
	wu.setUp(true, true, false, true)
	wu.servers[2].CloseClientConnections()
	wu.servers[2].Close()
	wu.log.grow(120)
	tb.open(srv.URL + "/")
	times = cosignatureTimes(t, wu.handler)
	tb.status("warn", "Verified: the log's checkpoint of size 120 is signed by the pinned key and cosigned by "+w1+" at "+times[w1]+", "+w2+" at "+times[w2]+".",
		"WARNING: the pinned witness "+w3+" did not cosign this checkpoint; the quorum of 2 holds without it.",
		"Consistent with the tree of size 80")
	tb.witnesses(w1+": cosigned at "+times[w1]+", verified", w2+": cosigned at "+times[w2]+", verified",
		w3+": MISSING, no cosignature on this checkpoint", w4+": ML-DSA-44 cosignature dated "+times[w4]+", not verifiable in this page")
	tb.shoot("witnessed-missing")

	// The server makes w1's cosignature look an hour fresher.
	srv.restart(rewriteCheckpoint(t, wu.handler, func(sigs []verify.Signature) []verify.Signature {
		for i, s := range sigs {
			if s.Name == w1 {
				sig := append([]byte(nil), s.Sig...)
				binary.BigEndian.PutUint64(sig, binary.BigEndian.Uint64(sig)+3600)
				sigs[i].Sig = sig
			}
		}
		return sigs
	}))
	tb.open(srv.URL + "/")
	tb.status("alarm", "ALARM: the cosignature of "+w1+" does not verify.",
		"WARNING: only 1 of the 4 pinned witnesses cosigned this checkpoint verifiably, fewer than the pinned quorum of 2 (missing: "+w3+"), unless the ML-DSA-44 ones count.")
	tb.witnesses(w1+": BAD, its cosignature does not verify", w2+": cosigned at "+times[w2]+", verified",
		w3+": MISSING, no cosignature on this checkpoint", w4+": ML-DSA-44 cosignature dated "+times[w4]+", not verifiable in this page")
	tb.shoot("witnessed-bad")

	// The server strips w2's cosignature too: the quorum fails.
	srv.restart(rewriteCheckpoint(t, wu.handler, func(sigs []verify.Signature) []verify.Signature {
		var out []verify.Signature
		for _, s := range sigs {
			if s.Name != w1 && s.Name != w2 {
				out = append(out, s)
			}
		}
		return out
	}))
	tb.open(srv.URL + "/")
	tb.status("alarm", "ALARM: only 0 of the 4 pinned witnesses cosigned this checkpoint verifiably, fewer than the pinned quorum of 2 (missing: "+w1+", "+w2+", "+w3+").")
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

var spaces = regexp.MustCompile(`\s+`)

// witnesses checks the list of pinned witnesses, #trust-witnesses.
func (tb *tab) witnesses(want ...string) {
	tb.t.Helper()
	var got []string
	for _, li := range strings.Split(tb.innerText("#trust-witnesses"), "\n") {
		if li = strings.TrimSpace(spaces.ReplaceAllString(li, " ")); li != "" {
			got = append(got, li)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		tb.t.Errorf("pinned witnesses shown:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// innerText returns the rendered text of sel, a line per list item.
func (tb *tab) innerText(sel string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`)?.innerText ?? ''`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}
