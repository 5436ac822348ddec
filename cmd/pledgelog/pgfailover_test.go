package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify"
	vclient "github.com/pledgelog/pledgelog/verify/client"
)

// TestPostgresFailover runs three pledgelog serve processes on one
// PostgreSQL database under write load (batches of pledges posted to every
// instance in turn), kills the instance that holds the sequencer lease with
// SIGKILL, and wants: writes acknowledged again after the kill (the gap is
// printed), every acknowledged entry in the log at its index with its
// bytes, and every checkpoint seen (served, or in a batch's answer) signed
// by the log and consistent with the last one, proved from the survivors'
// tiles by the verify package.
func TestPostgresFailover(t *testing.T) {
	const seed = "pg failover"
	d, env, _, vkey := pgInit(t, seed)
	var servers []*server
	for i := range 3 {
		di := dataDir(filepath.Join(t.TempDir(), fmt.Sprintf("instance%d", i)))
		if out, err := exec.Command("cp", "-a", string(d), string(di)).CombinedOutput(); err != nil {
			t.Fatalf("copying the data directory: %v: %s", err, out)
		}
		servers = append(servers, startServeEnv(t, di, env, "--ip-rate", "-1", "--signatory-rate", "-1"))
	}
	leader := waitLeader(t, servers)
	t.Logf("instance %d holds the sequencer lease", leader)

	demo, err := attest.NewDemo(pgOrigin, []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	a, err := client.New(servers[0].url).Accord(context.Background(), "cybersecurity-tech-accord-2018")
	if err != nil {
		t.Fatal(err)
	}
	w := &writeLoad{t: t, demo: demo, accord: a, servers: servers, alive: []bool{true, true, true}, acked: map[uint64][]byte{}}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	signatories := []string{"microsoft", "cisco", "oracle", "arm"}
	for i, sig := range signatories {
		if _, ok := demo.Keys[sig]; !ok {
			t.Fatalf("no demo signatory %q", sig)
		}
		wg.Go(func() { w.write(ctx, i, sig) })
	}
	wg.Go(func() { w.watchCheckpoints(ctx) })

	time.Sleep(2 * time.Second)
	before := w.count()
	if before == 0 {
		stop()
		wg.Wait()
		t.Fatalf("no write acknowledged in 2 s: %s", servers[leader].stderr.String())
	}
	w.mu.Lock()
	w.alive[leader] = false
	killed := time.Now()
	w.killed = killed
	w.mu.Unlock()
	if err := servers[leader].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	servers[leader].cmd.Wait()
	next := waitLeader(t, slices.Delete(slices.Clone(servers), leader, leader+1))
	deadline := time.Now().Add(30 * time.Second)
	for w.firstAfterKill().IsZero() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	resumed := w.firstAfterKill()
	if resumed.IsZero() {
		stop()
		wg.Wait()
		t.Fatalf("no write acknowledged within 30 s of killing the leader")
	}
	time.Sleep(2 * time.Second)
	stop()
	wg.Wait()
	t.Logf("failover: %d entries acknowledged before the SIGKILL of the leader; the first batch sent after it was acknowledged %v after the kill (instance %d of the survivors took the lease); largest gap between acknowledgements %v; %d acknowledged in all",
		before, resumed.Sub(killed).Round(time.Millisecond), next, w.maxGap().Round(time.Millisecond), w.count())

	// Every acknowledged entry is in the log, at its index, on every
	// survivor; every checkpoint is consistent with the last.
	var alive []*server
	for i, s := range servers {
		if i != leader {
			alive = append(alive, s)
		}
	}
	last := w.lastCheckpoint(t, alive, vkey)
	for _, s := range alive {
		c, err := vclient.New(vclient.Config{URL: s.url})
		if err != nil {
			t.Fatal(err)
		}
		w.checkAcked(t, c, last.Size)
		w.checkConsistent(t, c, vkey, last)
	}
	for _, s := range alive {
		s.stop(t)
	}
}

// waitLeader waits until one of servers says it took the sequencer lease
// and returns its position.
func waitLeader(t *testing.T, servers []*server) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var leaders []int
		for i, s := range servers {
			if strings.Contains(s.stderr.String(), "took the sequencer lease") {
				leaders = append(leaders, i)
			}
		}
		if len(leaders) > 1 {
			t.Fatalf("instances %v all say they took the lease", leaders)
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no instance took the sequencer lease in 30 s")
	return -1
}

// loadClient is the writers' and checkers' HTTP client: no request of a
// failover test waits for more than its timeout (a write that times out
// is not acknowledged).
var loadClient = &http.Client{Timeout: 20 * time.Second}

// writeLoad posts pledges to the servers and records what was
// acknowledged.
type writeLoad struct {
	t       *testing.T
	demo    *attest.Demo
	accord  *attest.AccordInfo
	servers []*server

	mu          sync.Mutex
	alive       []bool
	n           int
	acked       map[uint64][]byte // index → leaf
	ackTimes    []time.Time       // when each batch was acknowledged
	sentTimes   []time.Time       // when it was sent
	killed      time.Time
	checkpoints [][]byte
	timeouts    []string // writes not answered within loadClient's timeout
}

func (w *writeLoad) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// firstAfterKill is when the first batch sent after the kill was
// acknowledged: the end of the write gap.
func (w *writeLoad) firstAfterKill() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	var first time.Time
	for i, at := range w.ackTimes {
		if !w.killed.IsZero() && w.sentTimes[i].After(w.killed) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first
}

// maxGap is the longest time between two acknowledgements.
func (w *writeLoad) maxGap() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := slices.Clone(w.ackTimes)
	slices.SortFunc(ts, time.Time.Compare)
	var gap time.Duration
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].Sub(ts[i-1]))
	}
	return gap
}

// write posts batches of 4 pledges of signatory sig, to the live servers
// in turn from the worker's own, until ctx is done.
func (w *writeLoad) write(ctx context.Context, worker int, sig string) {
	key, err := client.NewKeyFrom(w.demo.Keys[sig])
	if err != nil {
		w.t.Error(err)
		return
	}
	for i := worker; ctx.Err() == nil; i++ {
		w.mu.Lock()
		s := w.servers[i%len(w.servers)]
		up := w.alive[i%len(w.servers)]
		var req api.BatchRequest
		for range 4 {
			w.n++
			p := &attest.Pledge{Origin: pgOrigin, Signatory: sig, Accord: w.accord.ID, Principle: w.accord.Principles[w.n%len(w.accord.Principles)].ID,
				Status: attest.StatusReaffirmed, Statement: fmt.Sprintf("Failover pledge %d.", w.n), Effective: "2026-01-02"}
			leaf, err := attest.SignWithKeys(attest.NewPledgeStatement(p, w.accord.Digest), w.demo.Keys[sig])
			if err != nil {
				w.mu.Unlock()
				w.t.Error(err)
				return
			}
			req.Entries = append(req.Entries, leaf)
		}
		w.mu.Unlock()
		if !up {
			continue
		}
		body, _ := json.Marshal(req)
		token, err := key.Token(sig, pgOrigin, time.Now())
		if err != nil {
			w.t.Error(err)
			return
		}
		hreq, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), "POST", s.url+"/api/v1/entries/batch", bytes.NewReader(body))
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Authorization", "Bearer "+token)
		sent := time.Now()
		resp, err := loadClient.Do(hreq)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				w.mu.Lock()
				w.timeouts = append(w.timeouts, fmt.Sprintf("%s at %s", s.url, sent.Format("15:04:05.000")))
				w.mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond) // the killed server: not acknowledged
			continue
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			if resp.StatusCode != http.StatusServiceUnavailable {
				w.t.Errorf("batch to %s = %d: %.300s", s.url, resp.StatusCode, data)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		var br api.BatchResponse
		if err := json.Unmarshal(data, &br); err != nil || len(br.Entries) != len(req.Entries) {
			w.t.Errorf("batch answer %.300s: %v", data, err)
			continue
		}
		now := time.Now()
		w.mu.Lock()
		for _, e := range br.Entries {
			w.acked[e.Index] = e.Leaf
		}
		w.ackTimes, w.sentTimes = append(w.ackTimes, now), append(w.sentTimes, sent)
		w.checkpoints = append(w.checkpoints, []byte(br.Checkpoint))
		w.mu.Unlock()
	}
}

// watchCheckpoints records the checkpoints the live servers publish.
func (w *writeLoad) watchCheckpoints(ctx context.Context) {
	for ctx.Err() == nil {
		for i, s := range w.servers {
			w.mu.Lock()
			up := w.alive[i]
			w.mu.Unlock()
			if !up {
				continue
			}
			resp, err := loadClient.Get(s.url + "/checkpoint")
			if err != nil {
				continue
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				w.mu.Lock()
				w.checkpoints = append(w.checkpoints, data)
				w.mu.Unlock()
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lastCheckpoint waits until every survivor serves a checkpoint covering
// every acknowledged entry and returns the largest, which all must agree
// on.
func (w *writeLoad) lastCheckpoint(t *testing.T, alive []*server, vkey string) verify.Checkpoint {
	t.Helper()
	v, err := verify.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for i := range w.acked {
		want = max(want, i+1)
	}
	var last verify.Checkpoint
	for _, s := range alive {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := loadClient.Get(s.url + "/checkpoint")
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			c, _, err := verify.OpenCheckpoint(data, pgOrigin, []verify.Verifier{v}, nil, 0)
			if err != nil {
				t.Fatalf("%s/checkpoint: %v: %s", s.url, err, data)
			}
			if c.Size >= want {
				if last.Size != 0 && (c.Size != last.Size || c.Root != last.Root) {
					t.Errorf("survivors disagree: %s serves size %d root %x, another size %d root %x", s.url, c.Size, c.Root, last.Size, last.Root)
				}
				last = c
				w.checkpoints = append(w.checkpoints, data)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s serves size %d, want at least %d acknowledged", s.url, c.Size, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return last
}

// checkAcked wants every acknowledged entry in the log served by c, at
// its index.
func (w *writeLoad) checkAcked(t *testing.T, c *vclient.Client, size uint64) {
	t.Helper()
	ctx := context.Background()
	bundles := map[uint64][][]byte{}
	for i, leaf := range w.acked {
		tile := verify.TileForIndex(verify.EntriesLevel, i, size)
		entries, ok := bundles[tile.N]
		if !ok {
			var err error
			if entries, err = c.Entries(ctx, tile.N, tile.Width); err != nil {
				t.Fatalf("%sentries of tile %d: %v", c.URL(), tile.N, err)
			}
			bundles[tile.N] = entries
		}
		if got := entries[i%verify.TileWidth]; !bytes.Equal(got, leaf) {
			t.Errorf("%s: entry %d, acknowledged, is %.80q, not the acknowledged %.80q", c.URL(), i, got, leaf)
		}
	}
}

// checkConsistent wants every checkpoint seen signed by the log and
// consistent with last, by consistency proofs from c's tiles.
func (w *writeLoad) checkConsistent(t *testing.T, c *vclient.Client, vkey string, last verify.Checkpoint) {
	t.Helper()
	v, err := verify.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var first verify.Checkpoint
	for _, signed := range w.checkpoints {
		if seen[string(signed)] {
			continue
		}
		seen[string(signed)] = true
		cp, _, err := verify.OpenCheckpoint(signed, pgOrigin, []verify.Verifier{v}, nil, 0)
		if err != nil {
			t.Fatalf("a checkpoint seen does not verify: %v: %s", err, signed)
		}
		if first.Size == 0 || cp.Size < first.Size {
			first = cp
		}
		proof, err := verify.ProveConsistency(context.Background(), c, cp.Size, last.Size)
		if err != nil {
			t.Fatalf("proving %d → %d: %v", cp.Size, last.Size, err)
		}
		if err := verify.Consistency(cp.Size, last.Size, proof, cp.Root, last.Root); err != nil {
			t.Errorf("checkpoint of size %d is not consistent with the last (%d): %v", cp.Size, last.Size, err)
		}
	}
	t.Logf("%s: %d distinct checkpoints, sizes %d (first) to %d (last), all consistent with the last", c.URL(), len(seen), first.Size, last.Size)
}
