package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/internal/loadgen"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/web"
	"golang.org/x/sync/errgroup"
)

// readsFlags are bench's --reads flags: after the write bench has filled
// a log, read its paths from the server and the same bytes from a plain
// net/http file server, and print each rate with its ratio to the file
// server's (docs/performance.md, "Reads").
type readsFlags struct {
	on      bool
	dur     time.Duration
	workers int
}

// readsEntries is --entries with --reads when it is not given: enough
// for full tiles and a partial one, quickly.
const readsEntries = 2000

func (r *readsFlags) register(fl *flag.FlagSet) {
	fl.BoolVar(&r.on, "reads", false, "after writing --entries (default 2000 with --reads), measure reads of the log's paths against a net/http file server serving the same bytes, and print each rate and its ratio to the file server's")
	fl.DurationVar(&r.dur, "read-for", 3*time.Second, "--reads: how long to read each path from each server, flat out")
	fl.IntVar(&r.workers, "read-workers", 64, "--reads: requests in flight, each worker on its own keep-alive connection")
}

// check refuses what --reads does not combine with.
func (r *readsFlags) check(fl *flag.FlagSet, f *loadgen.Config) error {
	set := map[string]bool{}
	fl.Visit(func(g *flag.Flag) { set[g.Name] = true })
	switch {
	case !r.on && (set["read-for"] || set["read-workers"]):
		return usageError{Err: errors.New("--read-for and --read-workers go with --reads")}
	case !r.on:
		return nil
	case r.dur <= 0 || r.workers < 1:
		return usageError{Err: errors.New("--read-for and --read-workers must be positive")}
	case f.Raw || f.Soak > 0 || f.Witnesses > 0 || len(f.URLs) > 0 || f.Rate != 0 || f.MemProfile != "":
		return usageError{Err: errors.New("--reads fills a log of its own flat out through the API: drop --raw, --soak, --witnesses, --url, --rate and --memprofile")}
	}
	if !set["entries"] {
		f.Entries = readsEntries
	}
	return nil
}

// readTarget is one read of the bench: a path of the log, the request
// headers it is sent with, and the response (its body and the headers the
// file server repeats) that both servers must give.
type readTarget struct {
	Name           string `json:"name"`
	Path           string `json:"path"`
	AcceptEncoding string `json:"accept_encoding,omitempty"`
	Accept         string `json:"accept,omitempty"`

	body        []byte
	contentType string
	encoding    string
}

// readRun is one server's figures for one target.
type readRun struct {
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"` // transport errors, a status but 200, or a body of another length
	PerSecond float64 `json:"per_s"`
	MBPerSec  float64 `json:"mb_per_s"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Error     string  `json:"error,omitempty"` // one of them
}

// readResult is a target's line of the report.
type readResult struct {
	readTarget
	Bytes           int     `json:"bytes"`
	ContentEncoding string  `json:"content_encoding,omitempty"`
	Pledgelog       readRun `json:"pledgelog"`
	FileServer      readRun `json:"file_server"`
	Ratio           float64 `json:"ratio"` // pledgelog's rate ÷ the file server's
}

// readsReport is what bench --reads prints.
type readsReport struct {
	GOMAXPROCS    int          `json:"gomaxprocs"`
	Written       int          `json:"written_entries"`
	WrittenPerSec float64      `json:"written_per_s"`
	Size          uint64       `json:"log_size"`
	Workers       int          `json:"workers"`
	SecondsEach   float64      `json:"seconds_each"`
	Reference     string       `json:"reference"`
	LoadBefore    string       `json:"load_average_before"`
	LoadAfter     string       `json:"load_average_after"`
	Reads         []readResult `json:"reads"`
	PeakRSSMiB    float64      `json:"peak_rss_mib"`
}

// runBenchReads fills a demo log with the write bench, serves it in this
// process with the server serve runs (its rate limits off) and a plain
// net/http file server holding the bytes it answers, and reads each
// target from both, flat out, with the same client.
func runBenchReads(ctx context.Context, cfg *loadgen.Config, rf *readsFlags, stdout, stderr io.Writer) error {
	tmp, err := os.MkdirTemp("", "pledgelog-bench-reads")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := cfg.Dir
	if dir == "" {
		dir = filepath.Join(tmp, "data")
	}
	rep := &readsReport{GOMAXPROCS: runtime.GOMAXPROCS(0), Workers: rf.workers, SecondsEach: rf.dur.Seconds(),
		Reference: "net/http FileServer over a directory holding each answer's bytes, with its Content-Type and Content-Encoding"}

	// Fill the log: the write bench, its report read as JSON.
	w := *cfg
	w.Dir, w.JSON, w.CPUProfile = dir, true, ""
	var out bytes.Buffer
	fmt.Fprintf(stderr, "writing %d entries...\n", w.Entries)
	if err := loadgen.Run(ctx, w, &out, stderr); err != nil {
		return err
	}
	var wrote struct {
		Accepted  int     `json:"accepted_entries"`
		PerSecond float64 `json:"accepted_per_s"`
	}
	if err := json.Unmarshal(out.Bytes(), &wrote); err != nil {
		return fmt.Errorf("reading the write bench's report: %w", err)
	}
	rep.Written, rep.WrittenPerSec = wrote.Accepted, wrote.PerSecond

	// Serve it, as serve does, but without rate limits.
	lc, st, err := benchLogConfig(dir, log.Config{Logger: cfg.Logger, PublishInterval: cfg.Publish})
	if err != nil {
		return err
	}
	defer st.Close()
	al, err := attestlog.Open(ctx, lc)
	if err != nil {
		return fmt.Errorf("opening the log in %s: %w", dir, err)
	}
	off := web.Limit{Rate: -1}
	srv, err := web.New(web.Config{Attest: al, Logger: lc.Logger, IPLimit: off, SignatoryLimit: off, ReadLimit: off,
		MaxConns: 4 * rf.workers, MaxConnsPerClient: 2 * rf.workers})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	refDir := filepath.Join(tmp, "files")
	if err := os.Mkdir(refDir, 0o755); err != nil {
		return err
	}
	refHeaders := map[string]http.Header{}
	ref := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: fileServer(refDir, refHeaders)}
	refLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	l := al.Log()
	g.Go(func() error {
		if err := l.Run(gctx); !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	})
	g.Go(func() error { return srv.Run(gctx, ln) })
	g.Go(func() error {
		if err := ref.Serve(refLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		defer cancel()
		defer ref.Close()
		return readBench(gctx, cfg, rf, rep, l, "http://"+ln.Addr().String(), "http://"+refLn.Addr().String(), refDir, refHeaders, stderr)
	})
	if err := g.Wait(); err != nil {
		return err
	}
	kib, _ := statusKiB("VmHWM")
	rep.PeakRSSMiB = kib / 1024
	return rep.print(stdout, cfg.JSON)
}

// readBench waits for the log's checkpoint to cover every entry, fetches
// each target from the log into refDir, and measures them.
func readBench(ctx context.Context, cfg *loadgen.Config, rf *readsFlags, rep *readsReport, l *log.Log,
	url, refURL, refDir string, refHeaders map[string]http.Header, stderr io.Writer) error {
	for l.Published().Size != l.Latest().Size {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	size := l.Published().Size
	rep.Size = size
	if size <= verify.TileWidth {
		return fmt.Errorf("the log has %d entries: --reads needs more than %d, for a full tile", size, verify.TileWidth)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 4 * rf.workers, MaxIdleConnsPerHost: 2 * rf.workers, DisableCompression: true}}
	defer hc.CloseIdleConnections()
	targets := readTargets(size)
	for i := range targets {
		t := &targets[i]
		if err := fetchTarget(ctx, hc, url, t); err != nil {
			return err
		}
		h := http.Header{}
		h.Set("Content-Type", t.contentType)
		if t.encoding != "" {
			h.Set("Content-Encoding", t.encoding)
		}
		refHeaders["/"+t.Name] = h
		if err := os.WriteFile(filepath.Join(refDir, t.Name), t.body, 0o644); err != nil {
			return err
		}
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep.LoadBefore = loadAverage()
	for i, t := range targets {
		res := readResult{readTarget: t, Bytes: len(t.body), ContentEncoding: t.encoding}
		fmt.Fprintf(stderr, "reading %s%s...\n", t.Path, map[bool]string{true: " (gzip)"}[t.AcceptEncoding != ""])
		// Alternate which server goes first, so that a drift of the
		// machine's load does not favour one of them throughout.
		ours := func() { res.Pledgelog = readLoad(ctx, hc, url+t.Path, &t, rf.workers, rf.dur) }
		theirs := func() { res.FileServer = readLoad(ctx, hc, refURL+"/"+t.Name, &t, rf.workers, rf.dur) }
		if i%2 == 0 {
			ours()
			theirs()
		} else {
			theirs()
			ours()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if res.FileServer.PerSecond > 0 {
			res.Ratio = res.Pledgelog.PerSecond / res.FileServer.PerSecond
		}
		rep.Reads = append(rep.Reads, res)
	}
	rep.LoadAfter = loadAverage()
	return nil
}

// readTargets are the paths read from a log of size entries (more than
// one tile's width).
func readTargets(size uint64) []readTarget {
	full := verify.Tile{Level: 0, N: 0, Width: verify.TileWidth}.Path()
	bundle := verify.Tile{Level: verify.EntriesLevel, N: 0, Width: verify.TileWidth}.Path()
	ts := []readTarget{{Name: "checkpoint", Path: "/checkpoint"}}
	if size%verify.TileWidth != 0 {
		ts = append(ts, readTarget{Name: "tile-partial", Path: "/" + verify.TileForIndex(0, size-1, size).Path()})
	}
	mid := size / 2
	return append(ts,
		readTarget{Name: "tile-full", Path: "/" + full},
		readTarget{Name: "bundle-full", Path: "/" + bundle},
		readTarget{Name: "bundle-full.gz", Path: "/" + bundle, AcceptEncoding: "gzip"},
		readTarget{Name: "proof-inclusion", Path: fmt.Sprintf("/api/v1/proof/inclusion?index=%d&size=%d", mid, size)},
		readTarget{Name: "entry", Path: fmt.Sprintf("/api/v1/entries/%d", mid)},
		readTarget{Name: "home", Path: "/", Accept: "text/html"},
	)
}

// request returns the GET of t at url.
func (t *readTarget) request(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if t.AcceptEncoding != "" {
		req.Header.Set("Accept-Encoding", t.AcceptEncoding)
	}
	if t.Accept != "" {
		req.Header.Set("Accept", t.Accept)
	}
	return req, nil
}

// fetchTarget reads t from the log at url: the bytes the file server
// will hold.
func fetchTarget(ctx context.Context, hc *http.Client, url string, t *readTarget) error {
	req, err := t.request(ctx, url+t.Path)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if t.body, err = io.ReadAll(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", t.Path, resp.Status, t.body)
	}
	t.contentType, t.encoding = resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding")
	return nil
}

// readLoad reads t at url with workers requests in flight for d, closed
// loop, and counts as errors the answers that are not 200 or not t's
// length. A warm-up first, of a tenth of d and at least a request per
// worker, opens the connections; every worker then starts measuring at
// once, and each request started within d is counted.
func readLoad(ctx context.Context, hc *http.Client, url string, t *readTarget, workers int, d time.Duration) readRun {
	var (
		mu     sync.Mutex
		run    readRun
		lats   []time.Duration
		warm   sync.WaitGroup
		start  = make(chan time.Time)
		done   sync.WaitGroup
		warmTo = time.Now().Add(d / 10)
	)
	warm.Add(workers)
	for range workers {
		done.Go(func() {
			for first := true; first || (time.Now().Before(warmTo) && ctx.Err() == nil); first = false {
				readOnce(ctx, hc, url, t)
			}
			warm.Done()
			end := (<-start).Add(d)
			var mine []time.Duration
			n, errs, last := 0, 0, ""
			for {
				t0 := time.Now()
				if t0.After(end) || ctx.Err() != nil {
					break
				}
				err := readOnce(ctx, hc, url, t)
				n++
				mine = append(mine, time.Since(t0))
				if err != nil {
					errs++
					last = err.Error()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			run.Requests += n
			run.Errors += errs
			if last != "" {
				run.Error = last
			}
			lats = append(lats, mine...)
		})
	}
	warm.Wait()
	t0 := time.Now()
	for range workers {
		start <- t0
	}
	done.Wait()
	secs := time.Since(t0).Seconds()
	run.PerSecond = float64(run.Requests-run.Errors) / secs
	run.MBPerSec = run.PerSecond * float64(len(t.body)) / 1e6
	if len(lats) > 0 {
		slices.Sort(lats)
		q := func(q float64) float64 {
			return float64(lats[min(len(lats)-1, int(q*float64(len(lats))))].Microseconds()) / 1000
		}
		run.P50, run.P99 = q(0.5), q(0.99)
	}
	return run
}

// readOnce reads t at url once, its body to the end, and checks its
// status and length.
func readOnce(ctx context.Context, hc *http.Client, url string, t *readTarget) error {
	req, err := t.request(ctx, url)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	case n != int64(len(t.body)) || resp.Header.Get("Content-Encoding") != t.encoding:
		return fmt.Errorf("GET %s: %d bytes encoded %q, want %d encoded %q", url, n, resp.Header.Get("Content-Encoding"), len(t.body), t.encoding)
	}
	return nil
}

// fileServer is the reference: http.FileServer over dir, each file
// served with the headers of the answer it holds.
func fileServer(dir string, headers map[string]http.Header) http.Handler {
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers[r.URL.Path] {
			w.Header()[k] = v
		}
		fs.ServeHTTP(w, r)
	})
}

// loadAverage is /proc/loadavg's first three fields ("" where it is missing).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// statusKiB reads a field of /proc/self/status in KiB (0 where it is
// missing).
func statusKiB(field string) (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kib float64
			_, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kib)
			return kib, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

func (r *readsReport) print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(w, "log: %d entries (%d written by the bench at %.0f/s)\n", r.Size, r.Written, r.WrittenPerSec)
	fmt.Fprintf(w, "reads: %d workers on keep-alive connections, closed loop, %.1fs per path and server, one client\n", r.Workers, r.SecondsEach)
	fmt.Fprintf(w, "reference: %s\n", r.Reference)
	fmt.Fprintf(w, "load average: %s before, %s after (%d CPUs)\n", r.LoadBefore, r.LoadAfter, r.GOMAXPROCS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bytes\tpledgelog/s\tp99 ms\tfile server/s\tp99 ms\tratio\terrors\t  path")
	for _, x := range r.Reads {
		path := x.Path
		if x.ContentEncoding != "" {
			path += " (" + x.ContentEncoding + ")"
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%.1f\t%.0f\t%.1f\t%.2f\t%d / %d\t  %s\n", x.Bytes,
			x.Pledgelog.PerSecond, x.Pledgelog.P99, x.FileServer.PerSecond, x.FileServer.P99, x.Ratio,
			x.Pledgelog.Errors, x.FileServer.Errors, path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, x := range r.Reads {
		for _, e := range []struct{ who, err string }{{"pledgelog", x.Pledgelog.Error}, {"file server", x.FileServer.Error}} {
			if e.err != "" {
				fmt.Fprintf(w, "an error of %s on %s: %s\n", e.who, x.Name, e.err)
			}
		}
	}
	fmt.Fprintf(w, "peak RSS (VmHWM, servers, client and write bench in one process): %.0f MiB\n", r.PeakRSSMiB)
	return nil
}
