package loadgen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The reports' text is what docs/performance.md and docs/reliability.md
// quote and what people compare between runs: these tests pin its lines
// and fields.

func TestBenchReportText(t *testing.T) {
	r := &benchReport{GOMAXPROCS: 2, VerifyMicros: 66.8, C: 29934, CAfter: 20000, Batch: 1,
		Limits: "per-IP and per-signatory rate limits off (web.Limit{Rate: -1})", PublishInterval: "1s", Signatories: 16, Requests: 5000}
	out := make([]outcome, 0, 5000)
	for i := range 4998 {
		out = append(out, outcome{status: 201, latency: time.Duration(i+1) * 10 * time.Microsecond, entries: 1})
	}
	out = append(out, outcome{status: 503, latency: time.Millisecond, entries: 1}, outcome{status: -1, entries: 1})
	r.summarise(out, 2*time.Second)
	r.PeakRSSMiB = 91
	var b bytes.Buffer
	if err := r.print(&b, false); err != nil {
		t.Fatal(err)
	}
	want := `C: 29934/s (2 CPUs / 66.8 µs per Ed25519 verify); 20000/s measured again after the run
WARNING: C moved by more than 20% during the run: other work shares the CPUs; the fractions of C are unreliable
load: API, flat out, batch 1, 5000 requests, 16 signatories
limits: per-IP and per-signatory rate limits off (web.Limit{Rate: -1}); publish interval 1s
accepted: 4998 entries in 2.00s = 2499/s = 0.083 C
latency (ms): p50 25.0 p90 45.0 p99 49.5 max 50.0
errors by status: map[503:1 not sent (over 4096 in flight):1]
peak RSS (VmHWM, server and load generator in one process): 91 MiB
`
	if b.String() != want {
		t.Errorf("the bench's report:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := r.print(&b, true); err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b.Bytes(), &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"gomaxprocs", "ed25519_verify_us", "c_per_s", "c_after_per_s", "raw", "batch", "offered_requests_per_s",
		"limits", "publish_interval", "signatories", "requests", "accepted_entries", "seconds", "accepted_per_s", "fraction_of_c",
		"latency_ms", "errors_by_status", "peak_rss_mib"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("the JSON report has no %q: %s", k, b.String())
		}
	}
	if !strings.HasPrefix(b.String(), "{\n  \"") {
		t.Errorf("the JSON report is not indented: %s", b.String())
	}
}

func TestSoakReportText(t *testing.T) {
	r := &soakReport{MaxPerSecond: 2925, Rate: 1462, Readers: 4, Seconds: 12, C: 32847, CAfter: 33879,
		Intervals: []interval{
			{At: 4, Span: 4, Writes: 5840, Reads: 604, WriteP50: 4.7, WriteP99: 23, ReadP50: 1, ReadP99: 8.3, RSSMiB: 138, HeapMiB: 45, Errors: map[string]int{}},
			{At: 8, Span: 4, Writes: 5852, Reads: 604, WriteP50: 4.4, WriteP99: 18.4, ReadP50: 0.8, ReadP99: 7.2, RSSMiB: 196, HeapMiB: 80, Errors: map[string]int{"write 503": 2}},
		}}
	r.Errors = sumErrors(r.Intervals)
	var b bytes.Buffer
	if err := r.print(&b, false); err != nil {
		t.Fatal(err)
	}
	want := `C: 32847/s before, 33879/s after the run
maximum measured: 2925 writes/s; soak: 1462 writes/s offered, 4 readers, 12 s
   t (s)  writes/s  write p50  write p99   reads/s  read p50  read p99   RSS MiB  heap MiB  errors
       4      1460     4.7 ms    23.0 ms       151    1.0 ms    8.3 ms       138        45  none
       8      1463     4.4 ms    18.4 ms       151    0.8 ms    7.2 ms       196        80  write 503: 2
errors: write 503: 2
server RSS: 138 MiB in the first interval, 196 MiB in the last, 196 MiB at most; Go heap in use 45 → 80 MiB
`
	if b.String() != want {
		t.Errorf("the soak's report:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWitnessReportText(t *testing.T) {
	r := &witnessReport{Witnesses: 3, Quorum: 2, Publish: "1s", C: 22561, CAfter: 17000,
		Segments: []segment{
			{Witnessed: false, Accepted: 3000, Seconds: 1.47, PerSecond: 2040, Errors: "none", ServerCPUMicro: 387},
			{Witnessed: true, Accepted: 3000, Seconds: 1.83, PerSecond: 1635, Errors: "none", ServerCPUMicro: 423, WitnessCPU: 7},
		},
		Plain: 2117, Cosigned: 1807, Ratio: 0.853,
		Latency: []publishLatency{
			{Witnessed: false, Rate: 1059, Acked: 31756, P50: 503, P99: 3080, Max: 3347},
			{Witnessed: true, Rate: 1059, Acked: 31756, P50: 549, P99: 1780, Max: 2133, Missing: 1},
		}}
	var b bytes.Buffer
	if err := r.print(&b, false); err != nil {
		t.Fatal(err)
	}
	want := `C: 22561/s before, 17000/s after the run
WARNING: C moved by more than 20% during the run: other work shares the CPUs
witnesses: 3 pledge-verify witness serve processes, quorum 2; publish interval 1s
round 1 unwitnessed   3000 entries in   1.47s =   2040/s; CPU per entry: server  387 µs, witnesses    0 µs; errors: none
round 1 witnessed     3000 entries in   1.83s =   1635/s; CPU per entry: server  423 µs, witnesses    7 µs; errors: none
throughput: unwitnessed 2117/s, witnessed 1807/s: ratio 0.853 (target ≥ 0.95)
commit → published /checkpoint, unwitnessed at 1059 writes/s: 31756 acked, p50 503 ms, p99 3080 ms, max 3347 ms, 0 never covered
commit → cosigned /checkpoint (quorum 2 of 3) at 1059 writes/s: 31756 acked, p50 549 ms, p99 1780 ms, max 2133 ms, 1 never covered
`
	if b.String() != want {
		t.Errorf("the witnessed bench's report:\n%s\nwant:\n%s", b.String(), want)
	}
}
