package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

// outcome is the result of one request.
type outcome struct {
	status  int // 0: transport error; -1: not sent, too many in flight
	err     error
	latency time.Duration
	entries int
}

// maxInFlight caps the requests the open loop keeps in flight: beyond it,
// the server is hopelessly behind, and a request due is dropped (counted,
// not sent) rather than exhaust the generator's memory and sockets.
const maxInFlight = 4096

// drive sends the requests, open loop at cfg.Rate (latency from each
// request's scheduled send time) or flat out with cfg.Concurrency in
// flight (latency from its send time), and records the outcomes in rep.
func drive(ctx context.Context, url string, reqs []benchRequest, cfg *Config, rep *benchReport) error {
	hc := newHTTPClient()
	out := make([]outcome, len(reqs))
	if cfg.CPUProfile != "" {
		stop, err := startProfile(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	start := time.Now()
	if cfg.Rate > 0 {
		openLoop(ctx, hc, url, reqs, cfg.Rate, start, out)
	} else {
		closedLoop(ctx, hc, url, reqs, cfg.Concurrency, out)
	}
	rep.summarise(out, time.Since(start))
	return nil
}

// startProfile starts a CPU profile into the file name.
func startProfile(name string) (stop func(), err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile writes the live heap, after a GC, into the file name.
func writeHeapProfile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile: %w", err)
	}
	return f.Close()
}

func openLoop(ctx context.Context, hc *http.Client, url string, reqs []benchRequest, rate float64, start time.Time, out []outcome) {
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
			status, err := post(ctx, hc, url, &reqs[i])
			out[i] = outcome{status, err, time.Since(scheduled), reqs[i].entries}
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
				status, err := post(ctx, hc, url, &reqs[i])
				out[i] = outcome{status, err, time.Since(sent), reqs[i].entries}
			}
		})
	}
	wg.Wait()
}
