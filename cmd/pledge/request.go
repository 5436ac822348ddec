package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// runRequest makes a register or recover request: the event signed by the
// new key, which the operator checks and cosigns with the registrar key
// (pledgelog signatory register|recover --request FILE).
func runRequest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var action, key, out string
	ev := &attest.SignatoryEvent{}
	fl := newFlags("request", "--action register|recover --id ID [--name NAME --website URL] [--out FILE]", stderr)
	c.register(fl)
	fl.StringVar(&action, "action", attest.ActionRegister, "register (a new signatory) or recover (after losing every key)")
	fl.StringVar(&ev.Signatory, "id", "", "the signatory id (lowercase letters, digits and '-')")
	fl.StringVar(&ev.Name, "name", "", "register: the signatory's legal name")
	fl.StringVar(&ev.Website, "website", "", "register: the signatory's https website")
	fl.StringVar(&key, "key", "", "the new key (default key.pem in --config-dir)")
	fl.StringVar(&out, "out", "request.json", "the request file to write, for the operator")
	if err := parse(fl, args); err != nil {
		return err
	}
	switch {
	case ev.Signatory == "":
		return usagef("--id is required")
	case action == attest.ActionRegister && ev.Name == "":
		return usagef("--name is required to register")
	case action != attest.ActionRegister && action != attest.ActionRecover:
		return usagef("--action %q: want register or recover", action)
	}
	ev.Action = action
	k, err := loadKey(c.keyFile(key))
	if err != nil {
		return err
	}
	req, err := request(ctx, client.New(c.url), ev, k)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(req)
	if err := writeOut(out, b, stdout); err != nil {
		return err
	}
	return c.print(stderr, map[string]any{"out": out, "keyid": k.ID(), "seq": ev.Seq},
		fmt.Sprintf("wrote the %s request of %s for key %s to %s: give it to the log's operator\n", action, ev.Signatory, k.ID(), out))
}

// request fills the event's origin and chain position from the log and
// signs it with the new key.
func request(ctx context.Context, c *client.Client, ev *attest.SignatoryEvent, k *client.Key) (*client.Request, error) {
	info, err := c.Log(ctx)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	ev.Origin, ev.Key = info.Origin, &k.Public
	if ev.Action == attest.ActionRecover {
		s, err := c.Signatory(ctx, ev.Signatory)
		if err != nil {
			return nil, fmt.Errorf("--id %s: %w", ev.Signatory, err)
		}
		ev.Seq, ev.Prev = s.Signatory.Seq+1, s.Signatory.Head
	}
	req, err := client.NewRequest(ev, k)
	if err != nil {
		return nil, usageError{Err: explainField(err, "signatory", "id")}
	}
	return req, nil
}
