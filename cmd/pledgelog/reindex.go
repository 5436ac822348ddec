package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
)

// runReindex rebuilds the derived rows of a stopped log from its entries.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("reindex", "--data DIR", stderr)
	dir := fl.String("data", "./pledgelog-data", "the data directory of the log (stopped)")
	var logging logFlags
	logging.register(fl)
	if err := parse(fl, args); err != nil {
		return err
	}
	d, logger := dataDir(*dir), logging.logger(stderr)
	l, st, err := openLog(ctx, d, d.db(), log.Config{Logger: logger})
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	err = attestlog.Reindex(ctx, l, func(done, size uint64) {
		fmt.Fprintf(stderr, "reindex: %d/%d entries\n", done, size)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reindexed %d entries of %s in %v\n", l.Latest().Size, l.Origin(), time.Since(start).Round(time.Millisecond))
	return st.Close()
}
