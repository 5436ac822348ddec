package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// runRevokeKey revokes a key of the signatory with one of its own current
// keys (SECURITY.md): the revoke-key event signed by --key alone, no
// registrar. With --reason compromised, --void-from voids the revoked
// key's signatures from that index on; a key of the signatory may not
// void what was signed before it was itself added (before-signing-key,
// docs/formats.md).
func runRevokeKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var id, key, keyid, reason, voidFrom, pinned string
	fl := newFlags("revoke-key", "--id ID --keyid KEYID --reason superseded|compromised [--void-from INDEX] [--key FILE]", stderr)
	c.register(fl)
	fl.StringVar(&id, "id", "", "your signatory id")
	fl.StringVar(&key, "key", "", "a current key of yours that signs the revocation (default key.pem in --config-dir); it may be the key revoked")
	fl.StringVar(&keyid, "keyid", "", "the key id to revoke (64 hex digits: pledge status lists them, pledge fingerprint prints one)")
	fl.StringVar(&reason, "reason", "", "superseded (retired: its signatures stand) or compromised")
	fl.StringVar(&voidFrom, "void-from", "", "compromised: the index from which the key's signatures are void (not before --key's own addition)")
	fl.StringVar(&pinned, "log-key", "", "the log's verifier key to pin")
	if err := parse(fl, args); err != nil {
		return err
	}
	if err := checkLogKey(pinned); err != nil {
		return err
	}
	ev, err := revokeEvent(id, keyid, reason, voidFrom)
	if err != nil {
		return err
	}
	k, err := loadKey(c.keyFile(key))
	if err != nil {
		return err
	}
	index, err := revokeKey(ctx, client.New(c.url), ev, k, pinned, stderr)
	if err != nil {
		return err
	}
	out := map[string]any{"index": index, "signatory": id, "keyid": keyid, "reason": reason, "signedBy": k.ID()}
	text := fmt.Sprintf("revoked key %s of %s (%s) with key %s: index %d\n", keyid, id, reason, k.ID(), index)
	if ev.VoidFrom != nil {
		out["voidFrom"] = *ev.VoidFrom
		text += fmt.Sprintf("its signatures from index %d on are void\n", *ev.VoidFrom)
	}
	return c.print(stdout, out, text)
}

// revokeEvent checks the flags of revoke-key and returns its event, but
// for the origin and chain position.
func revokeEvent(id, keyid, reason, voidFrom string) (*attest.SignatoryEvent, error) {
	ev := &attest.SignatoryEvent{Action: attest.ActionRevoke, Signatory: id, KeyID: keyid, Reason: reason}
	switch {
	case id == "" || keyid == "" || reason == "":
		return nil, usagef("--id, --keyid and --reason are required")
	case !signatoryID.MatchString(id):
		return nil, usagef("--id %q: not a signatory id (lowercase letters, digits and '-')", id)
	case !keyIDPattern.MatchString(keyid):
		return nil, usagef("--keyid %q: want the 64 lowercase hex digits of a key id", keyid)
	case reason != attest.ReasonSuperseded && reason != attest.ReasonCompromised:
		return nil, usagef("--reason %q: want superseded or compromised", reason)
	case voidFrom != "" && reason != attest.ReasonCompromised:
		return nil, usagef("--void-from is only for --reason compromised")
	case voidFrom != "":
		n, err := strconv.ParseUint(voidFrom, 10, 63)
		if err != nil {
			return nil, usagef("--void-from %q: want an entry index", voidFrom)
		}
		ev.VoidFrom = &n
	}
	return ev, nil
}

// keyIDPattern is the syntax of a key id.
var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// revokeKey logs the revocation at the signatory's chain head, signed by
// k, and returns its index.
func revokeKey(ctx context.Context, cl *client.Client, ev *attest.SignatoryEvent, k *client.Key, pinned string, stderr io.Writer) (uint64, error) {
	info, vkey, err := logKey(ctx, cl, pinned, stderr)
	if err != nil {
		return 0, err
	}
	s, err := cl.Signatory(ctx, ev.Signatory)
	if err != nil {
		return 0, fmt.Errorf("--id %s: %w", ev.Signatory, err)
	}
	ev.Origin, ev.Seq, ev.Prev = info.Origin, s.Signatory.Seq+1, s.Signatory.Head
	st, err := attest.NewStatement(ev)
	if err != nil {
		return 0, usageError{Err: explainField(err, "voidFrom", "void-from")}
	}
	leaf, err := attest.Sign(st, k.Signer)
	if err != nil {
		return 0, err
	}
	data, res, _, err := cl.Submit(ctx, k, ev.Signatory, leaf, info, vkey)
	var p *client.Problem
	if errors.As(err, &p) && p.Code == "before-signing-key" {
		return 0, fmt.Errorf("--void-from %d: before --key %s was added to %s, and a key may not void what was signed before it existed (before-signing-key): %w", *ev.VoidFrom, k.ID(), ev.Signatory, err)
	}
	if err != nil {
		return 0, submitFailed(data, err)
	}
	return res.Index, nil
}
