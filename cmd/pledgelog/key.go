package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// keyGroup rotates the log key (docs/operations.md, "Rotating the log
// key"): add makes a new key that serve then signs with beside the old
// one; finish, after the overlap, makes it the only key.
var keyGroup = cli.Group{Usage: `usage: pledgelog key <command> --data DIR

commands (docs/operations.md, "Rotating the log key"):
  add     make a new log key, which serve then signs with beside the old one
  finish  after the overlap, make the new key the only one
`, Commands: map[string]cli.Command{
	"add": func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return runKey(ctx, "add", args, stdout, stderr)
	},
	"finish": func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return runKey(ctx, "finish", args, stdout, stderr)
	},
}}

func runKey(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("key "+sub, "--data DIR", stderr)
	dir := fl.String("data", "./pledgelog-data", "the data directory of the log")
	if err := parse(fl, args); err != nil {
		return err
	}
	d := dataDir(*dir)
	if sub == "add" {
		return keyAdd(d, stdout)
	}
	return keyFinish(ctx, d, stdout)
}

// keyAdd creates the new key and prints its verifier key.
func keyAdd(d dataDir, stdout io.Writer) error {
	origin, err := d.readOrigin()
	if err != nil {
		return err
	}
	if _, err := os.Stat(d.newKeyFile()); err == nil {
		return fmt.Errorf("%s exists: a rotation is under way (finish it with pledgelog key finish)", d.newKeyFile())
	}
	if err := newKey(d.newKeyFile()); err != nil {
		return err
	}
	vkey, err := fileVKey(d.newKeyFile(), origin)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new log key: %s\nnew vkey: %s\n"+
		"Restart pledgelog serve: checkpoints then carry signatures by both keys. Publish the new vkey, add it to the\n"+
		"witnesses' and clients' policies, and after the overlap run: pledgelog key finish --data %s\n", d.newKeyFile(), vkey, d)
	return nil
}

// keyFinish makes the new key the only one, once the latest checkpoint
// carries its signature. The old key is kept as log-key-retired-<id>.pem.
func keyFinish(ctx context.Context, d dataDir, stdout io.Writer) error {
	origin, err := d.readOrigin()
	if err != nil {
		return err
	}
	if _, err := os.Stat(d.newKeyFile()); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no rotation under way: %s does not exist (start one with pledgelog key add)", d.newKeyFile())
	}
	oldVKey, err := fileVKey(d.keyFile(), origin)
	if err != nil {
		return err
	}
	newVKey, err := fileVKey(d.newKeyFile(), origin)
	if err != nil {
		return err
	}
	l, st, err := openLog(ctx, d, d.db(), log.Config{})
	if err != nil {
		return err
	}
	latest := l.Latest()
	st.Close()
	v, err := verify.NewVerifier(newVKey)
	if err != nil {
		return err
	}
	if _, err := verify.Open(latest.Checkpoint, v); err != nil {
		return fmt.Errorf("the latest checkpoint (size %d) is not signed by the new key yet: serve with both keys until an entry is logged, then finish", latest.Size)
	}
	retired := d.path("log-key-retired-" + strings.SplitN(oldVKey, "+", 3)[1] + ".pem")
	if err := os.Rename(d.keyFile(), retired); err != nil {
		return err
	}
	if err := os.Rename(d.newKeyFile(), d.keyFile()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "the log key is now %s\nthe old key %s is kept in %s (no longer used)\nRestart pledgelog serve.\n", newVKey, oldVKey, retired)
	return nil
}

// fileVKey returns the verifier key of the log key in path.
func fileVKey(path, origin string) (string, error) {
	s, err := loadKeyFile(path)
	if err != nil {
		return "", err
	}
	l, err := log.VerifierKeyOf(origin, s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}
