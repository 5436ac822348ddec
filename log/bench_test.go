package log_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
)

// The benchmarks run fixed workloads on Pebble with 1 KiB entries and
// report rates and latencies as metrics; run them with -benchtime 1x
// (make bench). They measure; they never pass or fail on a number.

// benchLog returns a running log on a Pebble store in a temporary directory.
func benchLog(b *testing.B) *log.Log {
	st, err := pebble.Create(b.TempDir(), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	l, _ := newLog(b, st)
	run(b, l)
	return l
}

// entry returns a distinct 1 KiB entry.
func entry(i uint64) []byte {
	e := make([]byte, 1024)
	binary.BigEndian.PutUint64(e, i)
	binary.BigEndian.PutUint64(e[8:], uint64(time.Now().UnixNano()))
	return e
}

// BenchmarkAppendConcurrent appends 200,000 entries from 256 to 4,096
// concurrent callers and reports entries/s.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, callers := range []int{256, 1024, 4096} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) { appendConcurrent(b, callers) })
	}
}

func appendConcurrent(b *testing.B, callers int) {
	const total = 200_000
	for b.Loop() {
		l := benchLog(b)
		var next atomic.Uint64
		start := time.Now()
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for i := next.Add(1); i <= total; i = next.Add(1) {
					if _, err := l.Append(context.Background(), entry(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(total/time.Since(start).Seconds(), "entries/s")
	}
}

// BenchmarkAppendLatency offers 10,000 appends/s for 5 s, open loop: each
// append starts at its scheduled time whatever happened to the others, and
// its latency counts from that time.
func BenchmarkAppendLatency(b *testing.B) {
	const rate, seconds = 10_000, 5
	for b.Loop() {
		l := benchLog(b)
		lat := make([]time.Duration, rate*seconds)
		start := time.Now()
		var wg sync.WaitGroup
		for i := range lat {
			at := start.Add(time.Duration(i) * time.Second / rate)
			time.Sleep(time.Until(at))
			wg.Go(func() {
				if _, err := l.Append(context.Background(), entry(uint64(i))); err != nil {
					b.Error(err)
				}
				lat[i] = time.Since(at)
			})
		}
		wg.Wait()
		b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "entries/s")
		reportLatency(b, lat)
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

// BenchmarkMemory appends 2,000,000 entries (100,000 with -short) in batches
// from 64 callers and reports the live heap and the process's RSS after
// 100,000 entries and at the end: flat memory means they stay close.
func BenchmarkMemory(b *testing.B) {
	total := uint64(2_000_000)
	if testing.Short() {
		total = 200_000
	}
	for b.Loop() {
		l := benchLog(b)
		var next atomic.Uint64
		var wg sync.WaitGroup
		var once sync.Once
		for range 64 {
			wg.Go(func() {
				for i := next.Add(16); i <= total; i = next.Add(16) {
					batch := make([][]byte, 16)
					for j := range batch {
						batch[j] = entry(i - uint64(j))
					}
					if _, err := l.AppendBatch(context.Background(), batch); err != nil {
						b.Error(err)
						return
					}
					if i >= 100_000 {
						once.Do(func() { reportMemory(b, "100k") })
					}
				}
			})
		}
		wg.Wait()
		reportMemory(b, "end")
		b.ReportMetric(float64(l.Latest().Size), "entries")
	}
}

func reportMemory(b *testing.B, when string) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MiB-"+when)
	b.ReportMetric(float64(rss())/(1<<20), "rss-MiB-"+when)
}

// rss returns the resident set size of this process, from /proc.
func rss() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}
