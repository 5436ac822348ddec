package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
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
	m := &follower{f: f, r: r, path: filepath.Join(dir, originFile(r.policy.Origin, ".json")), stdout: stdout, stderr: stderr}
	return m.loop(ctx)
}

// follower is a running monitor.
type follower struct {
	f              *monitorFlags
	r              *remote
	path           string
	stdout, stderr io.Writer
}

func (m *follower) loop(ctx context.Context) error {
	for {
		if err := m.poll(ctx); err != nil || m.f.once {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(m.f.interval):
		}
	}
}

// poll verifies the latest checkpoint against the saved state, reports
// the new events and saves the new state.
func (m *follower) poll(ctx context.Context) error {
	st, err := m.load()
	if err != nil {
		return err
	}
	note, err := m.r.client.Checkpoint(ctx)
	if err != nil {
		return err
	}
	cfg := monitor.Config{Fetcher: m.r.client, Signatories: m.f.signatories,
		Open: func(n []byte) (verify.Checkpoint, error) { return openCheckpoint(m.r.policy, n) }}
	events, next, err := monitor.Poll(ctx, cfg, st, note)
	if errors.Is(err, monitor.ErrInconsistent) {
		m.emit(ctx, monitor.Event{Type: monitor.TypeInconsistency, Detail: err.Error()})
		return failed(err)
	}
	if err != nil {
		return err
	}
	for _, e := range events {
		m.emit(ctx, e)
	}
	return durable.WriteFile(m.path, next.Marshal(), 0o600)
}

func (m *follower) load() (*monitor.State, error) {
	b, err := readState(m.path)
	if err != nil || b == nil {
		return nil, err
	}
	st, err := monitor.ParseState(b)
	if err != nil {
		return nil, usageError{Err: fmt.Errorf("monitor state %s: %w", m.path, err)}
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
