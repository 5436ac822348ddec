package audit

import (
	"errors"
	"sync/atomic"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// consume applies one tile's entries in index order and hands the
// signatures prepare could not check yet to the verifiers.
func (a *auditor) consume(r *tileResult, replaying bool) error {
	var jobs []sigJob
	for i, e := range r.entries {
		index := r.n*verify.TileWidth + uint64(i)
		if err := a.tree.append(r.hashes[i]); err != nil {
			return err
		}
		if replaying {
			// Entries an earlier run checked: the registry state only.
			env, err := a.reg.Replay(index, e)
			if errors.Is(err, attest.ErrStore) {
				return err
			}
			if err == nil {
				a.registryEvent(index, env)
			}
			continue
		}
		p := &r.prep[i]
		if ok, err := a.admit(index, p); !ok {
			if err != nil {
				return err
			}
			continue
		}
		jobs = a.jobs(jobs, index, p)
		if err := a.spill.add(p.dedup, index); err != nil {
			return err
		}
	}
	if len(jobs) > 0 {
		a.verWG.Add(1)
		a.sigs <- jobs
	}
	return nil
}

// admit replays one prepared entry into the registry, as the log's
// sequencer would have admitted it, and reports whether it was admitted.
// The registry checks every rule as of index but computes none of the
// derived rows a server stores. A rejected entry is a finding; an error
// is the registry's pledge file failing, which ends the audit.
func (a *auditor) admit(index uint64, p *prepared) (bool, error) {
	err := p.err
	if err == nil {
		err = a.reg.ReplayEnvelope(index, p.env, p.leaf)
	}
	if errors.Is(err, attest.ErrStore) {
		return false, err
	}
	if err != nil {
		a.finding(Finding{index, kindOf(err), err.Error()})
		return false, nil
	}
	a.registryEvent(index, p.env)
	return true, nil
}

func kindOf(err error) string {
	if errors.Is(err, attest.ErrMalformed) {
		return KindMalformed
	}
	return KindRejected
}

// registryEvent notes the keys an admitted registry event introduces and
// the revocations it makes; pledges introduce neither.
func (a *auditor) registryEvent(index uint64, env *attest.Envelope) {
	for _, pk := range keysOf(env.Statement) {
		a.keys.add(pk)
	}
	if p, ok := env.Statement.Predicate.(*attest.SignatoryEvent); ok && p.Action == attest.ActionRevoke {
		a.revs = append(a.revs, revocation(index, p))
	}
}

// jobs reports the signatures prepare checked and appends jobs for the
// others.
func (a *auditor) jobs(jobs []sigJob, index uint64, p *prepared) []sigJob {
	var checked uint64
	for i, s := range p.env.Signatures {
		if r := p.sigs[i]; r.checked {
			checked++
			if r.err != nil {
				a.finding(Finding{index, KindBadSignature, r.err.Error()})
			}
			continue
		}
		k := a.keys.get(s.KeyID)
		if k == nil {
			a.finding(Finding{index, KindRejected, "signed by key " + s.KeyID + ", which no registry event introduced"})
			continue
		}
		jobs = append(jobs, sigJob{index, p.pae, s.Sig, k})
	}
	atomic.AddUint64(&a.nsigs, checked)
	return jobs
}

func (a *auditor) verifyLoop() {
	var n uint64
	for jobs := range a.sigs {
		for _, j := range jobs {
			if err := j.key.verify(j.pae, j.sig); err != nil {
				a.finding(Finding{j.index, KindBadSignature, err.Error()})
			}
		}
		n += uint64(len(jobs))
		a.verWG.Done()
	}
	atomic.AddUint64(&a.nsigs, n)
}
