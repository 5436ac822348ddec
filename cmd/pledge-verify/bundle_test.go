package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/verify"
)

func TestBundle(t *testing.T) {
	s := newServer(t, "bundle test")
	b := s.submit("microsoft", s.pledge("microsoft", 1))
	file := writeFile(t, "pledge.bundle.json", b)
	proof := filepath.Join(t.TempDir(), "pledge.tlog-proof")
	args := append([]string{"bundle", file, "--tlog-proof", proof}, s.trust()...)
	want(t, 0, []string{"verified:", "entry 172 included", "of microsoft", "non-revocation: not proven offline"}, args...)
	want(t, 0, []string{"entry 172 included", "signer: not proven"}, append([]string{"bundle", proof}, s.trust()...)...)
	out := want(t, 0, nil, append([]string{"bundle", file, "--json"}, s.trust()...)...)
	var v struct {
		Verified bool   `json:"verified"`
		Index    uint64 `json:"index"`
		Signer   string `json:"signer"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || !v.Verified || v.Index != 172 || v.Signer != "microsoft" {
		t.Errorf("bundle --json = %s (%v)", out, err)
	}
}

// TestBundleTampered changes each field of a bundle, and the keys pinned:
// each is rejected, naming what failed.
func TestBundleTampered(t *testing.T) {
	s := newServer(t, "bundle test")
	b := s.submit("microsoft", s.pledge("microsoft", 1))
	other := newServer(t, "another demo")
	for _, tc := range []struct {
		name   string
		tamper func(m map[string]any)
		args   []string
		code   int
		want   string
	}{
		{"media type", func(m map[string]any) { m["mediaType"] = "application/json" }, nil, 1, "media type"},
		{"index", func(m map[string]any) { entry(m)["index"] = 171 }, nil, 1, "entry"},
		{"leaf", func(m map[string]any) { entry(m)["leaf"] = flipB64(entry(m)["leaf"].(string), 40) }, nil, 1, "entry"},
		{"proof", func(m map[string]any) { hashAt(entry(m), 0) }, nil, 1, "entry: inclusion not proven"},
		{"checkpoint root", func(m map[string]any) { m["checkpoint"] = flipRoot(m["checkpoint"].(string)) }, nil, 1, "checkpoint"},
		{"checkpoint signature", func(m map[string]any) { m["checkpoint"] = flipSig(m["checkpoint"].(string)) }, nil, 1, "log signature not verified"},
		{"evidence index", func(m map[string]any) { ev(m)["index"] = 3 }, nil, 1, "evidence[0]"},
		{"evidence leaf", func(m map[string]any) { ev(m)["leaf"] = flipB64(ev(m)["leaf"].(string), 40) }, nil, 1, "evidence[0]"},
		{"evidence proof", func(m map[string]any) { hashAt(ev(m), 1) }, nil, 1, "evidence[0]: inclusion not proven"},
		{"no evidence", func(m map[string]any) { m["evidence"] = []any{} }, nil, 1, "signing key not proven"},
		{"wrong log key", nil, []string{"--log-key", other.vkeyOther(), "--registrar-key", s.registrarID()}, 1, "log signature"},
		{"wrong registrar", nil, []string{"--log-key", s.vkey(), "--registrar-key", other.registrarID()}, 1, "registrar"},
		{"witness quorum", nil, append(s.trust(), "--witness", witnessVKey, "--quorum", "1"), 1, "quorum"},
		{"no log key", nil, []string{"--registrar-key", s.registrarID()}, 2, "no log key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := b
			if tc.tamper != nil {
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				tc.tamper(m)
				data, _ = json.Marshal(m)
			}
			args := tc.args
			if args == nil {
				args = s.trust()
			}
			want(t, tc.code, []string{tc.want}, append([]string{"bundle", writeFile(t, "b.json", data)}, args...)...)
		})
	}
}

// witnessVKey is a cosigner key no checkpoint of the tests is cosigned by.
const witnessVKey = "witness.example.com/w1+261afb8b+BJDv2HnWEc4IFq3bpKSLT9dcie6/ToZYVGqODIfVebBC"

// vkeyOther is a log key of the same origin that did not sign.
func (s *testServer) vkeyOther() string {
	return verify.Ed25519VerifierKey(origin, ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))
}

func entry(m map[string]any) map[string]any { return m["entry"].(map[string]any) }
func ev(m map[string]any) map[string]any    { return m["evidence"].([]any)[0].(map[string]any) }

func hashAt(e map[string]any, i int) {
	p := e["proof"].([]any)
	p[i] = flipB64(p[i].(string), 3)
}

func flipB64(s string, i int) string {
	b, _ := base64.StdEncoding.DecodeString(s)
	b[i] ^= 1
	return base64.StdEncoding.EncodeToString(b)
}

// flipSig flips a bit of the log's signature, keeping it well-formed.
func flipSig(note string) string {
	i := strings.LastIndex(note, " ") + 1
	j := strings.LastIndex(note, "\n")
	return note[:i] + flipB64(note[i:j], 10) + note[j:]
}

func flipRoot(note string) string {
	lines := strings.SplitN(note, "\n", 4)
	lines[2] = flipB64(lines[2], 0)
	return strings.Join(lines, "\n")
}

func TestBundleRefreshAndAuditState(t *testing.T) {
	s := newServer(t, "bundle test")
	b := s.submit("microsoft", s.pledge("microsoft", 1))
	file, old := writeFile(t, "b.json", b), writeFile(t, "old.json", b)
	s.append(s.pledge("cisco", 0), s.pledge("microsoft", 2))
	want(t, 0, []string{"size 175"}, append([]string{"bundle", file, "--refresh", s.url}, s.trust()...)...)
	dir := t.TempDir()
	record := filepath.Join(dir, "record.json")
	want(t, 0, []string{"findings: 0"}, append([]string{"audit", "--url", s.url, "--state", dir, "--record", record}, s.trust()...)...)
	want(t, 0, []string{"no key of the chain revoked or void where it signed, as of audited size 175"},
		append([]string{"bundle", file, "--audit-state", record}, s.trust()...)...)
	want(t, 0, []string{"not proven offline (the audit record is of another tree size"},
		append([]string{"bundle", old, "--audit-state", record}, s.trust()...)...)
	want(t, 0, []string{"as of audited size 175"},
		append([]string{"bundle", old, "--audit-state", record, "--refresh", s.url}, s.trust()...)...)
}

// TestBundleCosigned adds a witness's cosignature to a bundle's checkpoint
// and verifies it under a quorum of one.
func TestBundleCosigned(t *testing.T) {
	s := newServer(t, "bundle test")
	var m map[string]any
	if err := json.Unmarshal(s.submit("microsoft", s.pledge("microsoft", 1)), &m); err != nil {
		t.Fatal(err)
	}
	wkey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))
	cosigner := verify.NewCosigner("witness.example.com/w2", wkey, func() time.Time { return time.Unix(1800000000, 0) })
	n, err := verify.ParseNote([]byte(m["checkpoint"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := verify.Sign(n.Text, cosigner)
	if err != nil {
		t.Fatal(err)
	}
	sigs, _ := verify.ParseNote(cosigned)
	n.Sigs = append(n.Sigs, sigs.Sigs...)
	m["checkpoint"] = string(n.Bytes())
	data, _ := json.Marshal(m)
	file := writeFile(t, "b.json", data)
	wvkey := verify.CosignatureVerifierKey("witness.example.com/w2", wkey.Public().(ed25519.PublicKey))
	want(t, 0, []string{"cosigned by witness witness.example.com/w2", "2027-01-15T08:00:00Z", "quorum met: 1 of 1 witnesses"},
		append([]string{"bundle", file, "--witness", wvkey, "--quorum", "1"}, s.trust()...)...)
	want(t, 1, []string{"quorum"}, append([]string{"bundle", file, "--witness", wvkey, "--witness", witnessVKey, "--quorum", "2"}, s.trust()...)...)
}
