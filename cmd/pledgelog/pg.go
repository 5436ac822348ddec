package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/log/storage/postgres"
)

// A log is stored in Pebble, in the data directory's db/, or in
// PostgreSQL. A data directory of a log on PostgreSQL holds, besides its
// keys and origin, the file storage:
//
//	postgres
//	dsn-file /etc/pledgelog/postgres-dsn    (optional: init's --postgres-dsn-file)
//
// and no db/. The connection string (DSN) is never given on the command
// line, where other users of the machine see it: it comes from the file
// named by --postgres-dsn-file, else from $PLEDGELOG_POSTGRES_DSN, else
// from the file that init recorded. It is passed to pgx as it is, so a
// multi-host DSN with target_session_attrs=read-write reaches the primary
// of the hosts it names.

// dsnEnv is the environment variable holding the PostgreSQL connection
// string.
const dsnEnv = "PLEDGELOG_POSTGRES_DSN"

// Storage kinds.
const (
	kindPebble   = "pebble"
	kindPostgres = "postgres"
)

func (d dataDir) storageFile() string { return d.path("storage") }

// storageConfig is what the storage file of a data directory says.
type storageConfig struct {
	kind    string // kindPebble or kindPostgres
	dsnFile string // the DSN file init recorded or the flag names, or ""
	// envFirst is set when dsnFile is the recorded one, which
	// $PLEDGELOG_POSTGRES_DSN overrides.
	envFirst bool
}

// readStorage reads the storage file of d: Pebble if there is none.
func (d dataDir) readStorage() (storageConfig, error) {
	b, err := os.ReadFile(d.storageFile())
	if errors.Is(err, fs.ErrNotExist) {
		return storageConfig{kind: kindPebble}, nil
	} else if err != nil {
		return storageConfig{}, fmt.Errorf("reading %s: %w", d.storageFile(), err)
	}
	var c storageConfig
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		key, value, _ := strings.Cut(text, " ")
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
		case line == 1 && (text == kindPostgres || text == kindPebble):
			c.kind = text
		case key == "dsn-file" && strings.TrimSpace(value) != "":
			c.dsnFile, c.envFirst = strings.TrimSpace(value), true
		default:
			return storageConfig{}, fmt.Errorf("%s line %d: %q: want %q on the first line, then \"dsn-file FILE\"", d.storageFile(), line, text, kindPostgres)
		}
	}
	if c.kind == "" {
		return storageConfig{}, fmt.Errorf("%s: the first line must name the storage (%s)", d.storageFile(), kindPostgres)
	}
	return c, nil
}

// writeStorage records in d that its log is on PostgreSQL.
func (d dataDir) writeStorage(c storageConfig) error {
	if c.kind == kindPebble {
		return nil
	}
	data := c.kind + "\n"
	if c.dsnFile != "" {
		data += "dsn-file " + c.dsnFile + "\n"
	}
	return os.WriteFile(d.storageFile(), []byte(data), 0o644)
}

// storageFlags are --storage and --postgres-dsn-file, of the commands
// that open a log's storage from their flags.
type storageFlags struct {
	kind    string // "" means: what the data directory says
	dsnFile string
}

func (f *storageFlags) register(fl *flag.FlagSet, what string) {
	fl.Func("storage", what+": pebble (in the data directory) or postgres (default: what the data directory says)", func(s string) error {
		if s != kindPebble && s != kindPostgres {
			return fmt.Errorf("%q is not pebble or postgres", s)
		}
		f.kind = s
		return nil
	})
	fl.StringVar(&f.dsnFile, "postgres-dsn-file", "", "with --storage postgres: the file holding the connection string (URL or key=value, several hosts allowed); default: $"+dsnEnv+" (never on the command line)")
}

// resolve returns the storage of the log in d, the flags overriding what
// d says, and refusing a --storage that contradicts it.
func (f *storageFlags) resolve(d dataDir) (storageConfig, error) {
	c, err := d.readStorage()
	if err != nil {
		return c, err
	}
	if f.kind != "" && f.kind != c.kind {
		return c, fmt.Errorf("--storage %s: the log in %s is stored in %s (%s)", f.kind, d, c.kind, c.where(d))
	}
	if f.dsnFile != "" {
		if c.kind != kindPostgres {
			return c, usageError{Err: errors.New("--postgres-dsn-file needs --storage postgres")}
		}
		c.dsnFile = f.dsnFile
		c.envFirst = false
	}
	return c, nil
}

// where says where the log of c is, for messages.
func (c storageConfig) where(d dataDir) string {
	if c.kind == kindPostgres {
		return "see " + d.storageFile()
	}
	return d.db()
}

// dsn returns the connection string: from the file given by flag (c.dsnFile
// with envFirst false), else from $PLEDGELOG_POSTGRES_DSN, else from the
// file init recorded.
func (c storageConfig) dsn() (string, error) {
	file := c.dsnFile
	if env := os.Getenv(dsnEnv); env != "" && (c.envFirst || file == "") {
		return env, nil
	}
	if file == "" {
		return "", usageError{Err: fmt.Errorf("the log is on PostgreSQL: give its connection string in $%s or in a file named by --postgres-dsn-file (never on the command line)", dsnEnv)}
	}
	if err := private("--postgres-dsn-file", file); err != nil {
		return "", err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--postgres-dsn-file: %w", err)
	}
	dsn := strings.TrimSpace(string(b))
	if dsn == "" || strings.Contains(dsn, "\n") {
		return "", fmt.Errorf("--postgres-dsn-file %s: want the connection string on one line", file)
	}
	return dsn, nil
}

// openPostgres opens the log's schema on PostgreSQL: it must exist (init
// makes it), at the version this build knows, unless migrate.
func openPostgres(ctx context.Context, d dataDir, c storageConfig, create, migrate bool, logger *slog.Logger) (*postgres.Storage, error) {
	dsn, err := c.dsn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := postgres.Open(ctx, dsn, postgres.Options{Logger: logger, MustExist: !create, Migrate: migrate})
	return st, explainPostgres(d, err)
}

// explainPostgres says what to do about an error of postgres.Open.
func explainPostgres(d dataDir, err error) error {
	var se *postgres.SchemaError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Have > se.Want:
		return fmt.Errorf("the database's schema %q is at version %d, newer than this pledgelog knows (versions 1 to %d): run a newer pledgelog (%w)", se.Schema, se.Have, se.Want, err)
	case errors.As(err, &se):
		return fmt.Errorf("the database's schema %q is at version %d, this pledgelog needs version %d: back the database up, then run pledgelog migrate-schema --data %s (%w)", se.Schema, se.Have, se.Want, d, err)
	case errors.Is(err, postgres.ErrNoSchema):
		return fmt.Errorf("the database holds no pledgelog log: wrong connection string, or create the log with pledgelog init --storage postgres (%w)", err)
	}
	return err
}

// openStorage opens the storage of the log of d that db names: the
// Pebble store in db, or, if db is d's own store and d's log is on
// PostgreSQL, its schema there.
func (d dataDir) openStorage(ctx context.Context, db string, c storageConfig, logger *slog.Logger) (log.Storage, error) {
	if c.kind == kindPostgres && db == d.db() {
		return openPostgres(ctx, d, c, false, false, logger)
	}
	return openStore(db, logger)
}

// createStorage creates the empty storage of a new log in d.
func (d dataDir) createStorage(ctx context.Context, c storageConfig, logger *slog.Logger) (log.Storage, error) {
	if c.kind == kindPostgres {
		return openPostgres(ctx, d, c, true, false, logger)
	}
	return pebble.Create(d.db(), pebble.Options{Logger: logger})
}

// onPostgres refuses, for commands that work on a Pebble store only, a
// data directory whose log is on PostgreSQL.
func onPostgres(dir, what string) error {
	d := dataDir(filepath.Dir(dir))
	if filepath.Base(dir) != "db" {
		return nil
	}
	if c, err := d.readStorage(); err == nil && c.kind == kindPostgres {
		return fmt.Errorf("the log of %s is on PostgreSQL: %s", d, what)
	}
	return nil
}
