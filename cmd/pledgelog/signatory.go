package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/cmd/internal/cli"
)

// signatoryGroup is pledgelog signatory <sub>.
var signatoryGroup = cli.Group{Usage: `usage: pledgelog signatory <command> [flags]

commands, through the API of a running log with the registrar key:
  register    cosign a signatory's register request (made with pledge request)
  recover     cosign a signatory's recover request
  revoke-key  revoke a key of a signatory (a signatory revokes its own: pledge revoke-key)
  list        list the signatories (no key needed)

(add-key is the signatory's: pledge add-key, signed by a current and the new key)
Run "pledgelog signatory <command> -h" for a command's flags.
`, Commands: map[string]cli.Command{
	"register": runRegister, "recover": runRecover, "revoke-key": runRevokeKey, "list": runList,
}}

// runRegister and runRecover cosign a request made by the signatory with
// pledge request: the event signed by its new key.
func runRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cosign(ctx, attest.ActionRegister, args, stdout, stderr)
}

func runRecover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cosign(ctx, attest.ActionRecover, args, stdout, stderr)
}

func cosign(ctx context.Context, action string, args []string, stdout, stderr io.Writer) error {
	var f apiFlags
	var reqFile, id, pub string
	fl := newFlags("signatory "+action, "--request FILE --id ID --key PUB.pem --registrar-key FILE", stderr)
	f.register(fl)
	fl.StringVar(&reqFile, "request", "", "the request the signatory made with: pledge request --action "+action)
	fl.StringVar(&id, "id", "", "the signatory id you expect in the request")
	fl.StringVar(&pub, "key", "", "the signatory's public key (PEM) you expect in the request, checked out of band")
	if err := parse(fl, args); err != nil {
		return err
	}
	if reqFile == "" || id == "" || pub == "" {
		return usageError{Err: errors.New("--request, --id and --key are required")}
	}
	req, ev, err := readRequest(reqFile, action, id, pub)
	if err != nil {
		return err
	}
	r, err := f.open(ctx, stderr)
	if err != nil {
		return err
	}
	leaf, err := req.Cosign(r.key)
	if err != nil {
		return err
	}
	index, err := r.post(ctx, leaf)
	if err != nil {
		return err
	}
	return f.print(stdout, map[string]any{"action": action, "signatory": ev.Signatory, "name": ev.Name, "keyid": ev.Key.ID(), "index": index},
		fmt.Sprintf("%s %s (%s) with key %s: index %d\n", action, ev.Signatory, ev.Name, ev.Key.ID(), index))
}

// readRequest reads a request and checks that it is the action for id
// and the public key the operator expects.
func readRequest(name, action, id, pubFile string) (*client.Request, *attest.SignatoryEvent, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, fmt.Errorf("--request: %w", err)
	}
	var req client.Request
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, nil, fmt.Errorf("--request %s: %w", name, err)
	}
	ev, err := req.Event()
	if err != nil {
		return nil, nil, fmt.Errorf("--request %s: %w", name, err)
	}
	pb, err := os.ReadFile(pubFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--key: %w", err)
	}
	pk, err := attest.ParsePublicKey(pb)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("--key %s: %w", pubFile, err)
	case ev.Action != action:
		return nil, nil, fmt.Errorf("--request %s: a %s request, not %s", name, ev.Action, action)
	case ev.Signatory != id:
		return nil, nil, fmt.Errorf("--request %s: for signatory %q, not --id %q", name, ev.Signatory, id)
	case ev.Key.ID() != pk.ID():
		return nil, nil, fmt.Errorf("--request %s: for key %s, not --key %s (%s)", name, ev.Key.ID(), pubFile, pk.ID())
	}
	return &req, ev, nil
}

// runRevokeKey revokes a key of a signatory with the registrar key.
func runRevokeKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f apiFlags
	var id, keyid, reason, voidFrom string
	fl := newFlags("signatory revoke-key", "--id ID --keyid KEYID --reason superseded|compromised [--void-from N]", stderr)
	f.register(fl)
	fl.StringVar(&id, "id", "", "the signatory id")
	fl.StringVar(&keyid, "keyid", "", "the key id to revoke")
	fl.StringVar(&reason, "reason", "", "superseded or compromised")
	fl.StringVar(&voidFrom, "void-from", "", "compromised: the index from which the key's signatures are void")
	if err := parse(fl, args); err != nil {
		return err
	}
	ev, err := revokeEvent(id, keyid, reason, voidFrom)
	if err != nil {
		return err
	}
	r, err := f.open(ctx, stderr)
	if err != nil {
		return err
	}
	s, err := r.c.Signatory(ctx, id)
	if err != nil {
		return fmt.Errorf("--id %s: %w", id, err)
	}
	ev.Origin, ev.Seq, ev.Prev = r.info.Origin, s.Signatory.Seq+1, s.Signatory.Head
	index, err := r.submit(ctx, ev)
	if err != nil {
		return err
	}
	return f.print(stdout, map[string]any{"signatory": id, "keyid": keyid, "reason": reason, "voidFrom": ev.VoidFrom, "index": index},
		fmt.Sprintf("revoked key %s of %s (%s): index %d\n", keyid, id, reason, index))
}

func revokeEvent(id, keyid, reason, voidFrom string) (*attest.SignatoryEvent, error) {
	ev := &attest.SignatoryEvent{Action: attest.ActionRevoke, Signatory: id, KeyID: keyid, Reason: reason}
	switch {
	case id == "" || keyid == "":
		return nil, usageError{Err: errors.New("--id and --keyid are required")}
	case !signatoryID.MatchString(id):
		return nil, usageError{Err: fmt.Errorf("--id %q: not a signatory id (lowercase letters, digits and '-')", id)}
	case !keyIDPattern.MatchString(keyid):
		return nil, usageError{Err: fmt.Errorf("--keyid %q: want the 64 lowercase hex digits of a key id", keyid)}
	case reason != attest.ReasonSuperseded && reason != attest.ReasonCompromised:
		return nil, usageError{Err: fmt.Errorf("--reason %q: want superseded or compromised", reason)}
	case voidFrom != "" && reason != attest.ReasonCompromised:
		return nil, usageError{Err: errors.New("--void-from is only for --reason compromised")}
	case voidFrom != "":
		n, err := strconv.ParseUint(voidFrom, 10, 63)
		if err != nil {
			return nil, usageError{Err: fmt.Errorf("--void-from %q: want an entry index", voidFrom)}
		}
		ev.VoidFrom = &n
	}
	return ev, nil
}

// runList lists the signatories.
func runList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var url string
	fl := newFlags("signatory list", "[--url URL] [--json]", stderr)
	fl.StringVar(&url, "url", "http://127.0.0.1:8080", "the URL of the running log")
	var asJSON bool
	fl.BoolVar(&asJSON, "json", false, "print the signatories as a JSON array of their registry records")
	if err := parse(fl, args); err != nil {
		return err
	}
	all, err := client.New(url).Signatories(ctx)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	if asJSON {
		if all == nil {
			all = []attest.SignatoryInfo{}
		}
		return cli.PrintJSON(stdout, all)
	}
	if len(all) == 0 {
		fmt.Fprintf(stdout, "no signatories yet (%s): register one with pledge request, then pledgelog signatory register\n", url)
		return nil
	}
	for _, s := range all {
		valid := 0
		for _, k := range s.Keys {
			if k.Valid() {
				valid++
			}
		}
		fmt.Fprintf(stdout, "%s\t%s\tkeys %d valid of %d\tevents %d\n", s.ID, s.Name, valid, len(s.Keys), s.Seq+1)
	}
	return nil
}

// The syntax of signatory ids (docs/formats.md) and key ids.
var (
	signatoryID  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
	keyIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)
