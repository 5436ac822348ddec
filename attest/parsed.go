package attest

import (
	"errors"
	"sync"
)

// maxParsed bounds the envelopes kept between Verify and Admit.
const maxParsed = 1 << 16

// parsedCache hands envelopes that Verify checked to Admit, so that the
// log's single sequencer goroutine does not parse and re-canonicalise each
// leaf again (the strict parse costs tens of microseconds, most of it the
// RFC 8785 check). It is keyed by the exact leaf bytes, which the envelope
// was built from, so a hit is exactly what ParseLeaf would return. An
// envelope verified but never admitted (a rejected batch, a duplicate, a
// client gone) is dropped when the cache overflows and is reset.
type parsedCache struct {
	mu sync.Mutex
	m  map[string]*Envelope
}

func (c *parsedCache) put(env *Envelope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxParsed {
		c.m = make(map[string]*Envelope)
	}
	c.m[string(env.leafBytes())] = env
}

// take returns and forgets the envelope of leaf, if Verify kept it.
func (c *parsedCache) take(leaf []byte) (*Envelope, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	env, ok := c.m[string(leaf)]
	if ok {
		delete(c.m, string(leaf))
	}
	return env, ok
}

// parseLeaf returns the envelope of leaf: the one Verify kept, or parsed.
func (r *Registry) parseLeaf(leaf []byte) (*Envelope, error) {
	if env, ok := r.parsed.take(leaf); ok {
		return env, nil
	}
	return ParseLeaf(leaf)
}

// ReplayEnvelope is [Registry.Replay] for an envelope that [ParseLeaf]
// returned, left as it was: an auditor that parses (and verifies) leaves
// in parallel then does not parse them again in index order.
func (r *Registry) ReplayEnvelope(index uint64, env *Envelope) error {
	if env.leaf == nil {
		return errors.New("attest: ReplayEnvelope needs an envelope that ParseLeaf returned")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.apply(&tx{norows: true}, index, env.leaf, env)
}
