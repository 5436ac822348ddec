package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
)

// runInit creates a log: the data directory, its key and admin token, and
// the store with the log's first, empty checkpoint.
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("init", "--data DIR --origin ORIGIN", stderr)
	dir := flags.String("data", "./pledgelog-data", "the data directory to create (it must not exist or be empty)")
	origin := flags.String("origin", "", "the log's origin, its name in checkpoints, e.g. log.example.org/pledges")
	level := &levelFlag{}
	flags.Var(level, "log-level", "debug, info, warn or error")
	if err := parse(flags, args); err != nil {
		return err
	}
	if err := checkOrigin(*origin); err != nil {
		return usageError{err}
	}
	d := dataDir(*dir)
	cleanup, err := makeDataDir(d)
	if err != nil {
		return err
	}
	vkey, err := initDataDir(ctx, d, *origin, newLogger(stderr, level.Level))
	if err != nil {
		cleanup()
		return err
	}
	fmt.Fprintf(stdout, "created a log in %s\norigin: %s\nvkey: %s\n", d, *origin, vkey)
	fmt.Fprintf(stdout, "The log key %s is secret and is not in backups: keep a copy offline.\n", d.keyFile())
	return nil
}

// makeDataDir creates d, or takes it if it is an empty directory, and
// returns a func that undoes this.
func makeDataDir(d dataDir) (cleanup func(), err error) {
	entries, err := os.ReadDir(string(d))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(string(d), 0o700); err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		return func() { os.RemoveAll(string(d)) }, nil
	case err != nil:
		return nil, fmt.Errorf("--data %s: %w", d, err)
	case len(entries) > 0:
		return nil, fmt.Errorf("--data %s: the directory exists and is not empty; refusing to create a log in it", d)
	}
	return func() {
		entries, _ := os.ReadDir(string(d))
		for _, e := range entries {
			os.RemoveAll(filepath.Join(string(d), e.Name()))
		}
	}, nil
}

// initDataDir fills the empty directory d and returns the log's vkey.
func initDataDir(ctx context.Context, d dataDir, origin string, logger *slog.Logger) (string, error) {
	if err := os.WriteFile(d.originFile(), []byte(origin+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := newKey(d.keyFile()); err != nil {
		return "", fmt.Errorf("generating the log key: %w", err)
	}
	if _, err := d.adminToken(); err != nil {
		return "", err
	}
	signer, err := d.loadKey()
	if err != nil {
		return "", err
	}
	st, err := pebble.Create(d.db(), pebble.Options{Logger: logger})
	if err != nil {
		return "", err
	}
	defer st.Close()
	l, err := log.Create(ctx, log.Config{Origin: origin, Signer: signer, Storage: st, Logger: logger})
	if err != nil {
		return "", err
	}
	return l.VerifierKey(), st.Close()
}
