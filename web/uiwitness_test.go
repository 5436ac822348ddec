package web_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/verify"
)

const witnessName = "witness.example.com/w1"

// cosigned adds a cosignature by the witness of seed 7 to the checkpoint
// that h serves, at a fixed time; broken flips a bit of it.
func cosigned(h http.Handler, broken bool) http.Handler {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	w := verify.NewCosigner(witnessName, key, func() time.Time { return time.Unix(1679315147, 0) })
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/checkpoint" {
			h.ServeHTTP(rw, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		n, err := verify.ParseNote(rec.Body.Bytes())
		if err != nil {
			http.Error(rw, err.Error(), 500)
			return
		}
		sig, err := w.Sign(n.Text)
		if err != nil {
			http.Error(rw, err.Error(), 500)
			return
		}
		if broken {
			sig[len(sig)-1] ^= 1
		}
		line := "— " + witnessName + " " + base64.StdEncoding.EncodeToString(append(binary.BigEndian.AppendUint32(nil, w.KeyID()), sig...)) + "\n"
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Write(append(rec.Body.Bytes(), line...))
	})
}

// TestUIWitness checks cosignatures of a witness pinned with the URL
// fragment: a good one is shown with its time, a bad one is an alarm.
func TestUIWitness(t *testing.T) {
	logKey := verify.Ed25519VerifierKey(testOrigin, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)).Public().(ed25519.PublicKey))
	witness := verify.CosignatureVerifierKey(witnessName, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey))
	good := uiLog(t, 9, "ui", 172)
	for _, c := range []struct {
		name   string
		broken bool
		want   string
	}{
		{"good", false, "signed by the pinned key and cosigned by " + witnessName + " at 2023-03-20T12:25:47.000Z"},
		{"broken", true, "ALARM: the cosignature of " + witnessName + " does not verify"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := newTab(t)
			srv := newUIServer(t, cosigned(good, c.broken))
			tb.open(srv.URL + "/#vkey=" + url.PathEscape(logKey) + "&witness=" + url.PathEscape(witness))
			if got := tb.text("#trust-status"); !strings.Contains(got, c.want) {
				t.Errorf("trust status %q, want %q in it", got, c.want)
			}
			if got := tb.text("#trust-key"); !strings.Contains(got, "from the link you followed") {
				t.Errorf("trust key %q does not say the key came from the link", got)
			}
			tb.shoot("witness-" + c.name)
		})
	}
}
