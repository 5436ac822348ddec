// Package loadgen is the load generator of pledgelog bench: it creates
// demo logs, drives their write API with pre-signed pledges and reports
// what the server sustained (docs/performance.md). Run runs one of four
// loads, as Config says:
//
//   - the bench (the default): the log served in this process on loopback
//     with its rate limits off, K signatories registered through the API
//     and N pledges sent to it, flat out or open loop, singly or in
//     batches, or with Raw to the bare append handler (web.NewRaw);
//   - the soak (Config.Soak > 0): a pledgelog serve process under writers
//     at half the maximum write rate measured first and concurrent
//     readers, sampled per interval (docs/reliability.md, "Soak");
//   - the remote bench (Config.URLs): servers already running, the
//     requests spread over them (remote.go);
//   - the witnessed bench (Config.Witnesses > 0): two pledgelog serve
//     processes, one cosigned by real pledge-verify witness processes, in
//     alternating flat-out rounds, then the time from each write's 201 to
//     a checkpoint that covers it (docs/performance.md, "Witnessed writes").
//
// Run prints the report to stdout, as text or JSON, and its progress to
// stderr. The data directory is the command's: Run creates and opens logs
// only through Config.Init and Config.LogConfig, and serves them in
// processes with Config.Serve. It checks no limits of its own: the
// command validates Config (its flags) first.
package loadgen

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

	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/web"
	"golang.org/x/sync/errgroup"
)

// benchOrigin is the origin of the bench's logs.
const benchOrigin = "localhost/bench"

// Config is a load: bench's flags (docs/performance.md names them), and
// what creates, opens and serves the logs under load.
type Config struct {
	Signatories int           // K, the signatories to register
	Entries     int           // N, the pledges to pre-sign and send (per round, with Witnesses)
	Batch       int           // envelopes per request: 1 for POST /api/v1/entries, up to api.MaxBatch for the batch endpoint
	Rate        float64       // requests per second offered, open loop; 0: flat out, closed loop
	Concurrency int           // flat out: the requests in flight
	Raw         bool          // drive web.NewRaw (no parsing, auth or verification) instead of the API
	JSON        bool          // print the report as JSON
	Publish     time.Duration // the server's publish interval
	Dir         string        // the data directory to create; "": one in a temporary directory, removed afterwards
	CPUProfile  string        // the bench: write a CPU profile of the load phase to this file
	MemProfile  string        // the bench: write a heap profile at the end of the load phase to this file

	Soak          time.Duration // > 0: soak a pledgelog serve process this long instead
	SoakRate      float64       // writes per second; 0: half the maximum, measured for SoakMaxFor
	SoakMaxFor    time.Duration // how long to measure the maximum, flat out with Concurrency in flight
	SoakInterval  time.Duration // the sampling interval
	SoakReaders   int           // concurrent readers
	SoakReadPause time.Duration // each reader's pause between two rounds of reads
	SoakPlot      string        // write a PNG plot of latency and memory over time to this file

	Witnesses         int           // > 0: compare with a log cosigned by this many witnesses (majority quorum) instead
	WitnessRounds     int           // rounds, each one flat-out run of Entries on either log
	WitnessLatencyFor time.Duration // how long to write at half the maximum while timing commit → checkpoint
	WitnessPoll       time.Duration // how often /checkpoint is read while timing
	VerifyBinary      string        // the pledge-verify binary the witnesses run

	URLs         []string // not empty: drive the servers running at these URLs instead (remote.go)
	RegistrarKey string   // with URLs: the file of the log's registrar key, which registers the bench's signatories

	// Logger logs the in-process server's log.
	Logger *slog.Logger
	// Init creates a demo log with origin in dir, which must not exist
	// (pledgelog init --demo), and returns its vkey and the file holding
	// the demo's registrar key.
	Init func(ctx context.Context, dir, origin string, stderr io.Writer) (vkey, registrarKey string, err error)
	// LogConfig completes cfg with the origin, keys and store of the log
	// Init created in dir, and returns the store to close.
	LogConfig func(dir string, cfg log.Config) (log.Config, io.Closer, error)
	// Serve is the pledgelog binary, whose serve command serves the logs
	// of the soak and of the witnessed bench.
	Serve string
}

// demoLog is a demo log Init created.
type demoLog struct {
	dir, vkey, registrarKey string
}

// initLog creates a demo log in dir.
func initLog(ctx context.Context, cfg *Config, dir string, stderr io.Writer) (*demoLog, error) {
	vkey, key, err := cfg.Init(ctx, dir, benchOrigin, stderr)
	if err != nil {
		return nil, err
	}
	return &demoLog{dir: dir, vkey: vkey, registrarKey: key}, nil
}

// Run runs the load cfg describes; see the package comment.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	switch {
	case len(cfg.URLs) > 0:
		return runRemote(ctx, &cfg, stdout, stderr)
	case cfg.Soak > 0:
		return runSoak(ctx, &cfg, stdout, stderr)
	case cfg.Witnesses > 0:
		return runWitnessBench(ctx, &cfg, stdout, stderr)
	}
	return runBench(ctx, &cfg, stdout, stderr)
}

// runBench creates a demo log in process, serves it on loopback with the
// rate limits off, registers K signatories through the API, pre-signs N
// pledges and drives the write API with them.
func runBench(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	rep := &benchReport{GOMAXPROCS: runtime.GOMAXPROCS(0), Batch: cfg.Batch, Rate: cfg.Rate, Raw: cfg.Raw,
		Limits: "per-IP and per-signatory rate limits off (web.Limit{Rate: -1})", PublishInterval: cfg.Publish.String()}
	rep.VerifyMicros, rep.C = measureC()
	fmt.Fprintf(stderr, "C = %d CPUs / %.1f µs per Ed25519 verify = %.0f verifications/s\n", rep.GOMAXPROCS, rep.VerifyMicros, rep.C)
	dir, cleanup, err := benchDir(cfg.Dir)
	if err != nil {
		return err
	}
	defer cleanup()
	d, err := initLog(ctx, cfg, dir, stderr)
	if err != nil {
		return err
	}
	if err := benchServe(ctx, cfg, d, rep, stderr); err != nil {
		return err
	}
	rep.PeakRSSMiB = peakRSS()
	_, rep.CAfter = measureC() // the machine may be shared: say if it changed
	return rep.print(stdout, cfg.JSON)
}

// benchDir returns the data directory to create, dir or one in a new
// temporary directory, and what removes the temporary one.
func benchDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "pledgelog-bench")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(tmp, "data"), func() { os.RemoveAll(tmp) }, nil
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

// newHTTPClient returns the load's HTTP client: connections enough for
// every request in flight, and no compression.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096, MaxIdleConns: 4096, DisableCompression: true}}
}

// benchServe serves the log d on loopback and runs the load against it.
func benchServe(ctx context.Context, cfg *Config, d *demoLog, rep *benchReport, stderr io.Writer) error {
	l, st, h, err := benchHandler(ctx, cfg, d.dir, log.Config{Logger: cfg.Logger, PublishInterval: cfg.Publish})
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
		return load(gctx, cfg, d, "http://"+ln.Addr().String(), rep, stderr)
	})
	return g.Wait()
}

// benchHandler opens the log in dir and returns the handler under test:
// the API with its rate limits off, or with Raw the bare append handler
// on the log without attestation hooks.
func benchHandler(ctx context.Context, cfg *Config, dir string, lc log.Config) (*log.Log, io.Closer, http.Handler, error) {
	lc, st, err := cfg.LogConfig(dir, lc)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.Raw {
		l, err := log.Open(ctx, lc)
		if err != nil {
			st.Close()
			return nil, nil, nil, fmt.Errorf("opening the log in %s: %w", dir, err)
		}
		return l, st, web.NewRaw(l), nil
	}
	al, err := attestlog.Open(ctx, lc)
	if err != nil {
		st.Close()
		return nil, nil, nil, fmt.Errorf("opening the log in %s: %w", dir, err)
	}
	off := web.Limit{Rate: -1}
	srv, err := web.New(web.Config{Attest: al, Logger: lc.Logger, IPLimit: off, SignatoryLimit: off, ReadLimit: off})
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return al.Log(), st, srv.Handler(), nil
}
