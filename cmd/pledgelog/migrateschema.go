package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// runMigrateSchema applies to the PostgreSQL schema of a log the embedded
// migrations it lacks, each in the transaction that records it, under the
// advisory lock that instances starting at once take: serve refuses a
// schema older than this build's until then.
func runMigrateSchema(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("migrate-schema", "--data DIR", stderr)
	dir := fl.String("data", "./pledgelog-data", "the data directory of the log (on PostgreSQL)")
	var sf storageFlags
	sf.register(fl, "where the log is stored (postgres)")
	var logging logFlags
	logging.register(fl)
	if err := parse(fl, args); err != nil {
		return err
	}
	d, logger := dataDir(*dir), logging.logger(stderr)
	if _, err := d.readOrigin(); err != nil {
		return err
	}
	c, err := sf.resolve(d)
	if err != nil {
		return err
	}
	if c.kind != kindPostgres {
		return errors.New("the log of " + string(d) + " is not on PostgreSQL: its Pebble store needs no schema migration")
	}
	st, err := openPostgres(ctx, d, c, false, true, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	from, to := st.Migrated()
	if from == to {
		fmt.Fprintf(stdout, "schema %q is at version %d, the latest this pledgelog knows: nothing to do\n", st.Schema(), to)
		return nil
	}
	fmt.Fprintf(stdout, "migrated schema %q from version %d to %d\n", st.Schema(), from, to)
	return nil
}
