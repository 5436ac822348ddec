package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// benchReport is what bench prints.
type benchReport struct {
	GOMAXPROCS      int                `json:"gomaxprocs"`
	VerifyMicros    float64            `json:"ed25519_verify_us"`
	C               float64            `json:"c_per_s"`
	CAfter          float64            `json:"c_after_per_s"` // measured again after the run
	Raw             bool               `json:"raw"`
	Batch           int                `json:"batch"`
	Rate            float64            `json:"offered_requests_per_s"` // 0: flat out
	Limits          string             `json:"limits"`
	PublishInterval string             `json:"publish_interval"`
	Signatories     int                `json:"signatories"`
	Requests        int                `json:"requests"`
	Accepted        int                `json:"accepted_entries"`
	Seconds         float64            `json:"seconds"`
	PerSecond       float64            `json:"accepted_per_s"`
	FractionOfC     float64            `json:"fraction_of_c"`
	Latency         map[string]float64 `json:"latency_ms"`
	Errors          map[string]int     `json:"errors_by_status"`
	TransportError  string             `json:"transport_error,omitempty"` // one of them
	PeakRSSMiB      float64            `json:"peak_rss_mib"`
}

func (r *benchReport) summarise(out []outcome, wall time.Duration) {
	r.Errors, r.Latency = map[string]int{}, map[string]float64{}
	lat := make([]time.Duration, 0, len(out))
	for _, o := range out {
		switch {
		case o.status == -1:
			r.Errors[fmt.Sprintf("not sent (over %d in flight)", maxInFlight)]++
			continue
		case o.status == 200 || o.status == 201:
			r.Accepted += o.entries
		case o.err != nil:
			r.Errors["transport"]++
			r.TransportError = o.err.Error()
		default:
			r.Errors[strconv.Itoa(o.status)]++
		}
		lat = append(lat, o.latency)
	}
	if len(lat) == 0 {
		lat = append(lat, 0)
	}
	slices.Sort(lat)
	q := func(q float64) float64 { return ms(percentile(lat, q)) }
	r.Latency = map[string]float64{"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": q(1)}
	r.Seconds = wall.Seconds()
	r.PerSecond = float64(r.Accepted) / r.Seconds
	r.FractionOfC = r.PerSecond / r.C
}

// peakRSS reads VmHWM of this process, in MiB (0 where /proc is missing).
func peakRSS() float64 {
	kib, _ := procStatusKiB(0, "VmHWM")
	return kib / 1024
}

func (r *benchReport) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return printJSON(w, r)
	}
	mode, load := "API", "flat out"
	if r.Raw {
		mode = "raw append (no verification)"
	}
	if r.Rate > 0 {
		load = fmt.Sprintf("open loop at %.0f requests/s", r.Rate)
	}
	fmt.Fprintf(w, "C: %.0f/s (%d CPUs / %.1f µs per Ed25519 verify); %.0f/s measured again after the run\n",
		r.C, r.GOMAXPROCS, r.VerifyMicros, r.CAfter)
	if r.CAfter < 0.8*r.C || r.CAfter > 1.25*r.C {
		fmt.Fprintln(w, "WARNING: C moved by more than 20% during the run: other work shares the CPUs; the fractions of C are unreliable")
	}
	fmt.Fprintf(w, "load: %s, %s, batch %d, %d requests, %d signatories\n", mode, load, r.Batch, r.Requests, r.Signatories)
	fmt.Fprintf(w, "limits: %s; publish interval %s\n", r.Limits, r.PublishInterval)
	fmt.Fprintf(w, "accepted: %d entries in %.2fs = %.0f/s = %.3f C\n", r.Accepted, r.Seconds, r.PerSecond, r.FractionOfC)
	fmt.Fprintf(w, "latency (ms): p50 %.1f p90 %.1f p99 %.1f max %.1f\n", r.Latency["p50"], r.Latency["p90"], r.Latency["p99"], r.Latency["max"])
	fmt.Fprintf(w, "errors by status: %v\n", r.Errors)
	if r.TransportError != "" {
		fmt.Fprintf(w, "a transport error: %s\n", r.TransportError)
	}
	fmt.Fprintf(w, "peak RSS (VmHWM, server and load generator in one process): %.0f MiB\n", r.PeakRSSMiB)
	return nil
}

// printJSON prints v as indented JSON: the reports of every load.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
