package loadgen

// bench --soak: a real `pledgelog serve` under writers at half the
// measured maximum and concurrent readers, sampled per interval (see
// docs/reliability.md, "Soak").

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify"
)

// soakReport is what the soak prints.
type soakReport struct {
	MaxPerSecond float64        `json:"max_writes_per_s"` // 0 when --soak-rate was given
	Rate         float64        `json:"offered_writes_per_s"`
	Readers      int            `json:"readers"`
	Seconds      float64        `json:"seconds"`
	Intervals    []interval     `json:"intervals"`
	Errors       map[string]int `json:"errors"`
	C            float64        `json:"c_per_s"`
	CAfter       float64        `json:"c_after_per_s"`
}

// runSoak creates a demo log, serves it with a pledgelog serve process,
// measures the maximum write rate (unless given) and runs writers at half
// of it with readers for cfg.Soak, sampling every interval.
func runSoak(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	rep := &soakReport{Readers: cfg.SoakReaders}
	_, rep.C = measureC()
	dir, cleanup, err := benchDir(cfg.Dir)
	if err != nil {
		return err
	}
	defer cleanup()
	d, srv, err := startBenchLog(ctx, cfg, dir, stderr)
	if srv != nil {
		defer srv.stop()
	}
	if err != nil {
		return err
	}
	gen, err := newPledgeGen(ctx, srv, d, cfg.Signatories)
	if err != nil {
		return err
	}
	hc := newHTTPClient()
	if rep.Rate = cfg.SoakRate; rep.Rate == 0 {
		rep.MaxPerSecond = flatOut(ctx, hc, srv.url, gen, cfg.Concurrency, cfg.SoakMaxFor)
		rep.Rate = rep.MaxPerSecond / 2
		fmt.Fprintf(stderr, "maximum: %.0f writes/s flat out (%d in flight, %v); soaking at %.0f/s\n", rep.MaxPerSecond, cfg.Concurrency, cfg.SoakMaxFor, rep.Rate)
	}
	if rep.Rate < 1 {
		return fmt.Errorf("the soak rate is %.1f writes/s: the server accepted next to nothing; see %s", rep.Rate, srv.logTo)
	}
	rep.Intervals = soak(ctx, hc, srv, gen, rep.Rate, cfg, stderr)
	rep.Seconds = cfg.Soak.Seconds()
	rep.Errors = sumErrors(rep.Intervals)
	_, rep.CAfter = measureC()
	if cfg.SoakPlot != "" {
		if err := writeSoakPlot(cfg.SoakPlot, rep); err != nil {
			return err
		}
	}
	return rep.print(stdout, cfg.JSON)
}

// pledgeGen signs a new distinct pledge for each request, on demand, and
// keeps the signatories' session tokens fresh: a soak outlasts a token.
type pledgeGen struct {
	accord *attest.AccordInfo
	origin string
	keys   []*client.Key
	n      atomic.Int64

	mu     sync.Mutex
	tokens []string
	minted time.Time
}

// newPledgeGen registers k signatories on the log d, which srv serves.
func newPledgeGen(ctx context.Context, srv *benchProc, d *demoLog, k int) (*pledgeGen, error) {
	keys, err := benchKeys(k)
	if err != nil {
		return nil, err
	}
	info, accord, err := registerKeys(ctx, client.New(srv.url), d, keys)
	if err != nil {
		return nil, err
	}
	return &pledgeGen{accord: accord, origin: info.Origin, keys: keys}, nil
}

// next signs the next pledge into a request.
func (g *pledgeGen) next() (benchRequest, error) {
	i := int(g.n.Add(1) - 1)
	leaf, err := signPledge(g.accord, g.origin, g.keys, i)
	if err != nil {
		return benchRequest{}, err
	}
	token, err := g.token(i % len(g.keys))
	return benchRequest{path: "/api/v1/entries", token: token, body: leaf, entries: 1}, err
}

// token returns signatory s's token, minting all anew past half their life.
func (g *pledgeGen) token(s int) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.minted) > client.TokenLifetime/2 {
		tokens, err := benchTokens(g.origin, g.keys)
		if err != nil {
			return "", err
		}
		g.tokens, g.minted = tokens, time.Now()
	}
	return g.tokens[s], nil
}

// flatOut writes with workers requests in flight for d and returns the
// accepted writes per second.
func flatOut(ctx context.Context, hc *http.Client, url string, gen *pledgeGen, workers int, d time.Duration) float64 {
	var accepted atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				r, err := gen.next()
				if err != nil {
					return
				}
				if status, err := post(ctx, hc, url, &r); err == nil && (status == 200 || status == 201) {
					accepted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(accepted.Load()) / time.Since(start).Seconds()
}

// soak runs the writers at rate and the readers for cfg.Soak and
// returns the intervals sampled meanwhile, printing each as it ends.
func soak(ctx context.Context, hc *http.Client, srv *benchProc, gen *pledgeGen, rate float64, cfg *Config, stderr io.Writer) []interval {
	win := newWindow()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	var readers sync.WaitGroup
	for i := range cfg.SoakReaders {
		readers.Go(func() { soakReader(ctx, hc, srv, win, cfg.SoakReadPause, uint64(i)) })
	}
	sampled := make(chan []interval)
	go func() { sampled <- sample(ctx, hc, srv, win, start, cfg.SoakInterval, stderr) }()
	soakWriters(ctx, hc, srv.url, gen, rate, start.Add(cfg.Soak), win)
	cancel()
	readers.Wait()
	return <-sampled
}

// soakWriters sends a new pledge every 1/rate s until the deadline, open
// loop: each in its own goroutine, its latency from its scheduled time.
func soakWriters(ctx context.Context, hc *http.Client, url string, gen *pledgeGen, rate float64, deadline time.Time, win *window) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxInFlight)
	every := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := 0; ctx.Err() == nil; i++ {
		scheduled := start.Add(time.Duration(i) * every)
		if !scheduled.Before(deadline) {
			break
		}
		if d := time.Until(scheduled); d > 0 {
			time.Sleep(d)
		}
		select {
		case slots <- struct{}{}:
		default:
			win.add("write", 0, fmt.Sprintf("not sent (over %d in flight)", maxInFlight))
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			r, err := gen.next()
			if err != nil {
				win.add("write", 0, "signing: "+err.Error())
				return
			}
			status, err := post(ctx, hc, url, &r)
			win.add("write", time.Since(scheduled), failure(status, err, 201, 200))
		})
	}
	wg.Wait()
}

// failure names a failed request's error kind: "" for one of the
// statuses ok, "transport" for no answer, else the status.
func failure(status int, err error, ok ...int) string {
	switch {
	case err != nil:
		return "transport"
	case len(ok) == 0 && status == http.StatusOK:
		return ""
	}
	for _, s := range ok {
		if status == s {
			return ""
		}
	}
	return strconv.Itoa(status)
}

// soakReader reads in rounds until ctx is done: the checkpoint (whose
// signature must verify and whose size must never go back), a random
// level-0 tile of it (of exactly its width) and the entry bundle of the
// same index, and the home page.
func soakReader(ctx context.Context, hc *http.Client, srv *benchProc, win *window, pause time.Duration, seed uint64) {
	v, err := verify.NewVerifier(srv.vkey)
	if err != nil {
		win.add("checkpoint", 0, "log key: "+err.Error())
		return
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	var last uint64
	for ctx.Err() == nil {
		body, took, fail := get(ctx, hc, srv.url+"/checkpoint")
		if fail == "" {
			if c, _, err := verify.OpenCosigned(body, benchOrigin, []verify.Verifier{v}, nil); err != nil {
				fail = "bad signature"
			} else if c.Size < last {
				fail = "size went back"
			} else {
				last = c.Size
			}
		}
		win.add("checkpoint", took, fail)
		if last > 0 {
			i := rng.Uint64N(last)
			t := verify.TileForIndex(0, i, last)
			body, took, fail = get(ctx, hc, srv.url+"/"+t.Path())
			if fail == "" && len(body) != t.Width*verify.HashSize {
				fail = "wrong tile size"
			}
			win.add("tile", took, fail)
			_, took, fail = get(ctx, hc, srv.url+"/"+verify.TileForIndex(verify.EntriesLevel, i, last).Path())
			win.add("entries", took, fail)
		}
		_, took, fail = get(ctx, hc, srv.url+"/")
		win.add("home", took, fail)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}

// get fetches url and returns the body, the time taken and the error
// kind of a failure (see failure); a request cut short by the end of the
// soak is not a failure, and is not counted.
func get(ctx context.Context, hc *http.Client, url string) ([]byte, time.Duration, string) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err.Error()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, time.Since(start), failure(0, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, time.Since(start), failure(resp.StatusCode, err)
}

// sample takes the window every interval until ctx is done, with the
// server's RSS and Go heap, and returns the intervals.
func sample(ctx context.Context, hc *http.Client, srv *benchProc, win *window, start time.Time, every time.Duration, stderr io.Writer) []interval {
	var out []interval
	tick := time.NewTicker(every)
	defer tick.Stop()
	fmt.Fprintln(stderr, intervalHeader)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
		}
		iv := win.take(time.Since(start))
		rss, _ := procStatusKiB(srv.pid(), "VmRSS")
		iv.RSSMiB = rss / 1024
		iv.HeapMiB = heapMiB(hc, srv.url)
		if done && iv.Writes+iv.Reads == 0 {
			break
		}
		fmt.Fprintln(stderr, iv.row())
		out = append(out, iv)
	}
	return out
}

// heapMiB reads the server's Go heap in use from its /metrics (0 if it
// cannot be read).
func heapMiB(hc *http.Client, url string) float64 {
	resp, err := hc.Get(url + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	return metricValue(resp.Body, "go_memstats_heap_inuse_bytes") / (1 << 20)
}

// metricValue finds an unlabelled metric in a Prometheus text exposition.
func metricValue(r io.Reader, name string) float64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// printC prints C measured before and after a run, warning if it moved.
func printC(w io.Writer, before, after float64) {
	fmt.Fprintf(w, "C: %.0f/s before, %.0f/s after the run\n", before, after)
	if after < 0.8*before || after > 1.25*before {
		fmt.Fprintln(w, "WARNING: C moved by more than 20% during the run: other work shares the CPUs")
	}
}

const intervalHeader = "   t (s)  writes/s  write p50  write p99   reads/s  read p50  read p99   RSS MiB  heap MiB  errors"

// row prints the interval as a line of the soak's table.
func (iv interval) row() string {
	return fmt.Sprintf("%8.0f  %8.0f  %6.1f ms  %6.1f ms  %8.0f  %5.1f ms  %5.1f ms  %8.0f  %8.0f  %s",
		iv.At, float64(iv.Writes)/iv.span(), iv.WriteP50, iv.WriteP99, float64(iv.Reads)/iv.span(),
		iv.ReadP50, iv.ReadP99, iv.RSSMiB, iv.HeapMiB, formatErrors(iv.Errors))
}

// span is the interval's length in seconds (set by the soak's table).
func (iv interval) span() float64 { return max(iv.Span, 1e-9) }

func (r *soakReport) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return printJSON(w, r)
	}
	printC(w, r.C, r.CAfter)
	if r.MaxPerSecond > 0 {
		fmt.Fprintf(w, "maximum measured: %.0f writes/s; ", r.MaxPerSecond)
	}
	fmt.Fprintf(w, "soak: %.0f writes/s offered, %d readers, %.0f s\n", r.Rate, r.Readers, r.Seconds)
	fmt.Fprintln(w, intervalHeader)
	for _, iv := range r.Intervals {
		fmt.Fprintln(w, iv.row())
	}
	fmt.Fprintf(w, "errors: %s\n", formatErrors(r.Errors))
	if n := len(r.Intervals); n > 0 {
		first, last := r.Intervals[0], r.Intervals[n-1]
		peak := 0.0
		for _, iv := range r.Intervals {
			peak = max(peak, iv.RSSMiB)
		}
		fmt.Fprintf(w, "server RSS: %.0f MiB in the first interval, %.0f MiB in the last, %.0f MiB at most; Go heap in use %.0f → %.0f MiB\n",
			first.RSSMiB, last.RSSMiB, peak, first.HeapMiB, last.HeapMiB)
	}
	return nil
}
