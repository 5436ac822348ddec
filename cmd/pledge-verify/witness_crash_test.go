package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/verify"
)

// TestWitnessCrash kills the real witness with SIGKILL at random moments
// while two clients race checkpoints of two trees that fork after two
// entries (50 kills with -short, 500 under PLEDGELOG_CHAOS=1, as make
// chaos runs it). Whatever the moment, the witness must never have
// cosigned checkpoints of both trees beyond the fork, and after each
// restart its stored checkpoint must be at least as large as every one
// it cosigned: a cosignature leaves only after its checkpoint is stored.
func TestWitnessCrash(t *testing.T) {
	kills := 50
	if os.Getenv("PLEDGELOG_CHAOS") != "" {
		kills = 500
	} else if !testing.Short() {
		kills = 100
	}
	dir := t.TempDir()
	key, vkey := witnessKey(t, dir, "ed25519")
	wv := mustNewVerifier(t, vkey)
	const logs, perLog = 25, 20 // each log's state lives through 20 restarts
	var lines []string
	var tlogs []*testLog
	for i := range logs {
		l := newTestLog(fmt.Sprintf("log.example.org/crash-%d", i), byte(10+i))
		tlogs = append(tlogs, l)
		lines = append(lines, "log "+l.vkey)
	}
	policy := writePolicy(t, dir, append(lines, "quorum none")...)
	trees := [2]*testTree{newTestTree(t, "main", 64), newTestTree(t, "fork", 64)}
	cosigned := make([]map[int64]int, logs) // size → tree, per log
	for i := range cosigned {
		cosigned[i] = map[int64]int{}
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for kill := range kills {
		li := (kill / max(1, kills/logs)) % logs
		w := startWitness(t, key, policy, dir+"/state", "--burst", "100000", "--rate", "100000")
		checkStored(t, w, tlogs[li], trees, wv, cosigned[li])
		var mu sync.Mutex
		var wg sync.WaitGroup
		done := make(chan struct{})
		answered, once := make(chan struct{}), sync.Once{}
		for c := range 2 {
			wg.Go(func() {
				raceClient(t, w, wv, tlogs[li], trees, c, done, &mu, cosigned[li], func() { once.Do(func() { close(answered) }) })
			})
		}
		// The kill comes at a random moment after the witness first
		// answered, so that a loaded machine (a slow start) does not
		// leave rounds with nothing cosigned.
		select {
		case <-answered:
		case <-time.After(10 * time.Second):
			t.Fatal("the witness answered no add-checkpoint within 10 s of starting")
		}
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		w.stop()
		close(done)
		wg.Wait()
	}
	w := startWitness(t, key, policy, dir+"/state")
	total := 0
	for i, l := range tlogs {
		checkStored(t, w, l, trees, wv, cosigned[i])
		total += len(cosigned[i])
	}
	t.Logf("%d kills, %d distinct checkpoints cosigned over %d logs", kills, total, logs)
	if total < logs {
		t.Errorf("only %d checkpoints cosigned: the test did not exercise the witness", total)
	}
}

// raceClient submits checkpoints until done, each the next of its
// preferred tree (client 0 main, client 1 the fork) from the size the
// witness last answered, and records in cosigned what the witness
// cosigned, failing on a fork beyond the shared entries. It calls answered
// after each answer.
func raceClient(t *testing.T, w *witnessProc, wv verify.Verifier, l *testLog, trees [2]*testTree, c int, done chan struct{}, mu *sync.Mutex, cosigned map[int64]int, answered func()) {
	old := int64(0)
	client := &http.Client{Timeout: 5 * time.Second}
	for n := 0; ; n++ {
		select {
		case <-done:
			return
		default:
		}
		tr := trees[c]
		size := min(old+1+int64(n%3), 63)
		body := addBody(old, tr.proof(t, old, size), l.checkpoint(t, size, tr.root(t, size)))
		resp, err := client.Post(w.url+"/add-checkpoint", "text/plain", strings.NewReader(string(body)))
		if err != nil {
			return // killed
		}
		b := make([]byte, 16<<10)
		k, _ := resp.Body.Read(b)
		resp.Body.Close()
		answered()
		switch resp.StatusCode {
		case http.StatusOK:
			msg := append(verify.Checkpoint{Origin: l.origin, Size: uint64(size), Root: tr.root(t, size)}.Text(), '\n')
			if _, err := verify.Open(append(msg, b[:k]...), wv); err != nil {
				t.Errorf("cosignature of %d: %v", size, err)
			}
			mu.Lock()
			recordCosigned(t, cosigned, size, c)
			mu.Unlock()
			old = size
		case http.StatusConflict:
			old, _ = strconv.ParseInt(strings.TrimSpace(string(b[:k])), 10, 64)
		case http.StatusUnprocessableEntity:
			old = 0 // the witness follows the other tree: start again from its answer
		default:
			t.Errorf("add-checkpoint = %d %q", resp.StatusCode, b[:k])
			return
		}
	}
}

// recordCosigned records a cosignature of tree c at size, failing if the
// witness cosigned the other tree beyond the two shared entries.
func recordCosigned(t *testing.T, cosigned map[int64]int, size int64, c int) {
	if size <= 2 {
		c = 0 // the trees agree
	}
	for s, other := range cosigned {
		if s > 2 && size > 2 && other != c {
			t.Errorf("the witness cosigned tree %d at size %d and tree %d at size %d", other, s, c, size)
		}
	}
	cosigned[size] = c
}

// checkStored checks that the witness stores a checkpoint of l at least
// as large as every one it cosigned, on the same tree.
func checkStored(t *testing.T, w *witnessProc, l *testLog, trees [2]*testTree, wv verify.Verifier, cosigned map[int64]int) {
	t.Helper()
	status, body := w.get(t, monitoringPath(l.origin))
	if status == http.StatusNotFound {
		if len(cosigned) > 0 {
			t.Errorf("%s: no stored checkpoint, after %d cosigned", l.origin, len(cosigned))
		}
		return
	}
	c, _, err := verify.OpenCheckpoint([]byte(body), l.origin, []verify.Verifier{mustNewVerifier(t, l.vkey)}, []verify.Verifier{wv}, 1)
	if err != nil {
		t.Fatalf("%s: stored checkpoint %q: %v", l.origin, body, err)
	}
	for size, tree := range cosigned {
		if int64(c.Size) < size {
			t.Errorf("%s: stored size %d, below the cosigned %d", l.origin, c.Size, size)
		}
		if size > 2 && c.Root != trees[tree].root(t, int64(c.Size)) {
			t.Errorf("%s: stored checkpoint of size %d is not on tree %d, cosigned at %d", l.origin, c.Size, tree, size)
		}
	}
}
