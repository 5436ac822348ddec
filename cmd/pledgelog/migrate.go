package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// runMigrate copies a stopped log into a new data directory on the other
// storage: from Pebble onto PostgreSQL, or back. The new directory gets
// the old one's origin, keys and secrets; its store is made by appending
// the old log's entries, in index order, to a new log through the
// attestation hooks, so that its tiles, bundles, dedup keys and derived
// rows are those of the same entries. Then every entry, every tile, the
// derived rows and the root of every stored checkpoint are compared with
// the old log's, and the last checkpoints must be byte for byte the same.
// The old data directory is left as it was.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("migrate", "--from DIR --to NEWDIR [--storage postgres|pebble]", stderr)
	from := fl.String("from", "", "the data directory of the log to copy (stopped: every instance)")
	to := fl.String("to", "", "the new data directory (it must not exist or be empty)")
	var sf storageFlags
	sf.register(fl, "the new log's storage (default: PostgreSQL for a log on Pebble, Pebble for one on PostgreSQL)")
	var logging logFlags
	logging.register(fl)
	if err := parse(fl, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usageError{Err: errors.New("--from DIR and --to NEWDIR are required")}
	}
	src, dst, logger := dataDir(*from), dataDir(*to), logging.logger(stderr)
	if _, err := src.readOrigin(); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	sc, err := src.readStorage()
	if err != nil {
		return err
	}
	tc := storageConfig{kind: sf.kind}
	if tc.kind == "" {
		tc.kind = map[string]string{kindPebble: kindPostgres, kindPostgres: kindPebble}[sc.kind]
	}
	if tc.kind == sc.kind {
		return usageError{Err: fmt.Errorf("--storage %s: the log of %s is on %s already", tc.kind, src, sc.kind)}
	}
	if sf.dsnFile != "" {
		if tc.kind != kindPostgres {
			return usageError{Err: errors.New("--postgres-dsn-file names the new log's database: it needs --storage postgres")}
		}
		if tc.dsnFile, err = filepath.Abs(sf.dsnFile); err != nil {
			return err
		}
	}
	if tc.kind == kindPostgres {
		if _, err := tc.dsn(); err != nil {
			return err
		}
	}

	old, oldSt, err := openLog(ctx, src, src.db(), log.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer oldSt.Close()
	cleanup, err := makeDataDir(dst)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	start := time.Now()
	size, err := migrate(ctx, src, dst, tc, old, oldSt, stderr, logger)
	if err != nil {
		cleanup()
		return err
	}
	fmt.Fprintf(stdout, "migrated %s, %d entries, from %s (%s) to %s (%s) in %v: every entry, tile, derived row and checkpoint root verified\n",
		old.Origin(), size, src, sc.kind, dst, tc.kind, time.Since(start).Round(time.Millisecond))
	return nil
}

// migrateFiles are the files of a data directory that its copy gets.
var migrateFiles = []string{"origin", "log-key.pem", "log-key-new.pem", "admin-token", "demo-registrar-key.pem", "cosigned-checkpoint"}

// migrate copies the log old of src into the new data directory dst on
// storage tc and verifies the copy, saying how far it is on progress.
func migrate(ctx context.Context, src, dst dataDir, tc storageConfig, old *log.Log, oldSt log.Storage, progress io.Writer, logger *slog.Logger) (uint64, error) {
	for _, name := range migrateFiles {
		data, err := os.ReadFile(src.path(name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return 0, err
		}
		info, err := os.Stat(src.path(name))
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(dst.path(name), data, info.Mode().Perm()); err != nil {
			return 0, err
		}
	}
	if err := dst.writeStorage(tc); err != nil {
		return 0, err
	}
	cfg, err := keyConfig(dst, log.Config{Logger: logger})
	if err != nil {
		return 0, err
	}
	st, err := dst.createStorage(ctx, tc, logger)
	if err != nil {
		return 0, fmt.Errorf("--to: %w", err)
	}
	defer st.Close()
	cfg.Storage = st
	al, err := attestlog.Create(ctx, cfg)
	if errors.Is(err, log.ErrExists) {
		return 0, fmt.Errorf("--to: the new log's storage already holds a log: use an empty database (%w)", err)
	} else if err != nil {
		return 0, fmt.Errorf("--to: %w", err)
	}
	l := al.Log()
	size := old.Latest().Size
	if err := copyEntries(ctx, old, l, size, progress); err != nil {
		return 0, err
	}
	if err := verifyCopy(ctx, old, l, oldSt, st, progress); err != nil {
		return 0, err
	}
	return size, st.Close()
}

// copyEntries appends the entries of old below size to the empty log l,
// a bundle at a time, and wants each at its index.
func copyEntries(ctx context.Context, old, l *log.Log, size uint64, progress io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	err := func() error {
		last := time.Now()
		for index := uint64(0); index < size; {
			t := verify.TileForIndex(verify.EntriesLevel, index, size)
			data, err := old.ReadTile(ctx, t)
			if err != nil {
				return fmt.Errorf("--from: reading %s: %w", t.Path(), err)
			}
			entries, err := verify.ParseBundle(data)
			if err != nil {
				return fmt.Errorf("--from: %s: %w", t.Path(), err)
			}
			entries = entries[index%verify.TileWidth:]
			results, err := l.AppendBatch(ctx, entries)
			if err != nil {
				var ee *log.EntryError
				if errors.As(err, &ee) {
					return fmt.Errorf("entry %d is not admitted by the new log: %w", index+uint64(ee.Entry), ee.Err)
				}
				return fmt.Errorf("appending entries %d to %d: %w", index, index+uint64(len(entries))-1, err)
			}
			for i, r := range results {
				if r.Duplicate || r.Index != index+uint64(i) {
					return fmt.Errorf("entry %d was logged as %d (duplicate %v): the copy differs", index+uint64(i), r.Index, r.Duplicate)
				}
			}
			index += uint64(len(entries))
			if time.Since(last) >= time.Second || index == size {
				fmt.Fprintf(progress, "migrate: copied %d/%d entries\n", index, size)
				last = time.Now()
			}
		}
		return nil
	}()
	cancel()
	if runErr := <-done; err == nil && runErr != nil && !errors.Is(runErr, context.Canceled) {
		err = runErr
	}
	if err == nil && l.Latest().Size != size {
		err = fmt.Errorf("the new log has %d entries, want %d", l.Latest().Size, size)
	}
	return err
}

// verifyCopy compares the new log l with old, whose storages are oldSt and
// st: every entry bundle and hash tile, the derived rows, the root of every
// checkpoint old stored, and the last signed checkpoints.
func verifyCopy(ctx context.Context, old, l *log.Log, oldSt, st log.Storage, progress io.Writer) error {
	size := old.Latest().Size
	tiles := tilesOf(size)
	last := time.Now()
	for i, t := range tiles {
		a, err := old.ReadTile(ctx, t)
		if err != nil {
			return fmt.Errorf("--from: reading %s: %w", t.Path(), err)
		}
		b, err := l.ReadTile(ctx, t)
		if err != nil {
			return fmt.Errorf("--to: reading %s: %w", t.Path(), err)
		}
		if !bytes.Equal(a, b) {
			return fmt.Errorf("verifying the copy: %s differs", t.Path())
		}
		if time.Since(last) >= time.Second || i == len(tiles)-1 {
			fmt.Fprintf(progress, "migrate: verified %d/%d tiles and entry bundles\n", i+1, len(tiles))
			last = time.Now()
		}
	}
	for _, table := range attestlog.DerivedTables {
		n, err := sameRows(ctx, oldSt, st, table)
		if err != nil {
			return err
		}
		fmt.Fprintf(progress, "migrate: verified %d rows of table %s\n", n, table)
	}
	tr := verify.TileReaderFunc(l.ReadTile)
	n := 0
	for before := size + 1; ; {
		cps, err := oldSt.Checkpoints(ctx, before, 1000)
		if err != nil {
			return fmt.Errorf("--from: checkpoints: %w", err)
		}
		for _, signed := range cps {
			text, _, ok := bytes.Cut(signed, []byte("\n\n"))
			c, err := verify.ParseCheckpoint(append(text, '\n'))
			if !ok || err != nil {
				return fmt.Errorf("--from: a stored checkpoint: %w", err)
			}
			root, err := verify.TreeRoot(ctx, tr, c.Size)
			if err != nil {
				return fmt.Errorf("--to: the root at size %d: %w", c.Size, err)
			}
			if root != c.Root {
				return fmt.Errorf("verifying the copy: the root at size %d is not that of the checkpoint of %s", c.Size, old.Origin())
			}
			before, n = c.Size, n+1
		}
		if len(cps) < 1000 {
			break
		}
	}
	if !bytes.Equal(old.Latest().Checkpoint, l.Latest().Checkpoint) {
		return fmt.Errorf("verifying the copy: the last checkpoints differ:\n%s\n%s", old.Latest().Checkpoint, l.Latest().Checkpoint)
	}
	fmt.Fprintf(progress, "migrate: verified the roots of %d checkpoints; the last checkpoints are identical\n", n)
	return nil
}

// sameRows compares the rows of table in a and b, returning how many.
func sameRows(ctx context.Context, a, b log.Storage, table string) (int, error) {
	var start []byte
	n := 0
	for {
		ra, err := a.Rows(ctx, table, start, nil, 1000)
		if err != nil {
			return n, fmt.Errorf("--from: rows of %s: %w", table, err)
		}
		rb, err := b.Rows(ctx, table, start, nil, 1000)
		if err != nil {
			return n, fmt.Errorf("--to: rows of %s: %w", table, err)
		}
		if len(ra) != len(rb) {
			return n, fmt.Errorf("verifying the copy: table %s has %d rows from %x in the old log, %d in the new", table, len(ra), start, len(rb))
		}
		for i := range ra {
			if !bytes.Equal(ra[i].Key, rb[i].Key) || !bytes.Equal(ra[i].Value, rb[i].Value) {
				return n, fmt.Errorf("verifying the copy: table %s differs at key %x", table, ra[i].Key)
			}
		}
		n += len(ra)
		if len(ra) < 1000 {
			return n, nil
		}
		start = append(bytes.Clone(ra[len(ra)-1].Key), 0)
	}
}

// tilesOf lists every entry bundle and hash tile of a tree of size, at
// the widths a client reads them.
func tilesOf(size uint64) []verify.Tile {
	var tiles []verify.Tile
	add := func(level int, c uint64) {
		for n := uint64(0); n < c/verify.TileWidth; n++ {
			tiles = append(tiles, verify.Tile{Level: level, N: n, Width: verify.TileWidth})
		}
		if w := c % verify.TileWidth; w > 0 {
			tiles = append(tiles, verify.Tile{Level: level, N: c / verify.TileWidth, Width: int(w)})
		}
	}
	add(verify.EntriesLevel, size)
	for level, c := 0, size; c > 0; level, c = level+1, c>>verify.TileHeight {
		add(level, c)
	}
	return tiles
}
