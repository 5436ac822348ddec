package main

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// policyFromFile reads a c2sp.org/tlog-policy file (package verify/policy):
// its log lines pin the log's keys, which must all name one origin, and
// its witnesses and quorum what the checkpoints must carry. The registrar
// key is not part of the format; --registrar-key pins it.
func policyFromFile(file string) (*bundle.Policy, error) {
	b, err := readFile(file)
	if err != nil {
		return nil, err
	}
	pp, err := policy.Parse(b)
	if err != nil {
		if bytes.Contains(b, []byte("registrar")) {
			err = fmt.Errorf("%w (a tlog-policy has no registrar line: pin the registrar with --registrar-key)", err)
		}
		return nil, fmt.Errorf("--policy %s: %w", file, err)
	}
	var origins []string
	for _, l := range pp.Logs() {
		if !slices.Contains(origins, l.Origin()) {
			origins = append(origins, l.Origin())
		}
	}
	switch {
	case len(origins) == 0:
		return nil, fmt.Errorf("--policy %s: no log line", file)
	case len(origins) > 1:
		return nil, fmt.Errorf("--policy %s: log lines of %d origins (%s, …); pledge-verify checks one log", file, len(origins), origins[0])
	}
	return &bundle.Policy{Origin: origins[0], LogKeys: pp.LogKeys(origins[0]), Quorum: pp}, nil
}

// policyFromFlags builds the policy of --log-key, --witness and --quorum:
// quorum distinct witnesses (by key name) of those given.
func policyFromFlags(logs, witnesses []string, quorum int) (*bundle.Policy, error) {
	if len(logs) == 0 {
		return nil, errors.New("no log key: give --log-key or --policy")
	}
	p := &bundle.Policy{}
	for _, vk := range logs {
		v, err := verify.NewVerifier(vk)
		if err != nil {
			return nil, fmt.Errorf("--log-key %q: %w", vk, err)
		}
		if p.Origin != "" && v.Name() != p.Origin {
			return nil, fmt.Errorf("log keys name two logs, %q and %q", p.Origin, v.Name())
		}
		p.Origin, p.LogKeys = v.Name(), append(p.LogKeys, v)
	}
	var ws []verify.Verifier
	for _, vk := range witnesses {
		v, err := verify.NewVerifier(vk)
		if err != nil {
			return nil, fmt.Errorf("--witness %q: %w", vk, err)
		}
		ws = append(ws, v)
	}
	if quorum < 0 || quorum > len(ws) {
		return nil, fmt.Errorf("quorum %d with %d witnesses", quorum, len(ws))
	}
	if len(ws) > 0 {
		p.Quorum = verify.Threshold(quorum, ws...)
	}
	return p, nil
}

// cosignedFacts returns who cosigned the checkpoint note, and when, for
// people to read: the cosignatures' times are when the witnesses say
// they saw the tree, the trusted "logged by" time of its entries.
func cosignedFacts(p *bundle.Policy, note []byte) []string {
	if p.Quorum == nil {
		return []string{"witness quorum: none required"}
	}
	_, n, err := verify.OpenCosigned(note, p.Origin, p.LogKeys, p.Quorum)
	if err != nil {
		return nil
	}
	var f []string
	for _, c := range verify.Cosignatures(n, p.Quorum) {
		f = append(f, fmt.Sprintf("cosigned by witness %s+%08x at %s", c.Witness.Name(), c.Witness.KeyID(), c.Time.Format("2006-01-02T15:04:05Z")))
	}
	return append(f, fmt.Sprintf("witness quorum met: %v", p.Quorum))
}
