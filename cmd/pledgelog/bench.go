package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/internal/loadgen"
	"github.com/pledgelog/pledgelog/log"
)

// runBench load-tests the write API with internal/loadgen, on demo logs
// in data directories made by init --demo; see docs/performance.md.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, reads, peers, err := parseBench(args, stderr)
	if err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, slog.LevelError)
	cfg.Init, cfg.LogConfig = initBenchLog, benchLogConfig
	if reads.on {
		return runBenchReads(ctx, cfg, reads, stdout, stderr)
	}
	if peers.dir != "" {
		return runBenchPeers(ctx, cfg, peers, stdout, stderr)
	}
	if cfg.Soak > 0 || cfg.Witnesses > 0 {
		if cfg.Serve, err = os.Executable(); err != nil { // they serve the logs with this very binary
			return err
		}
	}
	if cfg.Witnesses > 0 {
		if cfg.VerifyBinary, err = findVerifyBinary(cfg.VerifyBinary); err != nil {
			return err
		}
	}
	return loadgen.Run(ctx, *cfg, stdout, stderr)
}

func parseBench(args []string, stderr io.Writer) (*loadgen.Config, *readsFlags, *peersFlags, error) {
	f, reads, peers := &loadgen.Config{}, &readsFlags{}, &peersFlags{}
	fl := newFlags("bench", "[--rate R | --concurrency N] [--batch B] [--entries N] [--raw | --reads | --peers DIR]", stderr)
	fl.IntVar(&f.Signatories, "signatories", 16, "signatories to register (K)")
	fl.IntVar(&f.Entries, "entries", 20000, "attestations to pre-sign and submit (N)")
	fl.IntVar(&f.Batch, "batch", 1, "envelopes per request: 1 for POST /api/v1/entries, up to 256 for /api/v1/entries/batch")
	fl.Float64Var(&f.Rate, "rate", 0, "offered requests per second, open loop (0: flat out, closed loop)")
	fl.IntVar(&f.Concurrency, "concurrency", 128, "flat out: requests in flight")
	fl.BoolVar(&f.Raw, "raw", false, "drive the bare raw-append handler (web.NewRaw: no parsing, auth or verification) instead of the API")
	fl.BoolVar(&f.JSON, "json", false, "print the report as JSON")
	fl.DurationVar(&f.Publish, "publish-interval", time.Second, "the server's publish interval")
	fl.StringVar(&f.Dir, "data", "", "the data directory to create (default: a temporary one, removed afterwards)")
	fl.StringVar(&f.CPUProfile, "cpuprofile", "", "write a CPU profile of the load phase (server and load generator) to this file")
	fl.StringVar(&f.MemProfile, "memprofile", "", "write a heap profile (live objects, after a GC) at the end of the load phase, server still open, to this file")

	fl.DurationVar(&f.Soak, "soak", 0, "run a soak this long against a pledgelog serve process instead (0: no soak)")
	fl.Float64Var(&f.SoakRate, "soak-rate", 0, "soak: writes per second (0: half the maximum measured first)")
	fl.DurationVar(&f.SoakMaxFor, "soak-max-for", 20*time.Second, "soak: how long to measure the maximum write rate, flat out")
	fl.DurationVar(&f.SoakInterval, "soak-interval", 10*time.Second, "soak: the sampling interval")
	fl.IntVar(&f.SoakReaders, "soak-readers", 4, "soak: concurrent readers (each reads /checkpoint, a tile, an entry bundle and / in turn)")
	fl.DurationVar(&f.SoakReadPause, "soak-read-pause", 100*time.Millisecond, "soak: each reader's pause between two rounds of reads")
	fl.StringVar(&f.SoakPlot, "soak-plot", "", "soak: write a PNG plot of latency and RSS over time to this file")

	fl.IntVar(&f.Witnesses, "witnesses", 0, "compare with a log cosigned by this many pledge-verify witness processes (majority quorum), alternating rounds of --entries each")
	fl.IntVar(&f.WitnessRounds, "witness-rounds", 3, "--witnesses: rounds, each one run flat out on either log (the order alternating)")
	fl.Var(urlsFlag{&f.URLs}, "url", "drive the servers already running at these URLs (comma-separated: instances of one log), spreading the requests over them, instead of a log served in process")
	fl.StringVar(&f.RegistrarKey, "registrar-key", "", "--url: the file of the log's registrar key (a demo log's: DIR/demo-registrar-key.pem), which registers the bench's signatories")
	fl.StringVar(&f.VerifyBinary, "verify-binary", "", "--witnesses: the pledge-verify binary (default: beside pledgelog, else on PATH)")
	fl.DurationVar(&f.WitnessLatencyFor, "witness-latency-for", 30*time.Second, "--witnesses: how long to write at half the maximum while timing commit → checkpoint")
	fl.DurationVar(&f.WitnessPoll, "witness-poll", 10*time.Millisecond, "--witnesses: how often /checkpoint is read while timing")
	reads.register(fl)
	peers.register(fl)
	if err := parse(fl, args); err != nil {
		return nil, nil, nil, err
	}
	if err := errors.Join(checkSoak(f), checkWitnesses(f), checkURLs(f), reads.check(fl, f), peers.check(fl, f, reads)); err != nil {
		return nil, nil, nil, err
	}
	switch {
	case f.Signatories < 1 || f.Entries < 1:
		return nil, nil, nil, usageError{Err: errors.New("--signatories and --entries must be positive")}
	case f.Batch < 1 || f.Batch > api.MaxBatch:
		return nil, nil, nil, usageError{Err: fmt.Errorf("--batch %d: want 1 to %d", f.Batch, api.MaxBatch)}
	case f.Rate < 0 || f.Concurrency < 1:
		return nil, nil, nil, usageError{Err: errors.New("--rate must be ≥ 0 and --concurrency ≥ 1")}
	case f.Raw && f.Batch != 1:
		return nil, nil, nil, usageError{Err: errors.New("--raw takes one entry per request: drop --batch")}
	}
	return f, reads, peers, nil
}

// urlsFlag is bench's --url: comma-separated server URLs. It is given on
// the command line only, never by PLEDGELOG_URL, which names the log of
// the client commands: a bench must not leave its own process because the
// shell points the clients at a server.
type urlsFlag struct{ urls *[]string }

func (u urlsFlag) CommandLineOnly() {}

func (u urlsFlag) String() string {
	if u.urls == nil {
		return ""
	}
	return strings.Join(*u.urls, ",")
}

func (u urlsFlag) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		s = strings.TrimSuffix(strings.TrimSpace(s), "/")
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			return fmt.Errorf("%q is not an http:// or https:// URL", s)
		}
		*u.urls = append(*u.urls, s)
	}
	return nil
}

func checkSoak(f *loadgen.Config) error {
	switch {
	case f.Soak < 0 || f.SoakRate < 0 || f.SoakReaders < 0 || f.SoakReadPause < 0:
		return usageError{Err: errors.New("--soak, --soak-rate, --soak-readers and --soak-read-pause must not be negative")}
	case f.Soak > 0 && (f.SoakInterval <= 0 || f.SoakMaxFor <= 0):
		return usageError{Err: errors.New("--soak-interval and --soak-max-for must be positive")}
	}
	return nil
}

func checkURLs(f *loadgen.Config) error {
	switch {
	case len(f.URLs) == 0 && f.RegistrarKey != "":
		return usageError{Err: errors.New("--registrar-key goes with --url")}
	case len(f.URLs) == 0:
		return nil
	case f.RegistrarKey == "":
		return usageError{Err: errors.New("--url needs --registrar-key FILE, the log's registrar key, to register the bench's signatories")}
	case f.Raw || f.Soak > 0 || f.Witnesses > 0 || f.Dir != "" || f.CPUProfile != "" || f.MemProfile != "":
		return usageError{Err: errors.New("--url drives running servers: drop --raw, --soak, --witnesses, --data and the profiles")}
	}
	return nil
}

func checkWitnesses(f *loadgen.Config) error {
	switch {
	case f.Witnesses < 0 || f.Witnesses > 16:
		return usageError{Err: fmt.Errorf("--witnesses %d: want 0 to 16", f.Witnesses)}
	case f.Witnesses > 0 && (f.WitnessRounds < 1 || f.WitnessLatencyFor <= 0 || f.WitnessPoll <= 0):
		return usageError{Err: errors.New("--witness-rounds, --witness-latency-for and --witness-poll must be positive")}
	case f.Witnesses > 0 && (f.Raw || f.Batch != 1 || f.Rate != 0):
		return usageError{Err: errors.New("--witnesses drives single requests flat out: drop --raw, --batch and --rate")}
	}
	return nil
}

// initBenchLog creates a demo log in dir with init --demo and returns its
// vkey and its registrar key file: loadgen.Config.Init.
func initBenchLog(ctx context.Context, dir, origin string, stderr io.Writer) (vkey, registrarKey string, err error) {
	var out bytes.Buffer
	if err := runInit(ctx, []string{"--demo", "--data", dir, "--origin", origin}, &out, stderr); err != nil {
		return "", "", err
	}
	_, vkey, _ = strings.Cut(out.String(), "vkey: ")
	return strings.TrimSpace(strings.SplitN(vkey, "\n", 2)[0]), dataDir(dir).demoKeyFile(), nil
}

// benchLogConfig completes cfg with the origin, keys and store of the
// data directory dir: loadgen.Config.LogConfig.
func benchLogConfig(dir string, cfg log.Config) (log.Config, io.Closer, error) {
	d := dataDir(dir)
	cfg, st, err := logConfig(d, d.db(), cfg)
	if err != nil {
		return cfg, nil, err
	}
	return cfg, st, nil
}

// findVerifyBinary returns the pledge-verify binary to run witnesses
// with: flag if given, else the one beside this binary (make build puts
// both in bin/), else the one on PATH.
func findVerifyBinary(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "pledge-verify")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("pledge-verify"); err == nil {
		return p, nil
	}
	return "", usageError{Err: errors.New("--witnesses needs the pledge-verify binary, found neither beside pledgelog nor on PATH: run go build -o bin/ ./cmd/... and bin/pledgelog, or pass --verify-binary")}
}
