package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
)

// TestStatusOutput pins the bytes pledge status prints, as text and with
// --json, for a signatory detail as the server writes it (api's raw
// form): one key of the signatory's, a revoked one, a recovered key that
// is not its own, two latest pledges. The server is a loopback HTTP
// server answering that one body.
func TestStatusOutput(t *testing.T) {
	mine := keyOf(t, 1)
	gone := keyOf(t, 2)
	foreign := keyOf(t, 3)
	revoked := uint64(9)
	info := attest.SignatoryInfo{ID: "outco", Name: "Out Co", Website: "https://outco.example", Registered: 4, Seq: 3, Head: strings.Repeat("ab", 32),
		Keys: []attest.KeyInfo{
			{ID: mine.ID(), Type: mine.Type, SPKI: mine.SPKI, Owner: "outco", Added: 4, AddedBy: attest.RegistrarID},
			{ID: gone.ID(), Type: gone.Type, SPKI: gone.SPKI, Owner: "outco", Added: 7, AddedBy: mine.ID(), Revoked: &revoked, Reason: "superseded"},
			{ID: foreign.ID(), Type: foreign.Type, SPKI: foreign.SPKI, Owner: "outco", Added: 12, AddedBy: attest.RegistrarID},
		},
		Events: []attest.Event{{Index: 4, Action: attest.ActionRegister, KeyID: mine.ID()}, {Index: 7, Action: "add-key", KeyID: gone.ID()},
			{Index: 9, Action: "revoke-key", KeyID: gone.ID()}, {Index: 12, Action: attest.ActionRecover, KeyID: foreign.ID()}},
	}
	latest := []attest.LatestPledge{
		{Signatory: "outco", Accord: accord, Principle: "no-offense", Index: 15, Status: "committed"},
		{Signatory: "outco", Accord: accord, Principle: "stronger-defense", Index: 16, Status: "progress"},
	}
	rawInfo, _ := json.Marshal(info)
	detail := api.SignatoryDetail{Signatory: rawInfo, Recovered: []uint64{12}}
	for _, l := range latest {
		b, _ := json.Marshal(l)
		detail.Latest = append(detail.Latest, b)
	}
	body, _ := json.Marshal(detail)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/signatories/outco" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	known := t.TempDir()
	pem, _ := attest.MarshalPublicKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public())
	os.WriteFile(filepath.Join(known, "key.pub.pem"), pem, 0o644)

	wantText := "outco (Out Co), registered at index 4, 4 registry events\nkeys:\n" +
		"  " + mine.ID() + " ed25519 added at 4, valid, yours\n" +
		"  " + gone.ID() + " ed25519 added at 7, revoked at 9 (superseded), NOT YOURS\n" +
		"  " + foreign.ID() + " ed25519 added at 12, valid, NOT YOURS\n" +
		"latest pledges: 2\n" +
		"  " + accord + "/no-offense committed at index 15\n" +
		"  " + accord + "/stronger-defense progress at index 16\n" +
		"!!! ALARM: RECOVER at index 12 by the registrar added key " + foreign.ID() + ", which is not yours\n" +
		"!!! ALARM: UNKNOWN KEY " + foreign.ID() + " (added at index 12 by registrar) is valid and can sign for you\n"
	alarms := `[
    "RECOVER at index 12 by the registrar added key ` + foreign.ID() + `, which is not yours",
    "UNKNOWN KEY ` + foreign.ID() + ` (added at index 12 by registrar) is valid and can sign for you"
  ]`
	key := func(k attest.PublicKey, added uint64, by, rest string) string {
		spki, _ := json.Marshal(k.SPKI)
		return `
      {
        "keyid": "` + k.ID() + `",
        "type": "ed25519",
        "spki": ` + string(spki) + `,
        "owner": "outco",
        "added": ` + itoa(added) + `,
        "addedBy": "` + by + `"` + rest + `
      }`
	}
	event := func(i uint64, action string, k attest.PublicKey) string {
		return `
      {
        "index": ` + itoa(i) + `,
        "action": "` + action + `",
        "keyid": "` + k.ID() + `"
      }`
	}
	pledge := func(principle string, i uint64, status string) string {
		return `
    {
      "signatory": "outco",
      "accord": "` + accord + `",
      "principle": "` + principle + `",
      "index": ` + itoa(i) + `,
      "status": "` + status + `"
    }`
	}
	wantJSON := `{
  "signatory": {
    "id": "outco",
    "name": "Out Co",
    "website": "https://outco.example",
    "registered": 4,
    "seq": 3,
    "head": "` + info.Head + `",
    "keys": [` + key(mine, 4, "registrar", "") + "," + key(gone, 7, mine.ID(), `,
        "revoked": 9,
        "reason": "superseded"`) + "," + key(foreign, 12, "registrar", "") + `
    ],
    "events": [` + event(4, "register", mine) + "," + event(7, "add-key", gone) + "," + event(9, "revoke-key", gone) + "," + event(12, "recover", foreign) + `
    ]
  },
  "latest": [` + pledge("no-offense", 15, "committed") + "," + pledge("stronger-defense", 16, "progress") + `
  ],
  "alarms": ` + alarms + `
}
`
	for _, tc := range []struct {
		args []string
		want string
	}{{nil, wantText}, {[]string{"--json"}, wantJSON}} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"--url", srv.URL, "--id", "outco", "--known-keys", known}, tc.args...)
		err := runStatus(context.Background(), args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "2 alarm(s) for outco") {
			t.Errorf("status %q: err %v, want 2 alarms", tc.args, err)
		}
		if got := stdout.String(); got != tc.want {
			t.Errorf("status %q printed\n%s\nwant\n%s", tc.args, got, tc.want)
		}
	}
}

// keyOf is the public key of an Ed25519 key from a seed of bytes b.
func keyOf(t *testing.T, b byte) attest.PublicKey {
	t.Helper()
	pk, err := attest.NewPublicKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32)).Public())
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }
