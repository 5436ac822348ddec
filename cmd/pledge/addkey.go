package main

import (
	"context"
	"fmt"
	"io"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// runAddKey adds a key to a signatory: the add-key event is signed by a
// valid key of the signatory and by the new key (proof of possession), so
// it is the signatory's to make, not the operator's.
func runAddKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var id, key, newKey, logKeyFlag string
	fl := newFlags("add-key", "--id ID --new-key FILE [--key FILE]", stderr)
	c.register(fl)
	fl.StringVar(&id, "id", "", "your signatory id")
	fl.StringVar(&key, "key", "", "a current key (default key.pem in --config-dir)")
	fl.StringVar(&newKey, "new-key", "", "the private key to add (make it with pledge keygen --out FILE)")
	fl.StringVar(&logKeyFlag, "log-key", "", "the log's verifier key to pin")
	if err := parse(fl, args); err != nil {
		return err
	}
	if err := checkLogKey(logKeyFlag); err != nil {
		return err
	}
	if id == "" || newKey == "" {
		return usagef("--id and --new-key are required")
	}
	cur, err := loadKey(c.keyFile(key))
	if err != nil {
		return err
	}
	add, err := loadKey(newKey)
	if err != nil {
		return fmt.Errorf("--new-key: %w", err)
	}
	res, err := addKey(ctx, client.New(c.url), id, cur, add, logKeyFlag, stderr)
	if err != nil {
		return err
	}
	return c.print(stdout, map[string]any{"index": res, "keyid": add.ID()},
		fmt.Sprintf("added key %s to %s at index %d\n", add.ID(), id, res))
}

// addKey logs the add-key event of signatory id at its chain head, signed
// by cur and add, and returns its index.
func addKey(ctx context.Context, cl *client.Client, id string, cur, add *client.Key, pinned string, stderr io.Writer) (uint64, error) {
	info, vkey, err := logKey(ctx, cl, pinned, stderr)
	if err != nil {
		return 0, err
	}
	s, err := cl.Signatory(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("--id %s: %w", id, err)
	}
	st, err := attest.NewStatement(&attest.SignatoryEvent{Action: attest.ActionAddKey, Origin: info.Origin,
		Signatory: id, Seq: s.Signatory.Seq + 1, Prev: s.Signatory.Head, Key: &add.Public})
	if err != nil {
		return 0, explainField(err)
	}
	leaf, err := attest.Sign(st, cur.Signer, add.Signer)
	if err != nil {
		return 0, explainField(err)
	}
	data, res, _, err := cl.Submit(ctx, cur, id, leaf, info, vkey)
	if err != nil {
		return 0, submitFailed(data, err)
	}
	return res.Index, nil
}
