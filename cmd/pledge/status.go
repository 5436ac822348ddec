package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// statusReport is what status prints with --json.
type statusReport struct {
	Signatory attest.SignatoryInfo  `json:"signatory"`
	Latest    []attest.LatestPledge `json:"latest"`
	Alarms    []string              `json:"alarms"`
}

// runStatus shows the signatory's registry record and latest pledges, and
// raises an alarm for every key it does not know and every recover event
// of a key it does not know: keys someone else (the registrar, or a thief
// of a key) added. It fails (exit 1) when there is an alarm.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var id, known string
	fl := newFlags("status", "--id ID [--known-keys DIR]", stderr)
	c.register(fl)
	fl.StringVar(&id, "id", "", "the signatory id")
	fl.StringVar(&known, "known-keys", "", "a directory of the public keys (*.pub.pem) you made (default --config-dir)")
	if err := parse(fl, args); err != nil {
		return err
	}
	if id == "" {
		return usagef("--id is required")
	}
	if !signatoryID.MatchString(id) {
		return usagef("--id %q: not a signatory id (lowercase letters, digits and '-')", id)
	}
	if known == "" {
		known = c.configDir
	}
	mine, err := knownKeys(known)
	if err != nil {
		return err
	}
	s, err := client.New(c.url).Signatory(ctx, id)
	if err != nil {
		return fmt.Errorf("--id %s: %w", id, err)
	}
	r := &statusReport{Signatory: s.Signatory, Latest: s.Latest, Alarms: alarms(s, mine)}
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
	for _, a := range r.Alarms {
		fmt.Fprintf(&b, "!!! ALARM: %s\n", a)
	}
	return b.String()
}

// signatoryID is the syntax of a signatory id (docs/formats.md).
var signatoryID = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
