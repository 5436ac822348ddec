package loadgen

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted, the nearest
// rank at or above q: 0 for none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// procStatusKiB reads field (VmRSS, VmHWM, …) of /proc/pid/status, in
// KiB; pid 0 is this process.
func procStatusKiB(pid int, field string) (float64, error) {
	name := "/proc/self/status"
	if pid != 0 {
		name = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return statusField(f, field)
}

// statusField finds "field: N kB" in a /proc/PID/status text.
func statusField(r io.Reader, field string) (float64, error) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			return strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s line in the process status", field)
}

// window gathers what requests of each kind ("write", "checkpoint",
// "tile", …) took and which failed, until take empties it: one interval
// of the soak.
type window struct {
	mu   sync.Mutex
	lat  map[string][]time.Duration
	errs map[string]int
	from time.Duration // the end of the interval taken last
}

func newWindow() *window {
	return &window{lat: map[string][]time.Duration{}, errs: map[string]int{}}
}

// add records a request of kind that took d; a non-empty fail is its
// error kind ("503", "transport", "short tile", …), counted instead.
func (w *window) add(kind string, d time.Duration, fail string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if fail != "" {
		w.errs[kind+" "+fail]++
		return
	}
	w.lat[kind] = append(w.lat[kind], d)
}

// interval is one sampled interval of the soak.
type interval struct {
	At       float64        `json:"at_s"`   // end of the interval, since the soak started
	Span     float64        `json:"span_s"` // its length
	Writes   int            `json:"writes"`
	Reads    int            `json:"reads"`
	WriteP50 float64        `json:"write_p50_ms"`
	WriteP99 float64        `json:"write_p99_ms"`
	ReadP50  float64        `json:"read_p50_ms"`
	ReadP99  float64        `json:"read_p99_ms"`
	Errors   map[string]int `json:"errors"`
	RSSMiB   float64        `json:"rss_mib"`
	HeapMiB  float64        `json:"heap_mib"` // the Go heap in use, from /metrics
}

// errorCount is the number of errors of the interval.
func (iv interval) errorCount() int {
	n := 0
	for _, c := range iv.Errors {
		n += c
	}
	return n
}

// take empties the window into an interval ending at, with the write
// kind's percentiles and those of every other kind together as reads.
func (w *window) take(at time.Duration) interval {
	w.mu.Lock()
	lat, errs := w.lat, w.errs
	w.lat, w.errs = map[string][]time.Duration{}, map[string]int{}
	span := at - w.from
	w.from = at
	w.mu.Unlock()
	writes := lat["write"]
	var reads []time.Duration
	for k, l := range lat {
		if k != "write" {
			reads = append(reads, l...)
		}
	}
	slices.Sort(writes)
	slices.Sort(reads)
	return interval{At: at.Seconds(), Span: span.Seconds(), Writes: len(writes), Reads: len(reads), Errors: errs,
		WriteP50: ms(percentile(writes, 0.5)), WriteP99: ms(percentile(writes, 0.99)),
		ReadP50: ms(percentile(reads, 0.5)), ReadP99: ms(percentile(reads, 0.99))}
}

// sumErrors adds up the errors of all intervals by kind.
func sumErrors(ivs []interval) map[string]int {
	out := map[string]int{}
	for _, iv := range ivs {
		for k, n := range iv.Errors {
			out[k] += n
		}
	}
	return out
}

// formatErrors prints errors by kind in a stable order ("none" for none).
func formatErrors(errs map[string]int) string {
	if len(errs) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, errs[k]))
	}
	return strings.Join(parts, ", ")
}

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// Linux whatever the kernel's HZ).
const clockTick = 10 * time.Millisecond

// procCPU returns the user and system CPU time process pid has used (0
// where /proc cannot be read).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	d, _ := statCPU(string(b))
	return d
}

// statCPU reads utime + stime from a /proc/PID/stat line: fields 14 and
// 15, counted after the parenthesised command name, which may hold spaces.
func statCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("a /proc/PID/stat line with %d fields", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("a /proc/PID/stat line with utime %q, stime %q", f[11], f[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}
