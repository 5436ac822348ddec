package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/internal/loadgen"
	"golang.org/x/mod/sumdb/note"
)

// peersFlags are bench's --peers flags: our raw append bench and
// Tessera's POSIX conformance server under Tessera's own hammer, run
// alternately (make bench-peers, docs/performance.md).
type peersFlags struct {
	dir   string
	pairs int
}

// peersEntries is --entries with --peers when it is not given.
const peersEntries = 100000

func (p *peersFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&p.dir, "peers", "", "compare --raw with Tessera's POSIX conformance server written to by Tessera's hammer, both binaries (posix, hammer) in this directory (make bench-peers installs them): --entries (default 100000) each, --concurrency writers, in alternating runs")
	fl.IntVar(&p.pairs, "peer-pairs", 3, "--peers: pairs of runs, ours and Tessera's, the order alternating")
}

// check refuses what --peers does not combine with.
func (p *peersFlags) check(fl *flag.FlagSet, f *loadgen.Config, reads *readsFlags) error {
	set := map[string]bool{}
	fl.Visit(func(g *flag.Flag) { set[g.Name] = true })
	switch {
	case p.dir == "" && set["peer-pairs"]:
		return usageError{Err: errors.New("--peer-pairs goes with --peers")}
	case p.dir == "":
		return nil
	case p.pairs < 1:
		return usageError{Err: errors.New("--peer-pairs must be positive")}
	case reads.on || f.Soak > 0 || f.Witnesses > 0 || len(f.URLs) > 0 || f.Rate != 0 || f.Batch != 1 || f.Dir != "" || f.CPUProfile != "" || f.MemProfile != "":
		return usageError{Err: errors.New("--peers runs the raw bench flat out: drop --reads, --soak, --witnesses, --url, --rate, --batch, --data and the profiles")}
	}
	for _, b := range []string{"posix", "hammer"} {
		if _, err := os.Stat(filepath.Join(p.dir, b)); err != nil {
			return usageError{Err: fmt.Errorf("--peers %s: no %s binary there (make bench-peers installs Tessera's): %w", p.dir, b, err)}
		}
	}
	if !set["entries"] {
		f.Entries = peersEntries
	}
	f.Raw = true
	return nil
}

// peerRun is one run of either log.
type peerRun struct {
	Log     string  `json:"log"` // "pledgelog --raw" or "tessera posix"
	Entries int     `json:"entries"`
	PerSec  float64 `json:"per_s"`
	// Tessera's: the hammer's own figure (entries ÷ the time until it saw
	// a checkpoint covering them, polled each second), and the steady
	// growth of the published checkpoint's size (PerSec).
	HammerPerSec float64 `json:"hammer_per_s,omitempty"`
	Seconds      float64 `json:"seconds"`
	LoadAverage  string  `json:"load_average"`
}

// peerPair is a pair of runs and its ratio.
type peerPair struct {
	Pledgelog peerRun `json:"pledgelog"`
	Tessera   peerRun `json:"tessera"`
	Ratio     float64 `json:"ratio"` // pledgelog's rate ÷ Tessera's
}

// peersReport is what bench --peers prints.
type peersReport struct {
	Writers int        `json:"writers"`
	Entries int        `json:"entries"`
	Pairs   []peerPair `json:"pairs"`
}

// runBenchPeers runs p.pairs pairs of runs, ours (the raw bench, in this
// process) and Tessera's (its POSIX server and its hammer, two
// processes), alternating which goes first.
func runBenchPeers(ctx context.Context, cfg *loadgen.Config, p *peersFlags, stdout, stderr io.Writer) error {
	rep := &peersReport{Writers: cfg.Concurrency, Entries: cfg.Entries}
	for i := range p.pairs {
		var pair peerPair
		ours := func() error {
			fmt.Fprintf(stderr, "pair %d: pledgelog bench --raw --concurrency %d --entries %d\n", i+1, cfg.Concurrency, cfg.Entries)
			r, err := runOurs(ctx, cfg, stderr)
			pair.Pledgelog = r
			return err
		}
		theirs := func() error {
			fmt.Fprintf(stderr, "pair %d: Tessera's posix under its hammer, %d writers, %d leaves\n", i+1, cfg.Concurrency, cfg.Entries)
			r, err := runTessera(ctx, p.dir, cfg.Concurrency, cfg.Entries, stderr)
			pair.Tessera = r
			return err
		}
		first, second := ours, theirs
		if i%2 == 1 {
			first, second = theirs, ours
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		if pair.Tessera.PerSec > 0 {
			pair.Ratio = pair.Pledgelog.PerSec / pair.Tessera.PerSec
		}
		rep.Pairs = append(rep.Pairs, pair)
		fmt.Fprintf(stderr, "pair %d: %.0f/s vs %.0f/s: %.2f×\n", i+1, pair.Pledgelog.PerSec, pair.Tessera.PerSec, pair.Ratio)
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "%d writers, %d entries a run; Tessera v1.0.4's POSIX conformance server and hammer (no duplicates, no readers)\n", rep.Writers, rep.Entries)
	fmt.Fprintln(stdout, "pair  pledgelog --raw/s  tessera/s (hammer's own)  ratio  load average (ours; theirs)")
	for i, x := range rep.Pairs {
		fmt.Fprintf(stdout, "%4d  %17.0f  %9.0f (%.0f)  %11.2f  %s; %s\n", i+1, x.Pledgelog.PerSec, x.Tessera.PerSec, x.Tessera.HammerPerSec,
			x.Ratio, x.Pledgelog.LoadAverage, x.Tessera.LoadAverage)
	}
	return nil
}

// runOurs runs the raw bench once, in this process.
func runOurs(ctx context.Context, cfg *loadgen.Config, stderr io.Writer) (peerRun, error) {
	r := peerRun{Log: "pledgelog --raw", Entries: cfg.Entries, LoadAverage: loadAverage()}
	c := *cfg
	c.JSON, c.Raw = true, true
	var out bytes.Buffer
	if err := loadgen.Run(ctx, c, &out, stderr); err != nil {
		return r, err
	}
	var rep struct {
		Accepted  int     `json:"accepted_entries"`
		PerSecond float64 `json:"accepted_per_s"`
		Seconds   float64 `json:"seconds"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return r, fmt.Errorf("reading the raw bench's report: %w", err)
	}
	if rep.Accepted != cfg.Entries {
		return r, fmt.Errorf("the raw bench appended %d entries of %d", rep.Accepted, cfg.Entries)
	}
	r.PerSec, r.Seconds = rep.PerSecond, rep.Seconds
	return r, nil
}

// hammerDone is the hammer's last word: "Reached tree size goal of N after D; exiting".
var hammerDone = regexp.MustCompile(`Reached tree size goal of (\d+) after (\S+); exiting`)

// runTessera runs Tessera's POSIX conformance server on a new log in a
// temporary directory, with a new key, and its hammer writing leaves
// distinct leaves with writers writers and no readers; it returns the
// hammer's figure and the steady growth of the checkpoint it polls.
func runTessera(ctx context.Context, dir string, writers, leaves int, stderr io.Writer) (peerRun, error) {
	r := peerRun{Log: "tessera posix", Entries: leaves, LoadAverage: loadAverage()}
	tmp, err := os.MkdirTemp("", "pledgelog-bench-tessera")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(tmp)
	skey, vkey, err := note.GenerateKey(rand.Reader, "localhost/bench-tessera")
	if err != nil {
		return r, err
	}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	url := "http://" + addr
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srvLog, err := os.Create(filepath.Join(tmp, "posix.log"))
	if err != nil {
		return r, err
	}
	defer srvLog.Close()
	srv := exec.CommandContext(ctx, filepath.Join(dir, "posix"), "--storage_dir", filepath.Join(tmp, "log"), "--listen", addr, "--v", "0")
	srv.Env = append(os.Environ(), "LOG_PRIVATE_KEY="+skey)
	srv.Stdout, srv.Stderr = srvLog, srvLog
	if err := srv.Start(); err != nil {
		return r, err
	}
	defer func() { cancel(); srv.Wait() }()
	if _, err := peerCheckpointSize(ctx, url, 10*time.Second); err != nil {
		return r, fmt.Errorf("tessera's posix server (log: %s): %w", srvLog.Name(), err)
	}

	hammer := exec.CommandContext(ctx, filepath.Join(dir, "hammer"), "--log_url", url+"/", "--log_public_key", vkey,
		"--num_writers", strconv.Itoa(writers), "--max_write_ops", "1000000", "--dup_chance", "0",
		"--max_read_ops", "0", "--num_readers_random", "0", "--num_readers_full", "0",
		"--leaf_write_goal", strconv.Itoa(leaves), "--max_runtime", "10m", "--show_ui=false")
	hout, err := hammer.StderrPipe()
	if err != nil {
		return r, err
	}
	hammer.Stdout = io.Discard
	samples := make(chan []sizeSample, 1)
	pctx, stopPoll := context.WithCancel(ctx)
	go func() { samples <- pollSizes(pctx, url) }()
	start := time.Now()
	if err := hammer.Start(); err != nil {
		stopPoll()
		return r, err
	}
	var last string
	sc := bufio.NewScanner(hout)
	for sc.Scan() {
		if m := hammerDone.FindStringSubmatch(sc.Text()); m != nil {
			last = m[0]
			if d, err := time.ParseDuration(m[2]); err == nil && d > 0 {
				r.HammerPerSec = float64(leaves) / d.Seconds()
			}
		}
	}
	err = hammer.Wait()
	r.Seconds = time.Since(start).Seconds()
	stopPoll()
	s := <-samples
	if err != nil || last == "" {
		return r, fmt.Errorf("tessera's hammer: %v, without reaching its goal", err)
	}
	r.PerSec = steadyRate(s)
	return r, nil
}

// sizeSample is a checkpoint size seen at a time.
type sizeSample struct {
	at   time.Time
	size uint64
}

// pollSizes reads the checkpoint's size at url every 100 ms until ctx is
// done.
func pollSizes(ctx context.Context, url string) []sizeSample {
	var s []sizeSample
	for ctx.Err() == nil {
		if n, err := peerCheckpointSize(ctx, url, 0); err == nil {
			s = append(s, sizeSample{time.Now(), n})
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return s
}

// steadyRate is the growth of the size between the first sample after
// it first grew and the first sample at its final value: the rate at
// which checkpoints covered new entries, the lag of publishing taken out
// at both ends.
func steadyRate(s []sizeSample) float64 {
	if len(s) < 2 {
		return 0
	}
	i := 0
	for i+1 < len(s) && s[i+1].size == s[0].size {
		i++
	}
	i++ // the first sample that grew
	j := len(s) - 1
	for j > 0 && s[j-1].size == s[j].size {
		j--
	}
	if i >= j || i >= len(s) {
		return 0
	}
	return float64(s[j].size-s[i].size) / s[j].at.Sub(s[i].at).Seconds()
}

var peerClient = &http.Client{Timeout: 5 * time.Second}

// peerCheckpointSize reads the size of the checkpoint at url, retrying for
// up to wait.
func peerCheckpointSize(ctx context.Context, url string, wait time.Duration) (uint64, error) {
	deadline := time.Now().Add(wait)
	for {
		n, err := readCheckpointSize(ctx, url)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return n, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readCheckpointSize(ctx context.Context, url string) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/checkpoint", nil)
	if err != nil {
		return 0, err
	}
	resp, err := peerClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s/checkpoint: %d %v", url, resp.StatusCode, err)
	}
	lines := strings.SplitN(string(b), "\n", 3)
	if len(lines) < 3 {
		return 0, fmt.Errorf("GET %s/checkpoint: not a checkpoint", url)
	}
	return strconv.ParseUint(lines[1], 10, 64)
}

// freeAddr returns a loopback address free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
