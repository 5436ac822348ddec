package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pledgelog/pledgelog/client"
)

// runVerify checks a saved proof bundle offline against the log key, and
// prints what it proves.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var in, vkey string
	fl := newFlags("verify", "--bundle FILE [--log-key VKEY]", stderr)
	c.register(fl)
	fl.StringVar(&in, "bundle", "envelope.bundle.json", "the proof bundle saved by pledge submit")
	fl.StringVar(&vkey, "log-key", "", "the log's verifier key; without it the key the log serves is fetched, with a warning")
	if err := parse(fl, args); err != nil {
		return err
	}
	if err := checkLogKey(vkey); err != nil {
		return err
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("--bundle: %w", err)
	}
	if vkey == "" {
		if _, vkey, err = logKey(ctx, client.New(c.url), "", stderr); err != nil {
			return err
		}
	}
	origin, _, _ := strings.Cut(vkey, "+")
	res, err := client.Verify(data, origin, vkey)
	if err != nil {
		return failed(fmt.Errorf("--bundle %s does not verify: %w", in, err))
	}
	facts := res.Facts()
	return c.print(stdout, res.JSON(), "verified:\n  "+strings.Join(facts, "\n  ")+"\n")
}
