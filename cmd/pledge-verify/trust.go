package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// trustFlags are the pinned keys every command takes.
type trustFlags struct {
	logs, witnesses listFlag
	registrar       string
	quorum          int
	policy          string
}

func (t *trustFlags) register(fs *flag.FlagSet) {
	fs.Var(&t.logs, "log-key", "a log verifier key `VKEY` (repeatable)")
	fs.StringVar(&t.registrar, "registrar-key", "", "the registrar key: a PEM public key `FILE` or its hex key id")
	fs.Var(&t.witnesses, "witness", "a witness cosigner verifier key `VKEY` (repeatable)")
	fs.IntVar(&t.quorum, "quorum", 0, "how many distinct witnesses must have cosigned a checkpoint")
	fs.StringVar(&t.policy, "policy", "", "a policy `FILE` with the keys to trust (see docs/auditing.md)")
}

// load returns the policy the flags and the policy file pin.
func (t *trustFlags) load() (*bundle.Policy, error) {
	pf := &policyFile{Logs: t.logs, Witnesses: t.witnesses, Quorum: t.quorum}
	if t.registrar != "" {
		pf.Registrars = []string{t.registrar}
	}
	dir := "."
	if t.policy != "" {
		b, err := readFile(t.policy)
		if err != nil {
			return nil, err
		}
		f, err := parsePolicy(b)
		if err == nil {
			err = f.checkKeys()
		}
		if err != nil {
			return nil, usageError{Err: fmt.Errorf("--policy %s: %w", t.policy, err)}
		}
		pf.Logs, pf.Witnesses = append(pf.Logs, f.Logs...), append(pf.Witnesses, f.Witnesses...)
		pf.Registrars, pf.Quorum = append(pf.Registrars, f.Registrars...), max(pf.Quorum, f.Quorum)
		dir = filepath.Dir(t.policy)
	}
	p, err := pf.policy(dir)
	if err != nil {
		return nil, usageError{Err: err}
	}
	return p, nil
}

// policy builds the bundle.Policy; registrar files are relative to dir.
func (pf *policyFile) policy(dir string) (*bundle.Policy, error) {
	if len(pf.Logs) == 0 {
		return nil, errors.New("no log key: give --log-key or --policy")
	}
	p := &bundle.Policy{Quorum: pf.Quorum}
	logs, err := verifiers("log", pf.Logs)
	if err != nil {
		return nil, err
	}
	for _, v := range logs {
		if p.Origin != "" && v.Name() != p.Origin {
			return nil, fmt.Errorf("log keys name two logs, %q and %q", p.Origin, v.Name())
		}
		p.Origin, p.LogKeys = v.Name(), append(p.LogKeys, v)
	}
	if p.Witnesses, err = verifiers("witness", pf.Witnesses); err != nil {
		return nil, err
	}
	if p.Quorum < 0 {
		return nil, fmt.Errorf("quorum %d: must not be negative", p.Quorum)
	}
	if p.Quorum > len(p.Witnesses) {
		return nil, fmt.Errorf("quorum %d with %d witnesses", p.Quorum, len(p.Witnesses))
	}
	for _, r := range pf.Registrars {
		if err := addRegistrar(p, r, dir); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func addRegistrar(p *bundle.Policy, r, dir string) error {
	if b, err := hex.DecodeString(r); err == nil && len(b) == 32 && hex.EncodeToString(b) == r {
		p.RegistrarKeyIDs = append(p.RegistrarKeyIDs, r)
		return nil
	}
	if !filepath.IsAbs(r) {
		r = filepath.Join(dir, r)
	}
	b, err := readFile(r)
	if err != nil {
		return err
	}
	k, err := attest.ParsePublicKey(b)
	if err != nil {
		return fmt.Errorf("registrar key %s: %w", r, err)
	}
	p.RegistrarKeys = append(p.RegistrarKeys, k)
	return nil
}

// openCheckpoint verifies a signed checkpoint under the policy: the log's
// signature and the witness quorum.
func openCheckpoint(p *bundle.Policy, note []byte) (verify.Checkpoint, error) {
	cp, _, err := verify.OpenCheckpoint(note, p.Origin, p.LogKeys, p.Witnesses, p.Quorum)
	if err != nil {
		return cp, failed(fmt.Errorf("checkpoint: %w", err))
	}
	return cp, nil
}

// verifiers parses the vkeys of kind (log, witness).
func verifiers(kind string, vkeys []string) ([]verify.Verifier, error) {
	var out []verify.Verifier
	for _, vk := range vkeys {
		v, err := verify.NewVerifier(vk)
		if err != nil {
			return nil, fmt.Errorf("%s key %q: %w", kind, vk, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// checkKeys checks the keys of a policy file alone, so that an error in
// one names the file.
func (pf *policyFile) checkKeys() error {
	if _, err := verifiers("log", pf.Logs); err != nil {
		return err
	}
	_, err := verifiers("witness", pf.Witnesses)
	return err
}
