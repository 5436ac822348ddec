package audit_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/audit"
)

func run(t *testing.T, tl *testLog, f *fetcher, cfg audit.Config) (*audit.Report, error) {
	t.Helper()
	cfg.Fetcher, cfg.Open = f, tl.open
	if cfg.Checkpoint == nil {
		cfg.Checkpoint = tl.checkpoint()
	}
	return audit.Run(context.Background(), cfg)
}

func TestAuditDemo(t *testing.T) {
	tl := newTestLog(t, true, "audit test")
	r, err := run(t, tl, &fetcher{log: tl.log}, audit.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 0 || r.Tree.Size != 172 || r.Signatures != 172+34 {
		t.Errorf("audit of the demo: %d findings %v, size %d, %d signatures; want none, 172, 206", r.Total, r.Findings, r.Tree.Size, r.Signatures)
	}
	latest := r.Registry.Latest("")
	if len(latest) != 34*4 {
		t.Fatalf("rebuilt matrix has %d cells, want %d", len(latest), 34*4)
	}
	for _, c := range latest {
		if c.Status != attest.StatusCommitted || tl.demo.Keys[c.Signatory] == nil {
			t.Errorf("cell %+v: want a committed pledge of a demo signatory", c)
		}
	}
}

// TestAuditMapRoot: the audit rebuilds the registry map and checks the
// root each checkpoint of an attestation log commits to; a log that signs
// the root of another registry state (here: its server's map corrupted to
// a root its entries do not build) fails the audit with ErrMapRoot, as
// does one whose map line is malformed.
func TestAuditMapRoot(t *testing.T) {
	tl := newTestLog(t, true, "audit map")
	r, err := run(t, tl, &fetcher{log: tl.log}, audit.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := attest.MapRoot(context.Background(), tl.reg.MapLeaves())
	if err != nil {
		t.Fatal(err)
	}
	if !r.MapCommitted || r.MapRoot != want {
		t.Fatalf("audit of the demo: map committed %v, root %x; want committed, %x", r.MapCommitted, r.MapRoot, want)
	}

	for _, line := range []string{
		attest.MapExtension(sha256.Sum256([]byte("a registry the entries do not build"))),
		attest.MapExtensionPrefix + "not base64",
	} {
		liar := newTestLog(t, false, "audit map", func(c *log.Config) {
			c.Extensions = func(context.Context, uint64) ([]string, error) { return []string{line}, nil }
		})
		if _, err := run(t, liar, &fetcher{log: liar.log}, audit.Config{}); !errors.Is(err, audit.ErrMapRoot) {
			t.Errorf("audit of a log committing to %q = %v, want ErrMapRoot", line, err)
		}
	}

	// A log that commits to no map (one signed before the log did) is
	// audited, and the report says it committed to none.
	plain := newTestLog(t, false, "audit map")
	if r, err := run(t, plain, &fetcher{log: plain.log}, audit.Config{}); err != nil || r.MapCommitted || r.MapRoot != want {
		t.Errorf("audit of a log without map lines = committed %v, root %x, %v; want not committed, %x", r.MapCommitted, r.MapRoot, err, want)
	}
}

// TestAuditFindings logs, without the registry's hooks, entries the
// server would have refused, and checks that the audit names each, with
// either Ed25519 verifier.
func TestAuditFindings(t *testing.T) {
	for _, stdlib := range []bool{false, true} {
		t.Run(fmt.Sprintf("stdlib=%v", stdlib), func(t *testing.T) { testAuditFindings(t, stdlib) })
	}
}

func testAuditFindings(t *testing.T, stdlib bool) {
	tl := newTestLog(t, false, "audit test")
	good := tl.pledge("microsoft", tl.demo.Keys["microsoft"])
	_, stranger, _ := ed25519GenerateKey()
	tl.append(good, []byte("not an attestation"), tl.pledge("microsoft", stranger), badSig(t, tl.pledge("microsoft", tl.demo.Keys["microsoft"])), good,
		tl.revoke("cisco"), tl.pledge("cisco", tl.demo.Keys["cisco"]))
	r, err := run(t, tl, &fetcher{log: tl.log}, audit.Config{StdlibEd25519: stdlib})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		index uint64
		kind  string
	}{{173, audit.KindMalformed}, {174, audit.KindRejected}, {175, audit.KindBadSignature}, {176, audit.KindDuplicate}, {178, audit.KindRejected}}
	if len(r.Findings) != len(want) {
		t.Fatalf("findings %v, want %v", r.Findings, want)
	}
	for i, w := range want {
		if f := r.Findings[i]; f.Index != w.index || f.Kind != w.kind {
			t.Errorf("finding %d = %v, want entry %d %s", i, f, w.index, w.kind)
		}
	}
	if !strings.Contains(r.Findings[3].Detail, "entry 172") {
		t.Errorf("duplicate finding %q does not name entry 172", r.Findings[3].Detail)
	}
	if !strings.Contains(r.Findings[4].Detail, "revoked") || len(r.Revocations) != 1 || r.Revocations[0].Index != 177 {
		t.Errorf("pledge by a revoked key: %v; revocations %+v", r.Findings[4], r.Revocations)
	}
}

// badSig flips a bit of a leaf's signature, keeping it canonical.
func badSig(t *testing.T, leaf []byte) []byte {
	s := string(leaf)
	i := strings.Index(s, `"sig":"`) + len(`"sig":"`)
	j := strings.Index(s[i:], `"`) + i
	sig, err := base64.StdEncoding.DecodeString(s[i:j])
	if err != nil {
		t.Fatal(err)
	}
	sig[10] ^= 1
	return []byte(s[:i] + base64.StdEncoding.EncodeToString(sig) + s[j:])
}

func TestAuditTampered(t *testing.T) {
	tl := newTestLog(t, true, "audit test")
	other := newTestLog(t, false, "another seed")
	for _, tc := range []struct {
		name string
		f    *fetcher
		want error
	}{
		{"flipped hash tile", &fetcher{log: tl.log, fail: flip(0, 5)}, audit.ErrTile},
		{"flipped entry", &fetcher{log: tl.log, fail: flip(verify.EntriesLevel, 100)}, audit.ErrTile},
		{"another tree", &fetcher{log: other.log}, audit.ErrRoot},
		{"network", &fetcher{log: tl.log, fail: func(verify.Tile, []byte) ([]byte, error) { return nil, errNetwork }}, errNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := tl.checkpoint()
			_, err := run(t, tl, tc.f, audit.Config{Checkpoint: cp})
			if !errors.Is(err, tc.want) {
				t.Errorf("audit = %v, want %v", err, tc.want)
			}
		})
	}
}

var errNetwork = errors.New("network down")

// flip flips a byte at offset of every tile of the level.
func flip(level, offset int) func(verify.Tile, []byte) ([]byte, error) {
	return func(t verify.Tile, b []byte) ([]byte, error) {
		if t.Level == level && offset < len(b) {
			b[offset] ^= 1
		}
		return b, nil
	}
}

// TestAuditResume interrupts an audit and resumes it from its state.
func TestAuditResume(t *testing.T) {
	tl := newTestLog(t, true, "audit test")
	var more [][]byte
	for range 1000 {
		more = append(more, tl.pledge("microsoft", tl.demo.Keys["microsoft"]))
	}
	tl.append(more...)
	dir := t.TempDir()
	failing := &fetcher{log: tl.log, fail: func(t verify.Tile, b []byte) ([]byte, error) {
		if t.Level == verify.EntriesLevel && t.N == 3 {
			return nil, errNetwork
		}
		return b, nil
	}}
	if _, err := run(t, tl, failing, audit.Config{Dir: dir, SaveEvery: 1, Fetchers: 1}); !errors.Is(err, errNetwork) {
		t.Fatalf("interrupted audit = %v, want %v", err, errNetwork)
	}
	if _, err := os.Stat(filepath.Join(dir, audit.StateFile)); err != nil {
		t.Fatalf("no state saved: %v", err)
	}
	r, err := run(t, tl, &fetcher{log: tl.log}, audit.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if r.Resumed != 768 || r.Total != 0 || r.Signatures != 1172-768 {
		t.Errorf("resumed audit: resumed %d, %d findings, %d signatures; want 768, 0, %d", r.Resumed, r.Total, r.Signatures, 1172-768)
	}
	if _, err := os.Stat(filepath.Join(dir, audit.StateFile)); !os.IsNotExist(err) {
		t.Errorf("state left after a finished audit: %v", err)
	}
}

// TestAuditThiefRevocation logs, without the registry's hooks, what the
// registry attack of issue 15 (item 7) logged: a second key of cisco
// declares its original key compromised from just after its
// registration. The audit reports that revocation as rejected (a key may
// not void signatures older than itself) and keeps cisco's pledges and
// both keys; before the rule it voided all of them.
func TestAuditThiefRevocation(t *testing.T) {
	tl := newTestLog(t, false, "audit test")
	k1 := tl.demo.Keys["cisco"]
	_, k2, err := ed25519GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pk2, err := attest.NewPublicKey(k2.Public())
	if err != nil {
		t.Fatal(err)
	}
	info, _ := tl.reg.Signatory("cisco")
	sign := func(e *attest.SignatoryEvent, keys ...crypto.Signer) []byte {
		t.Helper()
		e.Origin, e.Signatory, e.Seq, e.Prev = origin, "cisco", info.Seq+1, info.Head
		st, err := attest.NewStatement(e)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := attest.SignWithKeys(st, keys...)
		if err != nil {
			t.Fatal(err)
		}
		return leaf
	}
	add := sign(&attest.SignatoryEvent{Action: attest.ActionAddKey, Key: &pk2}, k1, k2)
	tl.append(add)
	if _, err := tl.reg.Replay(tl.log.Latest().Size-1, add); err != nil {
		t.Fatal(err)
	}
	info, _ = tl.reg.Signatory("cisco")
	k1id := info.Keys[0].ID
	attack := sign(&attest.SignatoryEvent{Action: attest.ActionRevoke, KeyID: k1id, Reason: attest.ReasonCompromised,
		VoidFrom: new(info.Registered + 1)}, k2)
	tl.append(attack)
	at := tl.log.Latest().Size - 1
	r, err := run(t, tl, &fetcher{log: tl.log}, audit.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Index != at || r.Findings[0].Kind != audit.KindRejected ||
		!strings.Contains(r.Findings[0].Detail, "before-signing-key") {
		t.Fatalf("findings %v, want entry %d rejected (before-signing-key)", r.Findings, at)
	}
	if len(r.Revocations) != 0 {
		t.Errorf("revocations %+v, want none", r.Revocations)
	}
	if got := r.Registry.Latest("cisco"); len(got) != 4 {
		t.Errorf("cisco's latest pledges after the audit: %+v, want 4", got)
	}
	for _, id := range []string{k1id, pk2.ID()} {
		if k, err := r.Registry.Key("cisco", id); err != nil || !k.Valid() || k.VoidFrom != nil {
			t.Errorf("cisco key %s: %+v %v, want valid and not void", id[:8], k, err)
		}
	}
}
