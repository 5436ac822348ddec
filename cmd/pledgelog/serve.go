package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/internal/durable"

	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/log/storage/postgres"
	"github.com/pledgelog/pledgelog/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
)

// serveFlags are the flags of serve.
type serveFlags struct {
	dir, listen       string
	policy            string
	logging           logFlags
	publish, stale    time.Duration
	minFreeMiB        uint64
	ballastMiB        int64
	readTimeout       time.Duration
	writeTimeout      time.Duration
	shutdownTimeout   time.Duration
	ipLimit, sigLimit web.Limit
	readLimit         web.Limit
	maxBufferedMiB    int64
	publicURL         string
	idleTimeout       time.Duration
	maxConns          int
	maxConnsPerClient int
	tlsCert, tlsKey   string
	storage           storageFlags
	cpuProfile        string
}

func parseServe(args []string, stderr io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	fl := newFlags("serve", "--data DIR --listen ADDR", stderr)
	f.register(fl)
	f.storage.register(fl, "where the log is stored")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file, at exit (for performance work: docs/performance.md)")
	fl.StringVar(&f.policy, "policy", "", "the witness policy (c2sp.org/tlog-policy, witness lines with URLs): /checkpoint is published once its quorum cosigned (none: publish unwitnessed, with a warning)")
	if err := parse(fl, args); err != nil {
		return nil, err
	}
	return f, f.check()
}

// register defines serve's flags on fl, but --policy: pledgelog demo
// takes them too, and writes its own policy.
func (f *serveFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&f.dir, "data", "./pledgelog-data", "the data directory of the log (made by init)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "the address to serve HTTP on")
	f.logging.register(fl)
	fl.StringVar(&f.publicURL, "public-url", "", "the URL at which clients reach the log, shown in the pages' commands (default: http:// or https:// and the listen address)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file, reread on SIGHUP (with --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the PEM private key file of --tls-cert, reread on SIGHUP")
	fl.DurationVar(&f.publish, "publish-interval", time.Second, "the least time between two publications of /checkpoint")
	fl.DurationVar(&f.stale, "max-staleness", 30*time.Second, "how long committed entries may wait for publication before /readyz fails")
	fl.Uint64Var(&f.minFreeMiB, "min-free-mib", 256, "the free disk space, in MiB, below which appends are refused (503) and /readyz fails")
	fl.Int64Var(&f.ballastMiB, "ballast-mib", 64, "the MiB of the ballast file kept in the store, removed to let the store finish its writes if the disk fills anyway (0: none)")
	fl.DurationVar(&f.readTimeout, "read-timeout", 10*time.Second, "the time to read a request")
	fl.DurationVar(&f.writeTimeout, "write-timeout", 30*time.Second, "the time to write a response")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", 30*time.Second, "the time an idle keep-alive connection is kept open")
	fl.IntVar(&f.maxConns, "max-conns", 1024, "the connections kept open at once")
	fl.IntVar(&f.maxConnsPerClient, "max-conns-per-client", 64, "the connections kept open at once for one client (an IPv4 address or IPv6 /64)")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 10*time.Second, "the time given to in-flight requests on shutdown")
	fl.Float64Var(&f.ipLimit.Rate, "ip-rate", 20, "write requests per second per client, an IPv4 address or IPv6 /64 (negative: no limit)")
	fl.IntVar(&f.ipLimit.Burst, "ip-burst", 40, "burst of write requests per client")
	fl.Float64Var(&f.sigLimit.Rate, "signatory-rate", 50, "write requests per second per signatory (negative: no limit)")
	fl.IntVar(&f.sigLimit.Burst, "signatory-burst", 100, "burst of write requests per signatory")
	fl.Float64Var(&f.readLimit.Rate, "read-rate", 100, "GET and HEAD requests per second per client, but /healthz, /readyz and /metrics (negative: no limit)")
	fl.IntVar(&f.readLimit.Burst, "read-burst", 200, "burst of GET and HEAD requests per client")
	fl.Int64Var(&f.maxBufferedMiB, "max-buffered-mib", 64, "the MiB of write request bodies held in memory at once, across all clients")
}

// maxFreeMiB is the largest --min-free-mib whose bytes fit in a uint64.
const maxFreeMiB = 1<<44 - 1

// check refuses values the flag package takes but serve cannot use: a
// zero or negative duration (web and log would silently take their
// defaults), a negative burst, and a free-space floor that overflows.
func (f *serveFlags) check() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"publish-interval", f.publish}, {"max-staleness", f.stale}, {"read-timeout", f.readTimeout},
		{"write-timeout", f.writeTimeout}, {"idle-timeout", f.idleTimeout}, {"shutdown-timeout", f.shutdownTimeout}} {
		if d.v <= 0 {
			return usageError{Err: fmt.Errorf("--%s %v: must be positive", d.name, d.v)}
		}
	}
	switch {
	case f.ipLimit.Burst < 0:
		return usageError{Err: fmt.Errorf("--ip-burst %d: must not be negative", f.ipLimit.Burst)}
	case f.sigLimit.Burst < 0:
		return usageError{Err: fmt.Errorf("--signatory-burst %d: must not be negative", f.sigLimit.Burst)}
	case f.readLimit.Burst < 0:
		return usageError{Err: fmt.Errorf("--read-burst %d: must not be negative", f.readLimit.Burst)}
	case f.maxBufferedMiB < 0 || f.maxBufferedMiB > 1<<40:
		return usageError{Err: fmt.Errorf("--max-buffered-mib %d: want 0 (the default) to %d", f.maxBufferedMiB, int64(1<<40))}
	case f.ballastMiB < 0 || f.ballastMiB > 1<<30:
		return usageError{Err: fmt.Errorf("--ballast-mib %d: want 0 (none) to %d", f.ballastMiB, int64(1<<30))}
	case f.minFreeMiB > maxFreeMiB:
		return usageError{Err: fmt.Errorf("--min-free-mib %d: at most %d", f.minFreeMiB, uint64(maxFreeMiB))}
	}
	return checkTLSFlags(f.tlsCert, f.tlsKey)
}

// runServe opens an existing log and serves it until ctx is done.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	return f.run(ctx, stdout, stderr)
}

// run serves the log of f until ctx is done.
func (f *serveFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	logger := f.logging.logger(stderr)
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	d := dataDir(f.dir)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pol, err := readPolicy(f.policy)
	if err != nil {
		return err
	}
	sc, err := f.storage.resolve(d)
	if err != nil {
		return err
	}
	if sc.kind == kindPostgres && pol.witnessed() {
		return fmt.Errorf("--policy %s: a witnessed log is not served from PostgreSQL yet (the witnesses' state is kept per instance); give a policy whose quorum is none, or serve from Pebble", pol.path)
	}
	al, st, err := openAttestLogOn(ctx, d, sc, log.Config{Logger: logger, Registerer: reg, PublishInterval: f.publish,
		MinFreeBytes: f.minFreeMiB << 20, Witnessed: pol.witnessed()})
	if err != nil {
		return err
	}
	defer st.Close()
	l := al.Log()
	wcfg, runs, err := startWitnessing(ctx, pol, l, d, f, logger, reg)
	if err != nil {
		return err
	}
	// On Pebble, this process holds the store: its ballast, its backups
	// (with the admin token) and the used registrar tokens are its own.
	// On PostgreSQL, several instances share the database, and through it
	// the used registrar tokens and the write limits' buckets.
	var (
		jti    web.UsedTokens
		shared web.Shared
		token  []byte
		backup func(context.Context, string) error
	)
	switch st := st.(type) {
	case *pebble.Storage:
		st.KeepBallast(f.ballastMiB << 20)
		store, err := web.OpenJTIStore(d.jtiFile(), nil)
		if err != nil {
			return err
		}
		defer store.Close()
		jti, backup = store, st.Backup
		if token, err = d.adminToken(); err != nil {
			return err
		}
	case *postgres.Storage:
		shared = st
	}
	scheme, tlsCfg := "http", (*tls.Config)(nil)
	if f.tlsCert != "" {
		certs, err := newCertReloader(f.tlsCert, f.tlsKey, logger)
		if err != nil {
			return err
		}
		scheme, tlsCfg = "https", certs.config()
		runs = append(runs, certs.run)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", f.listen, err)
	}
	defer ln.Close()
	url := scheme + "://" + ln.Addr().String()
	if f.publicURL == "" {
		f.publicURL = url
	}
	srv, err := web.New(web.Config{
		Attest: al, Logger: logger, Registerer: reg, Gatherer: reg,
		MaxStaleness: f.stale, Ready: wcfg.ready,
		Policy: wcfg.policy, Witnesses: wcfg.witnesses, WitnessQuorum: wcfg.quorum,
		AdminToken: token, Backup: backup, Shared: shared,
		ReadTimeout: f.readTimeout, WriteTimeout: f.writeTimeout, ShutdownTimeout: f.shutdownTimeout,
		JTI: jti, IPLimit: f.ipLimit, SignatoryLimit: f.sigLimit, ReadLimit: f.readLimit,
		MaxBufferedBytes: f.maxBufferedMiB << 20, IdleTimeout: f.idleTimeout,
		MaxConns: f.maxConns, MaxConnsPerClient: f.maxConnsPerClient, PublicURL: f.publicURL,
		TLS: tlsCfg,
	})
	if err != nil {
		return err
	}
	return serve(ctx, d, l, srv, ln, url, f.tlsCert, stdout, wcfg.summary, logger, runs...)
}

// serve runs the sequencer, the server and runs until ctx is done or either
// fails, and says where the log is served meanwhile (url, ln's address),
// and its witnesses.
func serve(ctx context.Context, d dataDir, l *log.Log, srv *web.Server, ln net.Listener, url, tlsCert string, stdout io.Writer, witnesses string, logger *slog.Logger, runs ...func(context.Context) error) error {
	if err := writeURLFile(d, url, tlsCert, logger); err != nil {
		ln.Close()
		return err
	}
	defer os.Remove(d.urlFile())
	fmt.Fprintf(stdout, "serving %s at %s/\nvkey: %s\nwitnesses: %s\n", l.Origin(), url, l.VerifierKey(), witnesses)
	logger.Info("serving", "origin", l.Origin(), "url", url, "size", l.Latest().Size)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return l.Run(gctx) })
	g.Go(func() error { return srv.Run(gctx, ln) })
	for _, run := range runs {
		g.Go(func() error { return run(gctx) })
	}
	err := g.Wait()
	logger.Info("stopped", "size", l.Latest().Size, "err", err)
	return err
}

// openLog opens the log of d, stored in db, without attestation hooks.
func openLog(ctx context.Context, d dataDir, db string, cfg log.Config) (*log.Log, log.Storage, error) {
	c, err := d.readStorage()
	if err != nil {
		return nil, nil, err
	}
	cfg, st, err := storageConfigOf(ctx, d, db, c, cfg)
	if err != nil {
		return nil, nil, err
	}
	l, err := log.Open(ctx, cfg)
	if err != nil {
		st.Close()
		return nil, nil, explainOpen(d, where(st, db), cfg.Origin, err)
	}
	return l, st, nil
}

// openAttestLog opens the attestation log of d and loads its registry
// from the derived rows, before the sequencer runs.
func openAttestLog(ctx context.Context, d dataDir, cfg log.Config) (*attestlog.Log, log.Storage, error) {
	c, err := d.readStorage()
	if err != nil {
		return nil, nil, err
	}
	return openAttestLogOn(ctx, d, c, cfg)
}

// openAttestLogOn is openAttestLog on the storage c.
func openAttestLogOn(ctx context.Context, d dataDir, c storageConfig, cfg log.Config) (*attestlog.Log, log.Storage, error) {
	cfg, st, err := storageConfigOf(ctx, d, d.db(), c, cfg)
	if err != nil {
		return nil, nil, err
	}
	al, err := attestlog.Open(ctx, cfg)
	if err != nil {
		st.Close()
		return nil, nil, explainOpen(d, where(st, d.db()), cfg.Origin, err)
	}
	return al, st, nil
}

// logConfig completes cfg with the origin, keys and store of d.
func logConfig(d dataDir, db string, cfg log.Config) (log.Config, log.Storage, error) {
	c, err := d.readStorage()
	if err != nil {
		return cfg, nil, err
	}
	return storageConfigOf(context.Background(), d, db, c, cfg)
}

// storageConfigOf completes cfg with the origin and keys of d, and the
// store db of d's log on the storage c.
func storageConfigOf(ctx context.Context, d dataDir, db string, c storageConfig, cfg log.Config) (log.Config, log.Storage, error) {
	cfg, err := keyConfig(d, cfg)
	if err != nil {
		return cfg, nil, err
	}
	st, err := d.openStorage(ctx, db, c, cfg.Logger)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Storage = st
	return cfg, st, nil
}

// keyConfig completes cfg with the origin and keys of d.
func keyConfig(d dataDir, cfg log.Config) (log.Config, error) {
	origin, err := d.readOrigin()
	if err != nil {
		return cfg, err
	}
	signer, err := d.loadKey()
	if err != nil {
		return cfg, err
	}
	if next, err := d.loadNewKey(); err != nil {
		return cfg, err
	} else if next != nil {
		cfg.ExtraSigners = append(cfg.ExtraSigners, next)
	}
	cfg.Origin, cfg.Signer = origin, signer
	return cfg, nil
}

// openStore opens the Pebble store in dir, never creating one.
func openStore(dir string, logger *slog.Logger) (*pebble.Storage, error) {
	if err := onPostgres(dir, "this command works on a Pebble store; back up a log on PostgreSQL with the database's own tools (docs/operations.md)"); err != nil {
		return nil, err
	}
	st, err := pebble.Open(dir, pebble.Options{Logger: logger})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no log store in %s (the data directory is incomplete): %w", dir, err)
	case err != nil && lockedByOther(dir):
		return nil, fmt.Errorf("%s is in use by another process (is pledgelog serve running?): %w", dir, errLocked)
	case err != nil:
		return nil, err
	}
	return st, nil
}

// where names the store st, in db if it is Pebble's, for messages.
func where(st log.Storage, db string) string {
	if _, ok := st.(*postgres.Storage); ok {
		return "the PostgreSQL database"
	}
	return db
}

func explainOpen(d dataDir, db, origin string, err error) error {
	switch {
	case errors.Is(err, log.ErrNoLog):
		return fmt.Errorf("%s holds no log (was init interrupted?): %w", db, err)
	case errors.Is(err, log.ErrWrongKey):
		return fmt.Errorf("the log in %s is not signed by %s for origin %q: wrong key or origin file? (%w)", db, d.keyFile(), origin, err)
	case errors.Is(err, log.ErrCorrupt):
		return fmt.Errorf("the log in %s is corrupt; restore a backup: %w", db, err)
	}
	return fmt.Errorf("opening the log in %s: %w", db, err)
}

// writeURLFile writes d's serve.url, atomically: the URL on its first
// line, then "pid N", then with TLS "tls-cert FILE" (absolute), the
// certificate file that the local commands pin (localServer). A serve.url already there is stale (this process
// holds the store's lock), left by a serve that was killed: it is
// replaced, and said so.
func writeURLFile(d dataDir, url, tlsCert string, logger *slog.Logger) error {
	if old, err := os.ReadFile(d.urlFile()); err == nil {
		logger.Info("replacing a stale serve.url (a serve that did not exit cleanly)", "was", strings.Join(strings.Fields(string(old)), " "))
	}
	data := fmt.Appendf(nil, "%s\npid %d\n", url, os.Getpid())
	if tlsCert != "" {
		abs, err := filepath.Abs(tlsCert)
		if err != nil {
			return err
		}
		data = fmt.Appendf(data, "tls-cert %s\n", abs)
	}
	if err := durable.WriteFile(d.urlFile(), data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", d.urlFile(), err)
	}
	return nil
}

// startCPUProfile profiles the process into file until the returned
// function is called.
func startCPUProfile(file string) (func(), error) {
	out, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		out.Close()
	}, nil
}
