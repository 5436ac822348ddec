package loadgen

// bench --witnesses N: the same write load on two pledgelog serve
// processes, one publishing unwitnessed and one with N real
// pledge-verify witnesses (a majority quorum), in alternating rounds; then
// the time from each write's 201 to a /checkpoint that covers it (see
// docs/performance.md, "Witnessed writes").

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// segment is one flat-out run on one log.
type segment struct {
	Witnessed      bool    `json:"witnessed"`
	Accepted       int     `json:"accepted"`
	Seconds        float64 `json:"seconds"`
	PerSecond      float64 `json:"accepted_per_s"`
	Errors         string  `json:"errors"`
	ServerCPUMicro float64 `json:"server_cpu_us_per_entry"`
	WitnessCPU     float64 `json:"witness_cpu_us_per_entry"` // all witnesses together
}

// publishLatency is the commit → checkpoint timing on one log.
type publishLatency struct {
	Witnessed bool    `json:"witnessed"`
	Rate      float64 `json:"offered_per_s"`
	Acked     int     `json:"acked"`
	Missing   int     `json:"never_covered"` // within the wait after the last write
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
}

// witnessReport is what bench --witnesses prints.
type witnessReport struct {
	Witnesses int              `json:"witnesses"`
	Quorum    int              `json:"quorum"`
	Publish   string           `json:"publish_interval"`
	C         float64          `json:"c_per_s"`
	CAfter    float64          `json:"c_after_per_s"`
	Segments  []segment        `json:"segments"`
	Plain     float64          `json:"plain_per_s"`
	Cosigned  float64          `json:"witnessed_per_s"`
	Ratio     float64          `json:"ratio"`
	Latency   []publishLatency `json:"latency"`
}

// benchLogs are the two logs under test and the witnesses.
type benchLogs struct {
	plainLog, witnessedLog *demoLog
	plain, witnessed       *benchProc
	witnesses              []*benchProc
	pol                    *policy.Policy
	quorum                 int
}

func (b *benchLogs) stop() {
	for _, p := range append([]*benchProc{b.plain, b.witnessed}, b.witnesses...) {
		if p != nil {
			p.stop()
		}
	}
}

// runWitnessBench runs the witnessed bench.
func runWitnessBench(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	rep := &witnessReport{Witnesses: cfg.Witnesses, Publish: cfg.Publish.String()}
	_, rep.C = measureC()
	dir, cleanup, err := benchDir(cfg.Dir)
	if err != nil {
		return err
	}
	defer cleanup()
	logs, err := startWitnessedLogs(ctx, cfg, dir, stderr)
	if logs != nil {
		defer logs.stop()
	}
	if err != nil {
		return err
	}
	rep.Quorum = logs.quorum
	accord, keys, err := registerBoth(ctx, logs, cfg.Signatories)
	if err != nil {
		return err
	}
	hc := newHTTPClient()
	for r := range cfg.WitnessRounds {
		reqs, err := benchRequests(accord, benchOrigin, keys, cfg, r*cfg.Entries)
		if err != nil {
			return err
		}
		for k := range 2 {
			witnessed := (r+k)%2 == 1 // plain first in even rounds
			s := runSegment(ctx, hc, logs, witnessed, reqs, cfg.Concurrency)
			fmt.Fprintf(stderr, "round %d, %s: %.0f/s (%s)\n", r+1, logName(witnessed), s.PerSecond, s.Errors)
			rep.Segments = append(rep.Segments, s)
		}
	}
	rep.Plain, rep.Cosigned = meanRate(rep.Segments, false), meanRate(rep.Segments, true)
	rep.Ratio = rep.Cosigned / rep.Plain
	rate := rep.Plain / 2
	first := cfg.WitnessRounds * cfg.Entries
	for _, witnessed := range []bool{false, true} {
		n := max(1, int(rate*cfg.WitnessLatencyFor.Seconds()))
		reqs, err := benchRequests(accord, benchOrigin, keys, &Config{Entries: n, Batch: 1}, first)
		if err != nil {
			return err
		}
		first += n
		pl, err := timePublication(ctx, hc, logs, witnessed, reqs, rate, cfg, stderr)
		if err != nil {
			return err
		}
		rep.Latency = append(rep.Latency, pl)
	}
	_, rep.CAfter = measureC()
	return rep.print(stdout, cfg.JSON)
}

func logName(witnessed bool) string {
	if witnessed {
		return "witnessed"
	}
	return "unwitnessed"
}

// startWitnessedLogs creates the two demo logs, starts the witnesses of
// the second and serves both.
func startWitnessedLogs(ctx context.Context, cfg *Config, dir string, stderr io.Writer) (*benchLogs, error) {
	logs := &benchLogs{quorum: cfg.Witnesses/2 + 1}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var err error
	if logs.plainLog, logs.plain, err = startBenchLog(ctx, cfg, filepath.Join(dir, "plain"), stderr); err != nil {
		return logs, err
	}
	if logs.witnessedLog, err = initLog(ctx, cfg, filepath.Join(dir, "witnessed"), stderr); err != nil {
		return logs, err
	}
	vkey := logs.witnessedLog.vkey
	text := "log " + vkey + "\n"
	var names []string
	for i := 1; i <= cfg.Witnesses; i++ {
		w, err := startWitness(ctx, cfg.VerifyBinary, dir, i, vkey)
		if err != nil {
			return logs, err
		}
		logs.witnesses = append(logs.witnesses, w)
		names = append(names, fmt.Sprintf("w%d", i))
		text += fmt.Sprintf("witness w%d %s %s\n", i, w.vkey, w.url)
	}
	text += fmt.Sprintf("group majority %d %s\nquorum majority\n", logs.quorum, strings.Join(names, " "))
	if logs.pol, err = policy.Parse([]byte(text)); err != nil {
		return logs, fmt.Errorf("the bench's witness policy: %w", err)
	}
	polFile := filepath.Join(dir, "policy")
	if err := os.WriteFile(polFile, []byte(text), 0o644); err != nil {
		return logs, err
	}
	logs.witnessed, err = serveBenchLog(ctx, cfg, logs.witnessedLog, "--policy", polFile)
	return logs, err
}

// registerBoth registers the same k signatories on both logs (same
// origin, so one pre-signed pledge is valid on either) and returns the
// accord they pledge to, which must be the same on both.
func registerBoth(ctx context.Context, logs *benchLogs, k int) (*attest.AccordInfo, []*client.Key, error) {
	keys, err := benchKeys(k)
	if err != nil {
		return nil, nil, err
	}
	var accords []*attest.AccordInfo
	for _, l := range []struct {
		d    *demoLog
		p    *benchProc
		name string
	}{{logs.plainLog, logs.plain, "plain"}, {logs.witnessedLog, logs.witnessed, "witnessed"}} {
		_, a, err := registerKeys(ctx, client.New(l.p.url), l.d, keys)
		if err != nil {
			return nil, nil, fmt.Errorf("the %s log: %w", l.name, err)
		}
		accords = append(accords, a)
	}
	if accords[0].Digest != accords[1].Digest {
		return nil, nil, errors.New("the two demo logs have different accords: the same pledges cannot go to both")
	}
	return accords[0], keys, nil
}

// runSegment sends reqs flat out to one log and measures it, with the
// CPU time its server and the witnesses spent meanwhile.
func runSegment(ctx context.Context, hc *http.Client, logs *benchLogs, witnessed bool, reqs []benchRequest, workers int) segment {
	p := logs.plain
	if witnessed {
		p = logs.witnessed
	}
	cpu0, wcpu0 := procCPU(p.pid()), witnessCPU(logs)
	out := make([]outcome, len(reqs))
	start := time.Now()
	closedLoop(ctx, hc, p.url, reqs, workers, out)
	r := &benchReport{C: 1}
	r.summarise(out, time.Since(start))
	s := segment{Witnessed: witnessed, Accepted: r.Accepted, Seconds: r.Seconds, PerSecond: r.PerSecond, Errors: formatErrors(r.Errors)}
	if r.Accepted > 0 {
		s.ServerCPUMicro = (procCPU(p.pid()) - cpu0).Seconds() * 1e6 / float64(r.Accepted)
		s.WitnessCPU = (witnessCPU(logs) - wcpu0).Seconds() * 1e6 / float64(r.Accepted)
	}
	return s
}

func witnessCPU(logs *benchLogs) time.Duration {
	var sum time.Duration
	for _, w := range logs.witnesses {
		sum += procCPU(w.pid())
	}
	return sum
}

// meanRate is the accepted entries per second of the segments on one log,
// all together.
func meanRate(segs []segment, witnessed bool) float64 {
	n, secs := 0, 0.0
	for _, s := range segs {
		if s.Witnessed == witnessed {
			n += s.Accepted
			secs += s.Seconds
		}
	}
	return float64(n) / secs
}

// ack is a write's answer: when the 201 arrived and the entry's index.
type ack struct {
	at    time.Time
	index uint64
}

// sighting is one read of /checkpoint: when it was sent and answered and
// the size it showed (with the quorum, on the witnessed log).
type sighting struct {
	sent, answered time.Time
	size           uint64
}

// timePublication writes reqs at rate to one log, open loop, while
// polling its /checkpoint, and times each acknowledged entry from its 201
// to the answer of the first read sent after it whose checkpoint covers
// it (size > index, and on the witnessed log a quorum of cosignatures).
func timePublication(ctx context.Context, hc *http.Client, logs *benchLogs, witnessed bool, reqs []benchRequest, rate float64, cfg *Config, stderr io.Writer) (publishLatency, error) {
	p, q := logs.plain, verify.Quorum(nil)
	if witnessed {
		p, q = logs.witnessed, logs.pol
	}
	v, err := verify.NewVerifier(p.vkey)
	if err != nil {
		return publishLatency{}, err
	}
	pctx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	poll := &poller{hc: hc, url: p.url, v: v, q: q}
	polled := make(chan struct{})
	go func() { poll.run(pctx, cfg.WitnessPoll); close(polled) }()
	acks := ackLoop(ctx, hc, p.url, reqs, rate)
	var last ack
	for _, a := range acks {
		last.index, last.at = max(last.index, a.index), latest(last.at, a.at)
	}
	for end := time.Now().Add(10*cfg.Publish + 10*time.Second); time.Now().Before(end) && !poll.covers(last); {
		time.Sleep(cfg.WitnessPoll)
	}
	stopPolling()
	<-polled
	lat, missing := coverLatencies(acks, poll.seen)
	pl := publishLatency{Witnessed: witnessed, Rate: rate, Acked: len(acks), Missing: missing}
	if len(lat) > 0 {
		pl.P50, pl.P99, pl.Max = ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)), ms(lat[len(lat)-1])
	}
	fmt.Fprintf(stderr, "%s: %d writes at %.0f/s, commit → checkpoint p50 %.0f ms, p99 %.0f ms\n", logName(witnessed), len(acks), rate, pl.P50, pl.P99)
	return pl, nil
}

// poller reads a log's /checkpoint again and again and keeps what it saw.
type poller struct {
	hc  *http.Client
	url string
	v   verify.Verifier
	q   verify.Quorum

	mu   sync.Mutex
	seen []sighting // in the order sent
}

// run reads /checkpoint every interval until ctx is done. A checkpoint
// counts only if it verifies with the log's key and meets q.
func (p *poller) run(ctx context.Context, every time.Duration) {
	for ctx.Err() == nil {
		sent := time.Now()
		body, _, fail := get(ctx, p.hc, p.url+"/checkpoint")
		if fail == "" {
			if c, _, err := verify.OpenCosigned(body, benchOrigin, []verify.Verifier{p.v}, p.q); err == nil {
				p.mu.Lock()
				p.seen = append(p.seen, sighting{sent, time.Now(), c.Size})
				p.mu.Unlock()
			}
		}
		time.Sleep(every)
	}
}

// covers reports whether a checkpoint read sent at or after a.at covered
// a.index: then every entry acknowledged by then has its sighting.
func (p *poller) covers(a ack) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.seen)
	return n > 0 && !p.seen[n-1].sent.Before(a.at) && p.seen[n-1].size > a.index
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ackLoop sends reqs at rate, open loop, and returns the acknowledged
// entries (a 201 with a bundle).
func ackLoop(ctx context.Context, hc *http.Client, url string, reqs []benchRequest, rate float64) []ack {
	var mu sync.Mutex
	var acks []ack
	var wg sync.WaitGroup
	every := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := range reqs {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			status, body, err := send(ctx, hc, url, &reqs[i], true)
			at := time.Now()
			if err != nil || status != http.StatusCreated {
				return
			}
			if b, err := bundle.Parse(body); err == nil {
				mu.Lock()
				acks = append(acks, ack{at, b.Entry.Index})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acks
}

// coverLatencies returns, sorted, each ack's time from its 201 to the
// answer of the first sighting sent at or after it that covers its index,
// and the number of acks no sighting covers. seen is in the order sent.
func coverLatencies(acks []ack, seen []sighting) ([]time.Duration, int) {
	var lat []time.Duration
	missing := 0
	for _, a := range acks {
		i := sort.Search(len(seen), func(i int) bool { return !seen[i].sent.Before(a.at) })
		for ; i < len(seen) && seen[i].size <= a.index; i++ {
		}
		if i == len(seen) {
			missing++
			continue
		}
		lat = append(lat, seen[i].answered.Sub(a.at))
	}
	slices.Sort(lat)
	return lat, missing
}

func (r *witnessReport) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return printJSON(w, r)
	}
	printC(w, r.C, r.CAfter)
	fmt.Fprintf(w, "witnesses: %d pledge-verify witness serve processes, quorum %d; publish interval %s\n", r.Witnesses, r.Quorum, r.Publish)
	for i, s := range r.Segments {
		fmt.Fprintf(w, "round %d %-11s %6d entries in %6.2fs = %6.0f/s; CPU per entry: server %4.0f µs, witnesses %4.0f µs; errors: %s\n",
			i/2+1, logName(s.Witnessed), s.Accepted, s.Seconds, s.PerSecond, s.ServerCPUMicro, s.WitnessCPU, s.Errors)
	}
	fmt.Fprintf(w, "throughput: unwitnessed %.0f/s, witnessed %.0f/s: ratio %.3f (target ≥ 0.95)\n", r.Plain, r.Cosigned, r.Ratio)
	for _, l := range r.Latency {
		what := "published /checkpoint, unwitnessed"
		if l.Witnessed {
			what = fmt.Sprintf("cosigned /checkpoint (quorum %d of %d)", r.Quorum, r.Witnesses)
		}
		fmt.Fprintf(w, "commit → %s at %.0f writes/s: %d acked, p50 %.0f ms, p99 %.0f ms, max %.0f ms, %d never covered\n",
			what, l.Rate, l.Acked, l.P50, l.P99, l.Max, l.Missing)
	}
	return nil
}
