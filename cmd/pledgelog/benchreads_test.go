package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchReads runs bench --reads briefly, as JSON and as text, and
// checks the report's structure: every target read from both servers,
// each answer the file server gave the bytes (length and encoding) the
// log gave, and a ratio; no figure is judged. It also refuses the
// combinations --reads does not take.
func TestBenchReads(t *testing.T) {
	args := []string{"bench", "--reads", "--entries", "300", "--signatories", "2", "--publish-interval", "20ms",
		"--read-for", "200ms", "--read-workers", "4"}
	code, stdout, stderr := pledgelog(t, nil, append(args, "--json")...)
	var rep struct {
		Written int     `json:"written_entries"`
		Size    uint64  `json:"log_size"`
		Workers int     `json:"workers"`
		Seconds float64 `json:"seconds_each"`
		Load    string  `json:"load_average_before"`
		Reads   []struct {
			Name, Path, Encoding string
			ContentEncoding      string `json:"content_encoding"`
			Bytes                int
			Ratio                *float64
			Pledgelog            *struct {
				Requests int     `json:"requests"`
				Errors   int     `json:"errors"`
				PerSec   float64 `json:"per_s"`
				Error    string  `json:"error"`
			} `json:"pledgelog"`
			FileServer *struct {
				Requests int     `json:"requests"`
				Errors   int     `json:"errors"`
				PerSec   float64 `json:"per_s"`
				Error    string  `json:"error"`
			} `json:"file_server"`
		} `json:"reads"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil {
		t.Fatalf("bench --reads --json = %d (%v): %s%s", code, err, stdout, stderr)
	}
	if rep.Written != 300 || rep.Size <= 300 || rep.Workers != 4 || rep.Seconds != 0.2 || rep.Load == "" {
		t.Errorf("bench --reads reported written %d, size %d, workers %d, %gs each, load %q", rep.Written, rep.Size, rep.Workers, rep.Seconds, rep.Load)
	}
	want := []string{"checkpoint", "tile-partial", "tile-full", "bundle-full", "bundle-full.gz", "proof-inclusion", "entry", "home"}
	var got []string
	for _, r := range rep.Reads {
		got = append(got, r.Name)
		switch {
		case r.Pledgelog == nil || r.FileServer == nil || r.Ratio == nil || r.Bytes == 0:
			t.Errorf("%s: a read without both servers' figures, a ratio or its size: %+v", r.Name, r)
		case r.Pledgelog.Requests == 0 || r.FileServer.Requests == 0:
			t.Errorf("%s: %d requests to the log, %d to the file server", r.Name, r.Pledgelog.Requests, r.FileServer.Requests)
		case r.Pledgelog.Errors != 0 || r.FileServer.Errors != 0:
			t.Errorf("%s: errors: the log %d (%s), the file server %d (%s)", r.Name, r.Pledgelog.Errors, r.Pledgelog.Error, r.FileServer.Errors, r.FileServer.Error)
		}
		if gz := r.Name == "bundle-full.gz"; gz != (r.ContentEncoding == "gzip") {
			t.Errorf("%s answered with Content-Encoding %q", r.Name, r.ContentEncoding)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("bench --reads read %q, want %q", got, want)
	}

	code, stdout, stderr = pledgelog(t, nil, args...)
	if code != 0 {
		t.Fatalf("bench --reads = %d: %s%s", code, stdout, stderr)
	}
	for _, s := range []string{"file server/s", "ratio", "/checkpoint", "/tile/entries/000 (gzip)", "/api/v1/entries/", "load average: "} {
		if !strings.Contains(stdout, s) {
			t.Errorf("bench --reads printed no %q:\n%s", s, stdout)
		}
	}

	for _, bad := range [][]string{
		{"bench", "--read-for", "1s"},
		{"bench", "--reads", "--raw"},
		{"bench", "--reads", "--read-workers", "0"},
		{"bench", "--reads", "--url", "http://127.0.0.1:1", "--registrar-key", "k"},
	} {
		if code, _, stderr := pledgelog(t, nil, bad...); code != 2 || !strings.Contains(stderr, "--read") {
			t.Errorf("pledgelog %q = %d, %q; want 2 and a message naming --reads or its flags", bad, code, stderr)
		}
	}
}
