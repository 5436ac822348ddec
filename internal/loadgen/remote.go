package loadgen

// bench --url URL[,URL…]: the write load against servers already running
// (several instances of one log behind no load balancer, say), spread over
// them: request i goes to URLs[i mod n]. The signatories are registered
// through the first URL with the registrar key Config.RegistrarKey, under
// ids new to the log, and the load starts once every URL knows them.

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pledgelog/pledgelog/client"
)

// runRemote drives the servers at cfg.URLs.
func runRemote(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	rep := &benchReport{GOMAXPROCS: runtime.GOMAXPROCS(0), Batch: cfg.Batch, Rate: cfg.Rate,
		Limits: "the servers' own", PublishInterval: "the servers' own"}
	rep.VerifyMicros, rep.C = measureC()
	fmt.Fprintf(stderr, "C = %d CPUs / %.1f µs per Ed25519 verify = %.0f verifications/s (of this machine)\n", rep.GOMAXPROCS, rep.VerifyMicros, rep.C)
	// Ids new to the log, so that the bench can run again on it.
	benchPrefix = "bench-" + strings.ToLower(rand.Text()[:6]) + "-"
	start := time.Now()
	d := &demoLog{registrarKey: cfg.RegistrarKey}
	reqs, err := prepare(ctx, cfg, d, client.New(cfg.URLs[0]))
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.URLs[0], err)
	}
	if err := awaitSignatory(ctx, cfg.URLs, benchID(cfg.Signatories-1)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "registered %d signatories (%s…), pre-signed %d pledges into %d requests in %v; driving %d servers\n",
		cfg.Signatories, benchID(0), cfg.Entries, len(reqs), time.Since(start).Round(time.Millisecond), len(cfg.URLs))
	rep.Signatories, rep.Requests = cfg.Signatories, len(reqs)
	hc := newHTTPClient()
	out := make([]outcome, len(reqs))
	start = time.Now()
	if cfg.Rate > 0 {
		openLoopURLs(ctx, hc, cfg.URLs, reqs, cfg.Rate, start, out)
	} else {
		closedLoopURLs(ctx, hc, cfg.URLs, reqs, cfg.Concurrency, out)
	}
	rep.summarise(out, time.Since(start))
	_, rep.CAfter = measureC()
	if !cfg.JSON {
		fmt.Fprintf(stdout, "servers: %s\n", strings.Join(cfg.URLs, " "))
	}
	return rep.print(stdout, cfg.JSON)
}

// awaitSignatory waits, for up to 30 s, until every server at urls knows
// signatory id: an instance learns what another committed a moment later.
func awaitSignatory(ctx context.Context, urls []string, id string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, u := range urls {
		c := client.New(u)
		for {
			_, err := c.Signatory(ctx, id)
			if err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("%s does not know the bench's signatory %s 30 s after its registration: %w", u, id, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// openLoopURLs is openLoop spread over urls.
func openLoopURLs(ctx context.Context, hc *http.Client, urls []string, reqs []benchRequest, rate float64, start time.Time, out []outcome) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxInFlight)
	interval := time.Duration(float64(time.Second) / rate)
	for i := range reqs {
		scheduled := start.Add(time.Duration(i) * interval)
		if d := time.Until(scheduled); d > 0 {
			time.Sleep(d)
		}
		select {
		case slots <- struct{}{}:
		default:
			out[i] = outcome{status: -1, entries: reqs[i].entries}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			status, err := post(ctx, hc, urls[i%len(urls)], &reqs[i])
			out[i] = outcome{status, err, time.Since(scheduled), reqs[i].entries}
		})
	}
	wg.Wait()
}

// closedLoopURLs is closedLoop spread over urls.
func closedLoopURLs(ctx context.Context, hc *http.Client, urls []string, reqs []benchRequest, workers int, out []outcome) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(reqs); i = int(next.Add(1) - 1) {
				sent := time.Now()
				status, err := post(ctx, hc, urls[i%len(urls)], &reqs[i])
				out[i] = outcome{status, err, time.Since(sent), reqs[i].entries}
			}
		})
	}
	wg.Wait()
}
