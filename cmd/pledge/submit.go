package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
)

// submitFlags are the flags of submit.
type submitFlags struct {
	common
	key, in, out, logKey string
	waitWitnessed        bool
	policy               string
	waitTimeout          time.Duration
}

func parseSubmit(args []string, stderr io.Writer) (*submitFlags, error) {
	f := &submitFlags{}
	fl := newFlags("submit", "--in ENVELOPE [--out BUNDLE] [--log-key VKEY]", stderr)
	f.register(fl)
	fl.StringVar(&f.key, "key", "", "the private key that signs the session token (default key.pem in --config-dir)")
	fl.StringVar(&f.in, "in", "envelope.json", "the signed envelope (made by pledge sign)")
	fl.StringVar(&f.out, "out", "", "where to keep the proof bundle (default: --in with .bundle.json)")
	fl.StringVar(&f.logKey, "log-key", "", "the log's verifier key (origin+hash+key) to pin; without it the key the log serves is used, with a warning")
	fl.BoolVar(&f.waitWitnessed, "wait-witnessed", false, "after logging, wait for the entry's bundle on a checkpoint cosigned by the witness quorum, and keep that one")
	fl.StringVar(&f.policy, "policy", "", "with --wait-witnessed: the witness policy (c2sp.org/tlog-policy) to require; without it the one the log serves is used, with a warning")
	fl.DurationVar(&f.waitTimeout, "wait-timeout", 2*time.Minute, "with --wait-witnessed: how long to wait")
	if err := parse(fl, args); err != nil {
		return nil, err
	}
	if err := checkLogKey(f.logKey); err != nil {
		return nil, err
	}
	if f.out == "" {
		f.out = strings.TrimSuffix(f.in, ".json") + ".bundle.json"
	}
	return f, nil
}

// runSubmit posts an envelope with a session token, verifies the returned
// bundle with the pinned log key, keeps it and prints the index.
func runSubmit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseSubmit(args, stderr)
	if err != nil {
		return err
	}
	leaf, err := os.ReadFile(f.in)
	if err != nil {
		return fmt.Errorf("--in: %w", err)
	}
	env, err := attest.ParseLeaf([]byte(strings.TrimSpace(string(leaf))))
	if err != nil {
		return fmt.Errorf("--in %s: not a canonical envelope: %w", f.in, err)
	}
	key, err := loadKey(f.keyFile(f.key))
	if err != nil {
		return err
	}
	c := client.New(f.url)
	info, vkey, err := logKey(ctx, c, f.logKey, stderr)
	if err != nil {
		return err
	}
	data, res, created, err := c.Submit(ctx, key, env.Statement.Signatory(), env.Leaf(), info, vkey)
	if err != nil {
		return submitFailed(data, err)
	}
	if f.waitWitnessed {
		if data, res, err = f.wait(ctx, c, res.Index, env.Leaf(), info.Origin, vkey, stderr); err != nil {
			return err
		}
	}
	if err := durable.WriteFile(f.out, data, 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	what := "logged"
	if !created {
		what = "already logged (duplicate)"
	}
	return f.print(stdout, map[string]any{"index": res.Index, "created": created, "bundle": f.out, "size": res.Size},
		fmt.Sprintf("%s at index %d; bundle verified (tree size %d) and saved to %s\nindex: %d\n", what, res.Index, res.Size, f.out, res.Index))
}

// logKey fetches the log's info and returns the verifier key to trust:
// pinned, or the served one with a loud warning.
func logKey(ctx context.Context, c *client.Client, pinned string, stderr io.Writer) (*client.LogInfo, string, error) {
	info, err := c.Log(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("--url: %w", err)
	}
	if pinned != "" {
		if origin, _, _ := strings.Cut(pinned, "+"); origin != info.Origin {
			return nil, "", usagef("--log-key %s is a key of the log %q, but --url serves the log %q: nothing was submitted", pinned, origin, info.Origin)
		}
		if pinned != info.VerifierKey {
			fmt.Fprintf(stderr, "pledge: WARNING: the log serves key %s, not the pinned --log-key\n", info.VerifierKey)
		}
		return info, pinned, nil
	}
	fmt.Fprintf(stderr, "pledge: WARNING: no --log-key given: trusting the key the log serves, %s\n"+
		"pledge: pin it (--log-key or PLEDGE_LOG_KEY) once you have checked it out of band\n", info.VerifierKey)
	return info, info.VerifierKey, nil
}

// submitFailed is the error of a failed client.Submit: a failed
// verification if the log answered a bundle (which does not verify),
// else the post's error.
func submitFailed(answer []byte, err error) error {
	if answer != nil {
		return failed(err)
	}
	return err
}

// checkLogKey checks a --log-key, if given, before anything is fetched.
func checkLogKey(vkey string) error {
	if vkey == "" {
		return nil
	}
	if _, err := verify.NewVerifier(vkey); err != nil {
		return usagef("--log-key %q: %v", vkey, err)
	}
	return nil
}
