package main

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// outcome is the result of one request.
type outcome struct {
	status  int
	latency time.Duration
	entries int
}

// drive sends the requests, open loop at f.rate (latency from each
// request's scheduled send time) or flat out with f.concurrency in flight
// (latency from its send time), and records the outcomes in rep.
func drive(ctx context.Context, url string, reqs []benchRequest, f *benchFlags, rep *benchReport) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096, MaxIdleConns: 4096, DisableCompression: true}}
	out := make([]outcome, len(reqs))
	start := time.Now()
	if f.rate > 0 {
		openLoop(ctx, hc, url, reqs, f.rate, start, out)
	} else {
		closedLoop(ctx, hc, url, reqs, f.concurrency, out)
	}
	rep.summarise(out, time.Since(start))
}

func openLoop(ctx context.Context, hc *http.Client, url string, reqs []benchRequest, rate float64, start time.Time, out []outcome) {
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	for i := range reqs {
		scheduled := start.Add(time.Duration(i) * interval)
		if d := time.Until(scheduled); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			status := post(ctx, hc, url, &reqs[i])
			out[i] = outcome{status, time.Since(scheduled), reqs[i].entries}
		})
	}
	wg.Wait()
}

func closedLoop(ctx context.Context, hc *http.Client, url string, reqs []benchRequest, workers int, out []outcome) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(reqs); i = int(next.Add(1) - 1) {
				sent := time.Now()
				status := post(ctx, hc, url, &reqs[i])
				out[i] = outcome{status, time.Since(sent), reqs[i].entries}
			}
		})
	}
	wg.Wait()
}
