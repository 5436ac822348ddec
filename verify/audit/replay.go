package audit

import (
	"errors"
	"sync/atomic"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// consume applies one tile's entries in index order and hands their
// signatures to the verifiers.
func (a *auditor) consume(r *tileResult, replaying bool) error {
	var jobs []sigJob
	for i, e := range r.entries {
		index := r.n*verify.TileWidth + uint64(i)
		if err := a.tree.append(r.hashes[i]); err != nil {
			return err
		}
		ok := a.admit(index, e, replaying)
		if replaying || !ok {
			continue
		}
		jobs = a.jobs(jobs, index, &r.prep[i])
		if err := a.spill.add(r.prep[i].dedup, index); err != nil {
			return err
		}
	}
	if len(jobs) > 0 {
		a.verWG.Add(1)
		a.sigs <- jobs
	}
	return nil
}

// admit replays one entry into the registry, as the log's sequencer
// would have admitted it, and reports whether it was admitted. Replay
// takes the envelope that prepare's Registry.Verify parsed, if any, and
// computes none of the derived rows a server stores.
func (a *auditor) admit(index uint64, e []byte, replaying bool) bool {
	env, err := a.reg.Replay(index, e)
	if err != nil {
		if !replaying {
			a.finding(Finding{index, kindOf(err), err.Error()})
		}
		return false
	}
	if _, pledge := env.Statement.Predicate.(*attest.Pledge); !pledge {
		a.registryEvent(index, env)
	}
	return true
}

func kindOf(err error) string {
	if errors.Is(err, attest.ErrMalformed) {
		return KindMalformed
	}
	return KindRejected
}

// registryEvent notes the keys an admitted registry event introduces and
// the revocations it makes.
func (a *auditor) registryEvent(index uint64, env *attest.Envelope) {
	for _, pk := range keysOf(env.Statement) {
		a.keys[pk.ID()] = newKey(pk)
	}
	if p, ok := env.Statement.Predicate.(*attest.SignatoryEvent); ok && p.Action == attest.ActionRevoke {
		a.revs = append(a.revs, revocation(index, p))
	}
}

// jobs appends the signature checks of an admitted entry.
func (a *auditor) jobs(jobs []sigJob, index uint64, p *prepared) []sigJob {
	if !p.ok {
		a.finding(Finding{index, KindMalformed, "leaf is not in canonical form"})
		return jobs
	}
	if p.verified {
		atomic.AddUint64(&a.nsigs, uint64(len(p.sigs)))
		return jobs
	}
	for _, s := range p.sigs {
		k := a.keys[s.KeyID]
		if k == nil {
			a.finding(Finding{index, KindRejected, "signed by key " + s.KeyID + ", which no registry event introduced"})
			continue
		}
		jobs = append(jobs, sigJob{index, p.pae, s.Sig, k})
	}
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
