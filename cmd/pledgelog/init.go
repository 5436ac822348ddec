package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pledgelog/pledgelog/log"
)

// runInit creates a log: the data directory, its key and admin token, the
// store with the log's first checkpoint, and its first entries: the
// genesis, or with --demo the whole demo log.
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseInit(args, stderr)
	if err != nil {
		return err
	}
	d := dataDir(f.dir)
	first, err := f.firstEntries(d)
	if err != nil {
		return err
	}
	cleanup, err := makeDataDir(d)
	if err != nil {
		return err
	}
	logger := f.logging.logger(stderr)
	vkey, err := initDataDir(ctx, d, f.origin, f.storage, logger)
	if err == nil {
		err = first.write(ctx, d, logger)
	}
	if err != nil {
		cleanup()
		first.undo()
		return err
	}
	fmt.Fprintf(stdout, "created a log in %s\norigin: %s\nvkey: %s\n", d, f.origin, vkey)
	fmt.Fprint(stdout, first.summary)
	fmt.Fprintf(stdout, "The log key %s is secret and is not in backups: keep a copy offline.\n", d.keyFile())
	if g, err := genesisOf(first.entries[0], f.origin); err == nil {
		fmt.Fprint(stdout, registrarLine(g.ID(), d))
	}
	return nil
}

// initFlags are the flags of init.
type initFlags struct {
	dir, origin  string
	logging      logFlags
	demo         bool
	demoSeed     string
	registrarOut string
	registrarPub string
	genesis      string
	storage      storageFlags
}

func parseInit(args []string, stderr io.Writer) (*initFlags, error) {
	f := &initFlags{}
	fl := newFlags("init", "--data DIR --origin ORIGIN (--registrar-key-out FILE | --registrar-pub FILE --genesis FILE | --demo)", stderr)
	fl.StringVar(&f.dir, "data", "./pledgelog-data", "the data directory to create (it must not exist or be empty)")
	fl.StringVar(&f.origin, "origin", "", "the log's origin, its name in checkpoints, e.g. log.example.org/pledges")
	f.logging.register(fl)
	f.storage.register(fl, "where to store the log")
	fl.StringVar(&f.registrarOut, "registrar-key-out", "", "generate the registrar key into this new file, outside the data directory, and log its genesis")
	fl.StringVar(&f.registrarPub, "registrar-pub", "", "the registrar's public key (PEM), with --genesis")
	fl.StringVar(&f.genesis, "genesis", "", "the genesis envelope (JSON), signed offline by the registrar key")
	fl.BoolVar(&f.demo, "demo", false, "build the demo log (the Tech Accord and 34 signatories, demo data), keeping its registrar key in the data directory")
	fl.StringVar(&f.demoSeed, "demo-seed", "", "with --demo: derive the demo's keys from this seed (default: random)")
	if err := parse(fl, args); err != nil {
		return nil, err
	}
	if err := checkOrigin(f.origin); err != nil {
		return nil, usageError{Err: err}
	}
	if f.storage.dsnFile != "" && f.storage.kind != kindPostgres {
		return nil, usageError{Err: errors.New("--postgres-dsn-file needs --storage postgres")}
	}
	if f.storage.kind == kindPostgres {
		if _, err := (storageConfig{kind: kindPostgres, dsnFile: f.storage.dsnFile}).dsn(); err != nil {
			return nil, err
		}
	}
	modes := 0
	for _, on := range []bool{f.demo, f.registrarOut != "", f.registrarPub != "" || f.genesis != ""} {
		if on {
			modes++
		}
	}
	if modes != 1 || (f.registrarPub == "") != (f.genesis == "") {
		return nil, usageError{Err: errors.New("give one of --registrar-key-out FILE, --registrar-pub FILE with --genesis FILE, or --demo")}
	}
	return f, nil
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
	if err := os.Chmod(string(d), 0o700); err != nil { // serve refuses it otherwise
		return nil, fmt.Errorf("--data %s: %w", d, err)
	}
	return func() {
		entries, _ := os.ReadDir(string(d))
		for _, e := range entries {
			os.RemoveAll(filepath.Join(string(d), e.Name()))
		}
	}, nil
}

// initDataDir fills the empty directory d, creates the log's storage as
// sf says, and returns the log's vkey.
func initDataDir(ctx context.Context, d dataDir, origin string, sf storageFlags, logger *slog.Logger) (string, error) {
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
	sc := storageConfig{kind: cmp.Or(sf.kind, kindPebble)}
	if sf.dsnFile != "" {
		if sc.dsnFile, err = filepath.Abs(sf.dsnFile); err != nil {
			return "", err
		}
	}
	if err := d.writeStorage(sc); err != nil {
		return "", err
	}
	st, err := d.createStorage(ctx, sc, logger)
	if err != nil {
		return "", err
	}
	defer st.Close()
	l, err := log.Create(ctx, log.Config{Origin: origin, Signer: signer, Storage: st, Logger: logger})
	if errors.Is(err, log.ErrExists) && sc.kind == kindPostgres {
		return "", fmt.Errorf("the PostgreSQL database already holds a log: to serve it from another machine, copy the data directory of its init there; to make another log, use another database (%w)", err)
	} else if err != nil {
		return "", err
	}
	return l.VerifierKey(), st.Close()
}
