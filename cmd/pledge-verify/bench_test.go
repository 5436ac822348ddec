package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/audit"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/verify/client"
	"github.com/pledgelog/pledgelog/web"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/sys/unix"
)

// BenchmarkAudit audits, with the real binary, a log of Ed25519-signed
// pledges served on loopback by the real server code on Pebble, and
// reports the audit's rate as a fraction of C = GOMAXPROCS ÷ the time of
// one Ed25519 verification, measured alone in the same run, and the
// auditor's peak RSS.
//
// The log has PLEDGE_VERIFY_BENCH_ENTRIES entries (default 1,000,000, or
// 2,000 with -short). It is built in PLEDGE_VERIFY_BENCH_DIR if set, and
// reused from there by later runs; else in a temporary directory.
//
//	PLEDGE_VERIFY_BENCH_DIR=/tmp/auditlog go test -run '^$' -bench BenchmarkAudit -benchtime 1x ./cmd/pledge-verify
func BenchmarkAudit(b *testing.B) {
	size := benchSize()
	dir := cmp.Or(os.Getenv("PLEDGE_VERIFY_BENCH_DIR"), b.TempDir())
	l, demo := benchLog(b, filepath.Join(dir, fmt.Sprintf("log-%d", size)), size)
	w, err := web.New(web.Config{Log: l, IPLimit: web.Limit{Rate: -1}, SignatoryLimit: web.Limit{Rate: -1},
		ReadLimit: web.Limit{Rate: -1}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	pk, _ := attest.NewPublicKey(demo.Registrar.Public())
	c, perVerify, verifyCPU := measureC()
	for _, mode := range []struct{ name, flag string }{{"ed25519=voi", ""}, {"ed25519=stdlib", "--stdlib-ed25519"}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				serverCPU := selfCPU()
				took, auditCPU, rss := benchAudit(b, srv.URL, l.VerifierKey(), pk.ID(), size, mode.flag)
				serverCPU = selfCPU() - serverCPU
				rate := float64(size) / took.Seconds()
				perEntry := (auditCPU + serverCPU) / time.Duration(size)
				// The CPU time of one Ed25519 verification over the CPU time
				// the audit (and the server) spent per entry: the fraction of
				// C the audit would reach on cores of its own, which a
				// machine shared with others does not give.
				cpuBound := verifyCPU.Seconds() / perEntry.Seconds()
				b.ReportMetric(rate, "entries/s")
				b.ReportMetric(c, "C")
				b.ReportMetric(rate/c, "fraction-of-C")
				b.ReportMetric(float64(auditCPU/time.Duration(size))/1e3, "auditor-cpu-µs/entry")
				b.ReportMetric(float64(serverCPU/time.Duration(size))/1e3, "server-cpu-µs/entry")
				b.ReportMetric(cpuBound, "cpu-bound-fraction-of-C")
				b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
				b.Logf("%s: audit of %d entries: %s, %.0f entries/s; crypto/ed25519 verify %s alone (%s CPU), GOMAXPROCS %d, C = %.0f/s; %.2f C; "+
					"CPU per entry: auditor %s, server %s, so %.2f C on dedicated cores; peak RSS %d MiB",
					mode.name, size, took.Round(time.Millisecond), rate, perVerify, verifyCPU, runtime.GOMAXPROCS(0), c, rate/c,
					auditCPU/time.Duration(size), serverCPU/time.Duration(size), cpuBound, rss/1024)
			}
		})
	}
}

func benchSize() uint64 {
	if s, err := strconv.ParseUint(os.Getenv("PLEDGE_VERIFY_BENCH_ENTRIES"), 10, 64); err == nil && s >= 172 {
		return s
	}
	if testing.Short() {
		return 2000
	}
	return 1_000_000
}

// measureC times Ed25519 verifications of a 500-byte message, alone on
// one thread, and returns C and the time of one: by the clock, and in
// CPU time, which others' load on a shared machine disturbs less.
func measureC() (float64, time.Duration, time.Duration) {
	_, key, _ := ed25519.GenerateKey(nil)
	msg := bytes.Repeat([]byte("x"), 500)
	sig := ed25519.Sign(key, msg)
	pub := key.Public().(ed25519.PublicKey)
	const n = 4000
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, cpu := time.Now(), threadCPU()
	for range n {
		ed25519.Verify(pub, msg, sig)
	}
	per, perCPU := time.Since(start)/n, (threadCPU()-cpu)/n
	return float64(runtime.GOMAXPROCS(0)) / per.Seconds(), per, perCPU
}

func threadCPU() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchAudit runs the binary's audit and returns its time, the CPU time
// it used, and its peak RSS in KiB.
func benchAudit(b *testing.B, url, vkey, registrar string, size uint64, flags ...string) (time.Duration, time.Duration, int64) {
	args := []string{"audit", "--url", url, "--state", b.TempDir(), "--json", "--log-key", vkey, "--registrar-key", registrar}
	for _, f := range flags {
		if f != "" {
			args = append(args, f)
		}
	}
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	hwm := make(chan int64)
	go func() { hwm <- watchHWM(cmd.Process.Pid) }()
	err := cmd.Wait()
	took := time.Since(start)
	var rep auditJSON
	if err != nil || json.Unmarshal(stdout.Bytes(), &rep) != nil || rep.Size != size || rep.Total != 0 {
		b.Fatalf("audit: %v: %s%s", err, stdout.String(), stderr.String())
	}
	ps := cmd.ProcessState
	return took, ps.UserTime() + ps.SystemTime(), <-hwm
}

// watchHWM returns the last VmHWM (peak RSS, KiB) that /proc showed for
// pid before it exited. The rusage of a child is no measure: Go starts
// children with vfork semantics, so the parent's (the server's) RSS at
// the exec counts as the child's peak.
func watchHWM(pid int) int64 {
	var last int64
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return last
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
					last = kb
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// selfCPU returns the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchLog opens the log in dir, or builds it: the demo, then pledges
// of four demo signatories, signed on every CPU and appended in batches
// with the registry's hooks, as the server would.
func benchLog(b *testing.B, dir string, size uint64) (*log.Log, *attest.Demo) {
	demo, err := attest.NewDemo(origin, []byte("bench"))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(logSeed))
	if err != nil {
		b.Fatal(err)
	}
	st, err := pebble.Open(dir, pebble.Options{})
	if err == nil {
		l, err := log.Open(context.Background(), log.Config{Origin: origin, Signer: signer, Storage: st})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return l, demo
	}
	start := time.Now()
	l := buildLog(b, dir, signer, demo, size)
	b.Logf("built a log of %d entries in %s", size, time.Since(start).Round(time.Second))
	return l, demo
}

func buildLog(b *testing.B, dir string, signer signature.Signer, demo *attest.Demo, size uint64) *log.Log {
	st, err := pebble.Create(dir, pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	lc := log.Config{Origin: origin, Signer: signer, Storage: st, PublishInterval: time.Millisecond, MaxBatchSize: 4096}
	al, err := attestlog.Create(context.Background(), lc)
	if err != nil {
		b.Fatal(err)
	}
	l := al.Log()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	if _, err := l.AppendBatch(ctx, demo.Entries); err != nil {
		b.Fatal(err)
	}
	appendPledges(b, l, al.Registry(), demo, size-uint64(len(demo.Entries)))
	for l.Published() == nil || l.Published().Size != size {
		time.Sleep(time.Millisecond)
	}
	return l
}

// appendPledges signs n pledges on every CPU and appends them in batches
// of 4,096 from two goroutines.
func appendPledges(b *testing.B, l *log.Log, reg *attest.Registry, demo *attest.Demo, n uint64) {
	batches := make(chan [][]byte, 4)
	var wg sync.WaitGroup
	var next sync.Mutex
	count := uint64(0)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				next.Lock()
				from := count
				count += min(4096, n-min(n, count))
				to := count
				next.Unlock()
				if from >= to {
					return
				}
				batches <- signBatch(b, reg, demo, from, to)
			}
		})
	}
	go func() { wg.Wait(); close(batches) }()
	var ag sync.WaitGroup
	for range 2 {
		ag.Go(func() {
			for batch := range batches {
				if _, err := l.AppendBatch(context.Background(), batch); err != nil {
					b.Error(err)
				}
			}
		})
	}
	ag.Wait()
}

var benchSignatories = []string{"microsoft", "cisco", "github", "oracle"}

func signBatch(b *testing.B, reg *attest.Registry, demo *attest.Demo, from, to uint64) [][]byte {
	a := reg.Accords()[0]
	signers := map[string]signature.Signer{}
	var out [][]byte
	for i := from; i < to; i++ {
		id := benchSignatories[i%uint64(len(benchSignatories))]
		if signers[id] == nil {
			signers[id], _ = attest.NewSigner(demo.Keys[id])
		}
		p := &attest.Pledge{Origin: origin, Signatory: id, Accord: a.ID, Principle: a.Principles[i%4].ID, Status: attest.StatusProgress,
			Statement: fmt.Sprintf("Progress report %d: benchmark data, not made or signed by the company named.", i), Effective: "2026-01-02"}
		leaf, err := attest.Sign(attest.NewPledgeStatement(p, a.Digest), signers[id])
		if err != nil {
			b.Error(err)
			return nil
		}
		out = append(out, leaf)
	}
	return slices.Clip(out)
}

// BenchmarkAuditInProcess runs the same audit as BenchmarkAudit in the
// test process, for CPU and memory profiles of the auditor (with the
// server's share):
//
//	PLEDGE_VERIFY_BENCH_DIR=/tmp/auditlog go test -run '^$' -bench BenchmarkAuditInProcess -benchtime 1x -cpuprofile cpu.prof ./cmd/pledge-verify
func BenchmarkAuditInProcess(b *testing.B) {
	size := benchSize()
	dir := cmp.Or(os.Getenv("PLEDGE_VERIFY_BENCH_DIR"), b.TempDir())
	l, _ := benchLog(b, filepath.Join(dir, fmt.Sprintf("log-%d", size)), size)
	w, err := web.New(web.Config{Log: l, IPLimit: web.Limit{Rate: -1}, SignatoryLimit: web.Limit{Rate: -1},
		ReadLimit: web.Limit{Rate: -1}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	c, err := client.New(client.Config{URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	p := &bundle.Policy{Origin: origin}
	v, err := verify.NewVerifier(l.VerifierKey())
	if err != nil {
		b.Fatal(err)
	}
	p.LogKeys = []verify.Verifier{v}
	for b.Loop() {
		start := time.Now()
		rep, err := audit.Run(context.Background(), audit.Config{Fetcher: c, Checkpoint: l.Published().Checkpoint, Dir: b.TempDir(),
			Open: func(n []byte) (verify.Checkpoint, error) { return openCheckpoint(p, n) }})
		if err != nil || rep.Total != 0 {
			b.Fatalf("audit: %v, %d findings", err, rep.Total)
		}
		b.ReportMetric(float64(size)/time.Since(start).Seconds(), "entries/s")
	}
}
