package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/web"
	"golang.org/x/sync/errgroup"
)

// benchOrigin is the origin of the bench's log.
const benchOrigin = "localhost/bench"

// benchFlags are the flags of bench.
type benchFlags struct {
	signatories, entries, batch, concurrency int
	rate                                     float64
	raw, json                                bool
	publish                                  time.Duration
	dir, cpuProfile, memProfile              string
	soak                                     soakFlags
	wit                                      witnessFlags
}

func parseBench(args []string, stderr io.Writer) (*benchFlags, error) {
	f := &benchFlags{}
	fl := newFlags("bench", "[--rate R | --concurrency N] [--batch B] [--entries N] [--raw]", stderr)
	fl.IntVar(&f.signatories, "signatories", 16, "signatories to register (K)")
	fl.IntVar(&f.entries, "entries", 20000, "attestations to pre-sign and submit (N)")
	fl.IntVar(&f.batch, "batch", 1, "envelopes per request: 1 for POST /api/v1/entries, up to 256 for /api/v1/entries/batch")
	fl.Float64Var(&f.rate, "rate", 0, "offered requests per second, open loop (0: flat out, closed loop)")
	fl.IntVar(&f.concurrency, "concurrency", 128, "flat out: requests in flight")
	fl.BoolVar(&f.raw, "raw", false, "drive the bare raw-append handler (web.NewRaw: no parsing, auth or verification) instead of the API")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	fl.DurationVar(&f.publish, "publish-interval", time.Second, "the server's publish interval")
	fl.StringVar(&f.dir, "data", "", "the data directory to create (default: a temporary one, removed afterwards)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the load phase (server and load generator) to this file")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile (live objects, after a GC) at the end of the load phase, server still open, to this file")
	addSoakFlags(fl, &f.soak)
	addWitnessFlags(fl, &f.wit)
	if err := parse(fl, args); err != nil {
		return nil, err
	}
	if err := errors.Join(f.soak.check(), f.wit.check(f)); err != nil {
		return nil, err
	}
	switch {
	case f.signatories < 1 || f.entries < 1:
		return nil, usageError{Err: errors.New("--signatories and --entries must be positive")}
	case f.batch < 1 || f.batch > api.MaxBatch:
		return nil, usageError{Err: fmt.Errorf("--batch %d: want 1 to %d", f.batch, api.MaxBatch)}
	case f.rate < 0 || f.concurrency < 1:
		return nil, usageError{Err: errors.New("--rate must be ≥ 0 and --concurrency ≥ 1")}
	case f.raw && f.batch != 1:
		return nil, usageError{Err: errors.New("--raw takes one entry per request: drop --batch")}
	}
	return f, nil
}

// runBench creates a demo log in process, serves it on loopback with the
// rate limits off, registers K signatories through the API, pre-signs N
// pledges and drives the write API with them; see docs/performance.md.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseBench(args, stderr)
	if err != nil {
		return err
	}
	switch {
	case f.soak.duration > 0:
		return runSoak(ctx, f, stdout, stderr)
	case f.wit.n > 0:
		return runWitnessBench(ctx, f, stdout, stderr)
	}
	rep := &benchReport{GOMAXPROCS: runtime.GOMAXPROCS(0), Batch: f.batch, Rate: f.rate, Raw: f.raw,
		Limits: "per-IP and per-signatory rate limits off (web.Limit{Rate: -1})", PublishInterval: f.publish.String()}
	rep.VerifyMicros, rep.C = measureC()
	fmt.Fprintf(stderr, "C = %d CPUs / %.1f µs per Ed25519 verify = %.0f verifications/s\n", rep.GOMAXPROCS, rep.VerifyMicros, rep.C)
	dir := f.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "pledgelog-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "data")
	}
	if err := runInit(ctx, []string{"--demo", "--data", dir, "--origin", benchOrigin}, io.Discard, stderr); err != nil {
		return err
	}
	if err := benchServe(ctx, f, dataDir(dir), rep, stderr); err != nil {
		return err
	}
	rep.PeakRSSMiB = peakRSS()
	_, rep.CAfter = measureC() // the machine may be shared: say if it changed
	return rep.print(stdout, f.json)
}

// measureC times Ed25519 verification alone, on one goroutine, and
// returns µs per verify and C = GOMAXPROCS ÷ that time.
func measureC() (float64, float64) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 512)
	sig := ed25519.Sign(priv, msg)
	const n = 4000
	start := time.Now()
	for range n {
		ed25519.Verify(pub, msg, sig)
	}
	per := time.Since(start).Seconds() / n
	return per * 1e6, float64(runtime.GOMAXPROCS(0)) / per
}

// benchServe serves the log in d on loopback and runs the load against it.
func benchServe(ctx context.Context, f *benchFlags, d dataDir, rep *benchReport, stderr io.Writer) error {
	cfg := log.Config{Logger: newLogger(stderr, slog.LevelError), PublishInterval: f.publish}
	l, st, h, err := benchHandler(ctx, f, d, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := l.Run(gctx); !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		defer cancel()
		defer hs.Close()
		return load(gctx, f, d, "http://"+ln.Addr().String(), rep, stderr)
	})
	return g.Wait()
}

// benchHandler opens the log in d and returns the handler under test: the
// API with its rate limits off, or with --raw the bare append handler on
// the log without attestation hooks.
func benchHandler(ctx context.Context, f *benchFlags, d dataDir, cfg log.Config) (*log.Log, *pebble.Storage, http.Handler, error) {
	if f.raw {
		l, st, err := openLog(ctx, d, d.db(), cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		return l, st, web.NewRaw(l), nil
	}
	al, st, err := openAttestLog(ctx, d, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	l := al.Log()
	off := web.Limit{Rate: -1}
	srv, err := web.New(web.Config{Attest: al, Logger: cfg.Logger, IPLimit: off, SignatoryLimit: off, ReadLimit: off})
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return l, st, srv.Handler(), nil
}
