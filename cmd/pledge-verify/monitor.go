package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/lookup"
	"github.com/pledgelog/pledgelog/verify/monitor"
)

type monitorFlags struct {
	remoteFlags
	signatories listFlag
	state, exec string
	once        bool
	interval    time.Duration
}

func runMonitor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &monitorFlags{}
	fs := newFlags("monitor", "--url URL --signatory ID... [--exec CMD] [--once]", stderr)
	f.register(fs)
	fs.Var(&f.signatories, "signatory", "a signatory `ID` to watch (repeatable; none: every one)")
	fs.StringVar(&f.state, "state", "", "the `DIR` keeping where the monitor got to (default: <user config dir>/pledgelog/monitor)")
	fs.StringVar(&f.exec, "exec", "", "run `CMD` with sh -c for each event, the event's JSON on its stdin")
	fs.BoolVar(&f.once, "once", false, "poll once and exit")
	fs.DurationVar(&f.interval, "interval", 10*time.Second, "the time between two polls")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	r, err := f.remote()
	if err != nil {
		return err
	}
	dir, err := stateDir(f.state, "monitor")
	if err != nil {
		return err
	}
	m := &follower{f: f, r: r, stdout: stdout, stderr: stderr}
	m.watches = watchesOf(dir, r.policy.Origin, f.signatories)
	if old := filepath.Join(dir, originFile(r.policy.Origin, ".json")); fileExists(old) {
		fmt.Fprintf(stderr, "pledge-verify: monitor: ignoring %s, a state of an earlier version that did not say which signatories it followed; each signatory's state now starts from the log's first entry\n", old)
	}
	return m.loop(ctx)
}

// follower is a running monitor.
type follower struct {
	f              *monitorFlags
	r              *remote
	watches        []*watch
	stdout, stderr io.Writer
	failures       int // polls failed in a row
}

// A watch is the state of one signatory followed on one log, or of every
// signatory (signatory ""): each is a file of its own, so that watching
// another signatory with the same state directory starts that signatory
// from the log's first entry instead of where another one got to.
type watch struct {
	signatory string
	path      string
	st        *monitor.State // nil before the first poll
}

func watchesOf(dir, origin string, signatories []string) []*watch {
	if len(signatories) == 0 {
		return []*watch{{path: filepath.Join(dir, originFile(origin, ".all.json"))}}
	}
	ids := slices.Sorted(slices.Values(signatories))
	var out []*watch
	for _, id := range slices.Compact(ids) {
		out = append(out, &watch{signatory: id, path: filepath.Join(dir, originFile(origin, ".signatory."+id+".json"))})
	}
	return out
}

// maxBackoff is the longest wait between two retries of a failed poll,
// unless --interval is longer.
const maxBackoff = 5 * time.Minute

// loop polls until ctx is done (or once with --once). In follow mode a
// poll that failed for a reason that may pass (the network, the server,
// the state directory) is retried after a wait that doubles with each
// failure in a row, from --interval up to five minutes, and said on
// stderr; a verification failure or a usage error ends the loop.
func (m *follower) loop(ctx context.Context) error {
	for {
		err := m.poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if m.f.once || (err != nil && !retriable(err)) {
			return err
		}
		wait := m.f.interval
		if err != nil {
			m.failures++
			wait = backoff(m.f.interval, m.failures)
			fmt.Fprintf(m.stderr, "pledge-verify: monitor: poll failed (%d in a row): %v; retrying in %v\n", m.failures, err, wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// retriable reports whether a failed poll may succeed later: not a
// verification failure (exit status 1) nor a usage error.
func retriable(err error) bool {
	return exitCode(err) == 2 && !errors.As(err, new(usageError))
}

// backoff is the wait after the nth failed poll in a row.
func backoff(interval time.Duration, n int) time.Duration {
	limit := max(interval, maxBackoff)
	d := interval
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// poll verifies the latest checkpoint against the saved states, reports
// the new events and saves the new states. Watches whose states are the
// same poll as one; after the first poll all have the same.
func (m *follower) poll(ctx context.Context) error {
	for _, w := range m.watches {
		st, err := load(w.path)
		if err != nil {
			return err
		}
		w.st = st
	}
	note, err := m.r.client.Checkpoint(ctx)
	if err != nil {
		return err
	}
	var all, mismatches []monitor.Event
	next := map[*watch]*monitor.State{}
	for _, group := range stateGroups(m.watches) {
		cfg := monitor.Config{Fetcher: m.r.client, Signatories: group.signatories(),
			Open: func(n []byte) (verify.Checkpoint, error) { return openCheckpoint(m.r.policy, n) }}
		events, st, err := monitor.Poll(ctx, cfg, group[0].st, note)
		if errors.Is(err, monitor.ErrInconsistent) {
			m.emit(ctx, monitor.Event{Type: monitor.TypeInconsistency, Detail: err.Error()})
			return failed(err)
		}
		if err != nil {
			return err
		}
		all = append(all, events...)
		for _, w := range group {
			next[w] = st
		}
		if st != group[0].st && len(st.Keys) > 0 {
			found, err := m.proveKeys(ctx, st)
			if err != nil {
				return err
			}
			mismatches = append(mismatches, found...)
		}
	}
	if err := m.unknown(all, note); err != nil {
		return err
	}
	// Events every watch reports (recover, registrar-rotate) may come from
	// two groups: each is printed once.
	if m.failures > 0 {
		fmt.Fprintf(m.stderr, "pledge-verify: monitor: poll succeeded after %d failed\n", m.failures)
		m.failures = 0
	}
	slices.SortStableFunc(all, func(a, b monitor.Event) int { return cmp.Compare(a.Index, b.Index) })
	for _, e := range slices.Compact(all) {
		m.emit(ctx, e)
	}
	for _, e := range mismatches {
		m.emit(ctx, e)
	}
	for _, w := range m.watches {
		if err := durable.WriteFile(w.path, next[w].Marshal(), 0o600); err != nil {
			return err
		}
		w.st = next[w]
	}
	if n := len(mismatches); n > 0 {
		return failed(fmt.Errorf("%d key(s) whose state the registry map proves other than the log's entries say: see the %s events", n, TypeMapMismatch))
	}
	return nil
}

// TypeMapMismatch is the event of a key whose state, proven by a map
// proof (verify/lookup), is not what the monitor's replay of the
// registry events it saw says.
const TypeMapMismatch = "map-mismatch"

// proveKeys proves, by map proofs against a checkpoint consistent with
// st's (the one just verified), the state of each key of st, and returns
// a map-mismatch event for each key whose proven state contradicts what
// the entries said: a key they added that the map does not hold or holds
// as added elsewhere, a key they revoked that the map holds as valid or
// as revoked elsewhere. A key proven revoked that the monitor saw no
// revoke-key event for is not a mismatch: a compromised revocation of
// another key may revoke it (docs/auditing.md). A lookup that does not
// verify is a failed verification.
func (m *follower) proveKeys(ctx context.Context, st *monitor.State) ([]monitor.Event, error) {
	cp, err := openCheckpoint(m.r.policy, st.Checkpoint)
	if err != nil {
		return nil, err
	}
	v := &lookup.Verifier{Open: func(n []byte) (verify.Checkpoint, error) { return openCheckpoint(m.r.policy, n) },
		Previous: cp, Tiles: m.r.client}
	var out []monitor.Event
	for _, k := range st.Keys {
		res, err := v.Lookup(ctx, m.r.client, lookup.Query{Signatory: k.Signatory, KeyID: k.KeyID})
		if errors.Is(err, lookup.ErrVerify) {
			m.emit(ctx, monitor.Event{Type: TypeMapMismatch, Size: cp.Size, Signatory: k.Signatory, KeyID: k.KeyID, Detail: err.Error()})
			return nil, failed(err)
		}
		if err != nil {
			return nil, err
		}
		seen := lookup.KeyState(attest.MapKeyState{Added: k.Added, Revoked: k.Revoked})
		var detail string
		switch {
		case !res.Present():
			detail = fmt.Sprintf("the entries added it at index %d; the map proves %s has no such key", k.Added, k.Signatory)
		case res.Key.Added != k.Added:
			detail = fmt.Sprintf("the entries say %s; the map proves it %s", seen, lookup.KeyState(*res.Key))
		case k.Revoked != nil && (res.Key.Revoked == nil || *res.Key.Revoked != *k.Revoked):
			detail = fmt.Sprintf("the entries say %s; the map proves it %s", seen, lookup.KeyState(*res.Key))
		default:
			continue
		}
		out = append(out, monitor.Event{Type: TypeMapMismatch, Index: k.Added, Size: res.Checkpoint.Size, Signatory: k.Signatory, KeyID: k.KeyID, Detail: detail})
	}
	return out, nil
}

// unknown checks that each signatory followed for the first time is
// registered in the log: a --signatory the log does not have is a usage
// error (exit status 2), and nothing is saved for it.
func (m *follower) unknown(events []monitor.Event, note []byte) error {
	var missing []string
	for _, w := range m.watches {
		if w.signatory == "" || w.st != nil {
			continue
		}
		if !slices.ContainsFunc(events, func(e monitor.Event) bool {
			return e.Type == monitor.TypeRegister && e.Signatory == w.signatory
		}) {
			missing = append(missing, w.signatory)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	size := "?"
	if cp, err := openCheckpoint(m.r.policy, note); err == nil {
		size = strconv.FormatUint(cp.Size, 10)
	}
	return usageError{Err: fmt.Errorf("--signatory %s: the log (%s entries) registered no such signatory (see its /api/v1/signatories)",
		strings.Join(missing, ", "), size)}
}

// group is watches with the same state.
type group []*watch

func (g group) signatories() []string {
	var out []string
	for _, w := range g {
		if w.signatory != "" {
			out = append(out, w.signatory)
		}
	}
	return out
}

// stateGroups returns the watches grouped by state, in the order of their
// first watch.
func stateGroups(ws []*watch) []group {
	var out []group
	index := map[string]int{}
	for _, w := range ws {
		key := "new"
		if w.st != nil {
			key = string(w.st.Marshal())
		}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], w)
	}
	return out
}

func load(path string) (*monitor.State, error) {
	b, err := readState(path)
	if err != nil || b == nil {
		return nil, err
	}
	st, err := monitor.ParseState(b)
	if err != nil {
		return nil, usageError{Err: fmt.Errorf("monitor state %s: %w", path, err)}
	}
	return st, nil
}

// emit prints an event as a JSON line and runs --exec with it.
func (m *follower) emit(ctx context.Context, e monitor.Event) {
	var b bytes.Buffer
	cli.PrintJSONLine(&b, e)
	m.stdout.Write(b.Bytes())
	if m.f.exec == "" {
		return
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", m.f.exec)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &b, m.stderr, m.stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(m.stderr, "pledge-verify: --exec for event %s at %d: %v\n", e.Type, e.Index, err)
	}
}

// signatoryID is the syntax of a signatory id (docs/formats.md).
var signatoryID = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)

func (f *monitorFlags) check() error {
	for _, id := range f.signatories {
		if !signatoryID.MatchString(id) {
			return usageError{Err: fmt.Errorf("--signatory %q: not a signatory id (lowercase letters, digits and '-')", id)}
		}
	}
	if f.interval <= 0 && !f.once {
		return usageError{Err: fmt.Errorf("--interval %v: must be positive", f.interval)}
	}
	return nil
}
