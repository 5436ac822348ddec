package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify"
	vclient "github.com/pledgelog/pledgelog/verify/client"
	"github.com/pledgelog/pledgelog/verify/lookup"
)

// statusReport is what status prints with --json.
type statusReport struct {
	Signatory attest.SignatoryInfo  `json:"signatory"`
	Latest    []attest.LatestPledge `json:"latest"`
	Proven    *proven               `json:"proven"`
	Alarms    []string              `json:"alarms"`
}

// proven is what status proved by map proofs (verify/lookup), against
// checkpoints of Size (the first lookup's; later lookups are proven
// consistent with it) signed by the pinned log key.
type proven struct {
	Size      uint64        `json:"size"`
	MapRoot   string        `json:"map_root"` // base64, as in the checkpoint's extension line
	LogKey    string        `json:"logKey"`
	Principal lookup.JSON   `json:"principal"`
	Keys      []lookup.JSON `json:"keys"`
	Cells     []lookup.JSON `json:"cells"`
}

// runStatus shows the signatory's registry record and latest pledges, and
// raises an alarm for every key it does not know and every recover event
// of a key it does not know: keys someone else (the registrar, or a thief
// of a key) added. It proves, by map proofs against a checkpoint signed
// by the pinned log key, the signatory's state, each key's state (the
// server's and yours) and the latest pledge to each principle of each
// accord, and raises an alarm for each that the server's JSON
// contradicts. It fails (exit 1) when there is an alarm or a proof fails.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var id, known, pinned string
	fl := newFlags("status", "--id ID [--known-keys DIR] [--log-key VKEY]", stderr)
	c.register(fl)
	fl.StringVar(&id, "id", "", "the signatory id")
	fl.StringVar(&known, "known-keys", "", "a directory of the public keys (*.pub.pem) you made (default --config-dir)")
	fl.StringVar(&pinned, "log-key", "", "the log's verifier key (origin+hash+key) to prove the state against; without it the key the log serves is used, with a warning")
	if err := parse(fl, args); err != nil {
		return err
	}
	if id == "" {
		return usagef("--id is required")
	}
	if !signatoryID.MatchString(id) {
		return usagef("--id %q: not a signatory id (lowercase letters, digits and '-')", id)
	}
	if err := checkLogKey(pinned); err != nil {
		return err
	}
	if known == "" {
		known = c.configDir
	}
	mine, err := knownKeys(known)
	if err != nil {
		return err
	}
	cl := client.New(c.url)
	_, vkey, err := logKey(ctx, cl, pinned, stderr)
	if err != nil {
		return err
	}
	pv, err := newProver(c.url, vkey)
	if err != nil {
		return err
	}
	// The server's JSON and the proofs are read one after the other: an
	// entry logged between them makes them differ, so a difference is
	// checked once more before it is an alarm.
	var r *statusReport
	for attempt := 0; attempt < 2; attempt++ {
		s, err := cl.Signatory(ctx, id)
		if err != nil {
			return fmt.Errorf("--id %s: %w", id, err)
		}
		accords, err := cl.Accords(ctx)
		if err != nil {
			return fmt.Errorf("accords: %w", err)
		}
		p, mismatches, err := pv.prove(ctx, s, accords, mine)
		if err != nil {
			return err
		}
		r = &statusReport{Signatory: s.Signatory, Latest: s.Latest, Proven: p, Alarms: append(alarms(s, mine), mismatches...)}
		if len(mismatches) == 0 {
			break
		}
	}
	if r.Alarms == nil {
		r.Alarms = []string{}
	}
	if err := c.print(stdout, r, r.text(mine)); err != nil {
		return err
	}
	if len(r.Alarms) > 0 {
		return failed(fmt.Errorf("%d alarm(s) for %s: see above", len(r.Alarms), id))
	}
	return nil
}

// prover proves lookups of one log with its pinned key.
type prover struct {
	vkey   string
	client *vclient.Client
	v      *lookup.Verifier
}

func newProver(url, vkey string) (*prover, error) {
	key, err := verify.NewVerifier(vkey)
	if err != nil {
		return nil, usagef("--log-key %q: %v", vkey, err)
	}
	c, err := vclient.New(vclient.Config{URL: url, UserAgent: vclient.Agent("pledge")})
	if err != nil {
		return nil, usagef("--url: %v", err)
	}
	open := func(note []byte) (verify.Checkpoint, error) {
		cp, _, err := verify.OpenCheckpoint(note, key.Name(), []verify.Verifier{key}, nil, 0)
		return cp, err
	}
	return &prover{vkey: vkey, client: c, v: &lookup.Verifier{Open: open, Tiles: c}}, nil
}

// lookup proves q; every lookup after the first is proven consistent
// with the first one's checkpoint.
func (p *prover) lookup(ctx context.Context, q lookup.Query) (*lookup.Result, error) {
	res, err := p.v.Lookup(ctx, p.client, q)
	if errors.Is(err, lookup.ErrVerify) {
		return nil, failed(err)
	}
	if err != nil {
		return nil, err
	}
	if p.v.Previous.Size == 0 {
		p.v.Previous = res.Checkpoint
	}
	return res, nil
}

// prove proves the signatory's state, the state of each key the server
// lists or the caller holds, and the latest pledge to each principle of
// each accord, and returns them with an alarm for each the server's JSON
// s contradicts.
func (p *prover) prove(ctx context.Context, s *client.SignatoryDetail, accords []attest.AccordInfo, mine map[string]bool) (*proven, []string, error) {
	p.v.Previous = verify.Checkpoint{}
	var alarms []string
	alarm := func(format string, args ...any) {
		alarms = append(alarms, "MISMATCH: "+fmt.Sprintf(format, args...))
	}
	info := s.Signatory
	pr, err := p.lookup(ctx, lookup.Query{Signatory: info.ID})
	if err != nil {
		return nil, nil, err
	}
	out := &proven{Size: pr.Checkpoint.Size, MapRoot: pr.JSON().MapRoot, LogKey: p.vkey, Principal: pr.JSON()}
	if !pr.Present() {
		alarm("the server shows signatory %s, the map proves it is not registered", info.ID)
	} else if st := pr.Principal; st.Registered != info.Registered || st.Seq != info.Seq || hex.EncodeToString(st.Head[:]) != info.Head || int(st.Keys) != len(info.Keys) {
		alarm("the server says registered at %d, seq %d, head %s, %d key(s); the map proves registered at %d, seq %d, head %x, %d key(s)",
			info.Registered, info.Seq, info.Head, len(info.Keys), st.Registered, st.Seq, st.Head, st.Keys)
	}

	keys := map[string]*attest.KeyInfo{}
	for i := range info.Keys {
		keys[info.Keys[i].ID] = &info.Keys[i]
	}
	var ids, yours []string
	for _, k := range info.Keys {
		ids = append(ids, k.ID)
	}
	for kid := range mine {
		if keys[kid] == nil {
			yours = append(yours, kid)
		}
	}
	slices.Sort(yours)
	ids = append(ids, yours...)
	for _, kid := range ids {
		res, err := p.lookup(ctx, lookup.Query{Signatory: info.ID, KeyID: kid})
		if err != nil {
			return nil, nil, err
		}
		out.Keys = append(out.Keys, res.JSON())
		k := keys[kid]
		switch {
		case k == nil && res.Present():
			alarm("your key %s is a key of %s (%s), which the server does not show", kid, info.ID, lookup.KeyState(*res.Key))
		case k == nil:
		case !res.Present():
			alarm("the server shows key %s, the map proves %s has no such key", kid, info.ID)
		case res.Key.Added != k.Added || !sameIndex(res.Key.Revoked, k.Revoked) || !sameIndex(res.Key.VoidFrom, k.VoidFrom):
			alarm("the server says key %s is %s; the map proves it %s", kid, lookup.KeyState(attest.MapKeyState{Added: k.Added, Revoked: k.Revoked, VoidFrom: k.VoidFrom}), lookup.KeyState(*res.Key))
		}
	}

	latest := map[[2]string]attest.LatestPledge{}
	for _, l := range s.Latest {
		latest[[2]string{l.Accord, l.Principle}] = l
	}
	seen := map[[2]string]bool{}
	for _, a := range accords {
		for _, pr := range a.Principles {
			cell := [2]string{a.ID, pr.ID}
			seen[cell] = true
			res, err := p.lookup(ctx, lookup.Query{Signatory: info.ID, Accord: a.ID, Principle: pr.ID})
			if err != nil {
				return nil, nil, err
			}
			out.Cells = append(out.Cells, res.JSON())
			l, shown := latest[cell]
			var provenIndex *uint64
			if res.Present() {
				provenIndex = res.Cell.Index
			}
			switch {
			case shown && provenIndex == nil:
				alarm("the server shows a latest pledge to %s/%s at index %d, the map proves %s", a.ID, pr.ID, l.Index, res.State())
			case !shown && provenIndex != nil:
				alarm("the server shows no pledge to %s/%s, the map proves %s", a.ID, pr.ID, res.State())
			case shown && (*provenIndex != l.Index || res.Cell.Status != l.Status):
				alarm("the server says the latest pledge to %s/%s is %s at index %d, the map proves %s", a.ID, pr.ID, l.Status, l.Index, res.State())
			}
		}
	}
	for _, l := range s.Latest {
		if !seen[[2]string{l.Accord, l.Principle}] {
			alarm("the server shows a pledge to %s/%s, a principle of no accord it lists", l.Accord, l.Principle)
		}
	}
	return out, alarms, nil
}

func sameIndex(a, b *uint64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// knownKeys reads the key ids of the *.pub.pem files in dir.
func knownKeys(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.pub.pem"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, usagef("--known-keys %s: no *.pub.pem file: status judges the log's keys against yours", dir)
	}
	ids := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pk, err := attest.ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("--known-keys: %s: %w", f, err)
		}
		ids[pk.ID()] = true
	}
	return ids, nil
}

// alarms lists the keys and recover events the signatory did not make.
func alarms(s *client.SignatoryDetail, mine map[string]bool) []string {
	var out []string
	for _, e := range s.Signatory.Events {
		if e.Action == attest.ActionRecover && !mine[e.KeyID] {
			out = append(out, fmt.Sprintf("RECOVER at index %d by the registrar added key %s, which is not yours", e.Index, e.KeyID))
		}
	}
	for _, k := range s.Signatory.Keys {
		if !mine[k.ID] && k.Valid() {
			out = append(out, fmt.Sprintf("UNKNOWN KEY %s (added at index %d by %s) is valid and can sign for you", k.ID, k.Added, k.AddedBy))
		}
	}
	return out
}

func (r *statusReport) text(mine map[string]bool) string {
	var b strings.Builder
	s := r.Signatory
	fmt.Fprintf(&b, "%s (%s), registered at index %d, %d registry events\nkeys:\n", s.ID, s.Name, s.Registered, s.Seq+1)
	for _, k := range s.Keys {
		state := "valid"
		if !k.Valid() {
			state = fmt.Sprintf("revoked at %d (%s)", *k.Revoked, k.Reason)
		}
		who := "yours"
		if !mine[k.ID] {
			who = "NOT YOURS"
		}
		fmt.Fprintf(&b, "  %s %s added at %d, %s, %s\n", k.ID, k.Type, k.Added, state, who)
	}
	fmt.Fprintf(&b, "latest pledges: %d\n", len(r.Latest))
	for _, p := range r.Latest {
		fmt.Fprintf(&b, "  %s/%s %s at index %d\n", p.Accord, p.Principle, p.Status, p.Index)
	}
	if p := r.Proven; p != nil {
		fmt.Fprintf(&b, "proven by map proofs against checkpoint %d (map root %s), signed by the pinned log key:\n", p.Size, p.MapRoot)
		fmt.Fprintf(&b, "  signatory: %s\n", provenState(p.Principal))
		for _, k := range p.Keys {
			fmt.Fprintf(&b, "  key %s: %s\n", k.KeyID, provenState(k))
		}
		for _, c := range p.Cells {
			fmt.Fprintf(&b, "  %s/%s: %s\n", c.Accord, c.Principle, provenState(c))
		}
	}
	for _, a := range r.Alarms {
		fmt.Fprintf(&b, "!!! ALARM: %s\n", a)
	}
	return b.String()
}

// provenState says in words what a lookup proved.
func provenState(j lookup.JSON) string {
	switch {
	case !j.Present && j.Kind == lookup.KindCell:
		return "no pledge"
	case !j.Present:
		return "not in the registry"
	case j.Kind == lookup.KindKey:
		return lookup.KeyState(attest.MapKeyState{Added: *j.Added, Revoked: j.Revoked, VoidFrom: j.VoidFrom})
	case j.Kind == lookup.KindCell && j.Index == nil:
		return "every pledge void"
	case j.Kind == lookup.KindCell:
		return fmt.Sprintf("%s at index %d", j.Status, *j.Index)
	case j.Kind == lookup.KindPrincipal:
		return fmt.Sprintf("registered at index %d, seq %d, head %s, %d key(s)", *j.Registered, *j.Seq, j.Head, *j.Keys)
	}
	return "?"
}

// signatoryID is the syntax of a signatory id (docs/formats.md).
var signatoryID = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
