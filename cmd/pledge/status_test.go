package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify/lookup"
)

// TestStatusOutput pins the bytes pledge status prints, as text and with
// --json, for a signatory detail as the server writes it (api's raw
// form): one key of the signatory's, a revoked one, a recovered key that
// is not its own, two latest pledges; and what it proved by map proofs.
// The proofs against a real log are TestStatusProven's.
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
	var sd client.SignatoryDetail
	if b, _ := json.Marshal(detail); json.Unmarshal(b, &sd) != nil {
		t.Fatal("decoding the detail")
	}
	yours := map[string]bool{mine.ID(): true}
	four, nine, seq, nkeys := uint64(4), uint64(9), uint64(3), uint32(3)
	prov := &proven{Size: 20, MapRoot: "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=", LogKey: "example.org/log+01234567+AAAA",
		Principal: lookup.JSON{Kind: "principal", Signatory: "outco", Present: true, Size: 20, Registered: &four, Seq: &seq, Head: info.Head, Keys: &nkeys},
		Keys:      []lookup.JSON{{Kind: "key", Signatory: "outco", KeyID: gone.ID(), Present: true, Size: 20, Added: &four, Revoked: &nine, VoidFrom: &nine}},
		Cells: []lookup.JSON{{Kind: "cell", Signatory: "outco", Accord: accord, Principle: "no-offense", Present: true, Size: 20, Index: &nine, Status: "committed"},
			{Kind: "cell", Signatory: "outco", Accord: accord, Principle: "capacity-building", Size: 20}}}

	wantText := "outco (Out Co), registered at index 4, 4 registry events\nkeys:\n" +
		"  " + mine.ID() + " ed25519 added at 4, valid, yours\n" +
		"  " + gone.ID() + " ed25519 added at 7, revoked at 9 (superseded), NOT YOURS\n" +
		"  " + foreign.ID() + " ed25519 added at 12, valid, NOT YOURS\n" +
		"latest pledges: 2\n" +
		"  " + accord + "/no-offense committed at index 15\n" +
		"  " + accord + "/stronger-defense progress at index 16\n" +
		"proven by map proofs against checkpoint 20 (map root " + prov.MapRoot + "), signed by the pinned log key:\n" +
		"  signatory: registered at index 4, seq 3, head " + info.Head + ", 3 key(s)\n" +
		"  key " + gone.ID() + ": added at index 4, revoked since 9, its signatures void from index 9\n" +
		"  " + accord + "/no-offense: committed at index 9\n" +
		"  " + accord + "/capacity-building: no pledge\n" +
		"!!! ALARM: RECOVER at index 12 by the registrar added key " + foreign.ID() + ", which is not yours\n" +
		"!!! ALARM: UNKNOWN KEY " + foreign.ID() + " (added at index 12 by registrar) is valid and can sign for you\n"
	wantAlarms := `[
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
  "proven": {
    "size": 20,
    "map_root": "` + prov.MapRoot + `",
    "logKey": "example.org/log+01234567+AAAA",
    "principal": {
      "kind": "principal",
      "signatory": "outco",
      "present": true,
      "size": 20,
      "map_root": "",
      "label": "",
      "registered": 4,
      "seq": 3,
      "head": "` + info.Head + `",
      "keys": 3
    },
    "keys": [
      {
        "kind": "key",
        "signatory": "outco",
        "keyid": "` + gone.ID() + `",
        "present": true,
        "size": 20,
        "map_root": "",
        "label": "",
        "added": 4,
        "revoked": 9,
        "voidFrom": 9
      }
    ],
    "cells": [
      {
        "kind": "cell",
        "signatory": "outco",
        "accord": "` + accord + `",
        "principle": "no-offense",
        "present": true,
        "size": 20,
        "map_root": "",
        "label": "",
        "index": 9,
        "status": "committed"
      },
      {
        "kind": "cell",
        "signatory": "outco",
        "accord": "` + accord + `",
        "principle": "capacity-building",
        "present": false,
        "size": 20,
        "map_root": "",
        "label": ""
      }
    ]
  },
  "alarms": ` + wantAlarms + `
}
`
	r := &statusReport{Signatory: sd.Signatory, Latest: sd.Latest, Proven: prov, Alarms: alarms(&sd, yours)}
	if len(r.Alarms) != 2 {
		t.Errorf("alarms %q, want 2", r.Alarms)
	}
	for _, tc := range []struct {
		json bool
		want string
	}{{false, wantText}, {true, wantJSON}} {
		var stdout bytes.Buffer
		c := common{json: tc.json}
		if err := c.print(&stdout, r, r.text(yours)); err != nil {
			t.Fatal(err)
		}
		if got := stdout.String(); got != tc.want {
			t.Errorf("status (--json %v) printed\n%s\nwant\n%s", tc.json, got, tc.want)
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
