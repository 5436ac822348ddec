package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"os"
	"slices"
	"strings"

	"github.com/pledgelog/pledgelog/log"
	logcosign "github.com/pledgelog/pledgelog/log/cosign"
	"github.com/pledgelog/pledgelog/verify/policy"
	"github.com/prometheus/client_golang/prometheus"
)

// witnessPolicy is serve's --policy: the log's witnesses and quorum, as a
// c2sp.org/tlog-policy file whose witness lines carry their URLs.
type witnessPolicy struct {
	path string
	raw  []byte
	*policy.Policy
}

// readPolicy reads and parses the policy file path ("" for none).
func readPolicy(path string) (*witnessPolicy, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--policy: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, policy.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("--policy %s: %w", path, err)
	}
	p, err := policy.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--policy %s: %w", path, err)
	}
	for _, w := range p.Witnesses() {
		if w.URL == "" {
			return nil, fmt.Errorf("--policy %s: witness %s has no URL: the log must reach it (witness <name> <vkey> <url>)", path, w.Name)
		}
	}
	return &witnessPolicy{path: path, raw: raw, Policy: p}, nil
}

// witnessed reports whether publication waits for witnesses: a policy
// with witnesses, or whose quorum is not none.
func (p *witnessPolicy) witnessed() bool {
	return p != nil && (len(p.Witnesses()) > 0 || p.QuorumName() != "none")
}

// checkLog refuses a policy whose log lines name this origin but none of
// the log's keys: clients holding it would reject every checkpoint.
func (p *witnessPolicy) checkLog(l *log.Log) error {
	keys := p.LogKeys(l.Origin())
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		if slices.Contains(l.VerifierKeys(), fmt.Sprint(k)) {
			return nil
		}
	}
	return fmt.Errorf("--policy %s: its log lines for %s name none of this log's keys (%v)", p.path, l.Origin(), l.VerifierKeys())
}

// vkeys returns the witnesses' verifier keys.
func (p *witnessPolicy) vkeys() []string {
	var out []string
	for _, w := range p.Witnesses() {
		out = append(out, fmt.Sprint(w.Key))
	}
	return out
}

// fewest returns the fewest witnesses that can meet the quorum (0 for
// none), trying every subset of up to 20 witnesses; beyond that, all.
func (p *witnessPolicy) fewest() int {
	n := len(p.Witnesses())
	if p.Met(make([]bool, n)) {
		return 0
	}
	if n > 20 {
		return n
	}
	best := n
	for set := uint32(1); set < 1<<n; set++ {
		k := bits.OnesCount32(set)
		if k >= best {
			continue
		}
		cosigned := make([]bool, n)
		for i := range n {
			cosigned[i] = set&(1<<i) != 0
		}
		if p.Met(cosigned) {
			best = k
		}
	}
	return best
}

// collector returns the collector of l's cosignatures under p.
func (p *witnessPolicy) collector(l *log.Log, d dataDir, f *serveFlags, logger *slog.Logger, reg prometheus.Registerer) (*logcosign.Collector, error) {
	if err := p.checkLog(l); err != nil {
		return nil, err
	}
	var ws []logcosign.Witness
	for _, w := range p.Witnesses() {
		ws = append(ws, logcosign.Witness{Name: w.Name, Key: w.Key, URL: w.URL})
	}
	c, err := logcosign.New(logcosign.Config{Log: l, Witnesses: ws, Met: p.Met, StateFile: d.cosignedFile(),
		Interval: f.publish, MaxStaleness: f.stale, Logger: logger, Registerer: reg})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("--policy %s", p.path), err)
	}
	return c, nil
}

// witnessing is what serve's web server gets from the policy, and the
// line serve prints about it.
type witnessing struct {
	ready     func(context.Context) error
	policy    []byte
	witnesses []string
	quorum    int
	summary   string
}

// unwitnessed is serve's warning without --policy: issue 14 wants no
// witnesses to be said on purpose, with a policy whose quorum is none.
const unwitnessed = "no --policy: checkpoints are published WITHOUT WITNESSES, so nothing stops this log from showing " +
	"different trees to different readers; give --policy FILE with the witnesses and their quorum, " +
	"or a policy whose quorum is none to run without witnesses on purpose"

// summary says who must cosign under p, for serve's output.
func (p *witnessPolicy) summary() string {
	if !p.witnessed() {
		return "none, on purpose (" + p.path + ": quorum none)"
	}
	var names []string
	for _, w := range p.Witnesses() {
		names = append(names, w.Name)
	}
	return fmt.Sprintf("%s; quorum %s, at least %d of them must cosign (%s)", strings.Join(names, ", "), p.QuorumName(), p.fewest(), p.path)
}

// startWitnessing starts the cosignature collector of l under pol, if it
// is witnessed: it publishes the last cosigned checkpoint and refuses a
// log that the witnesses saw larger (cosign.ErrRollback). It returns the
// collector's Run, for serve's errgroup.
func startWitnessing(ctx context.Context, pol *witnessPolicy, l *log.Log, d dataDir, f *serveFlags, logger *slog.Logger, reg prometheus.Registerer) (witnessing, []func(context.Context) error, error) {
	if pol == nil {
		logger.Warn(unwitnessed)
		return witnessing{summary: "NONE. WARNING: " + unwitnessed}, nil, nil
	}
	w := witnessing{policy: pol.raw, witnesses: pol.vkeys(), quorum: pol.fewest(), summary: pol.summary()}
	if !pol.witnessed() {
		return w, nil, nil
	}
	c, err := pol.collector(l, d, f, logger, reg)
	if err != nil {
		return w, nil, err
	}
	if err := c.Start(ctx); err != nil {
		return w, nil, fmt.Errorf("refusing to sequence: %w", err)
	}
	w.ready = c.Ready
	return w, []func(context.Context) error{c.Run}, nil
}
