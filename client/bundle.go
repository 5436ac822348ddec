package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// Verify checks a proof bundle offline with the log key vkey: the
// checkpoint is signed by it, and the entry is included and authorised by
// the registry chain the bundle carries (v1) or by the key whose state
// the bundle's map proofs prove at the checkpoint (v2). For v1, the
// registrar key is the one of the log's genesis (entry 0), which the
// bundle carries as evidence: the log key vouches for it, since a log
// holds one entry 0; a v2 bundle needs none.
func Verify(data []byte, origin, vkey string) (*bundle.Result, error) {
	b, err := bundle.Parse(data)
	if err != nil {
		return nil, err
	}
	v, err := verify.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("log key %q: %w", vkey, err)
	}
	p := bundle.Policy{Origin: origin, LogKeys: []verify.Verifier{v}}
	if b.IsV2() {
		return bundle.Verify(b, p)
	}
	if p.RegistrarKeys, err = genesisKey(b); err != nil {
		return nil, err
	}
	return bundle.Verify(b, p)
}

// genesisKey returns the registrar key of the genesis entry in b.
func genesisKey(b *bundle.Bundle) ([]attest.PublicKey, error) {
	e := b.Entry
	if len(b.Evidence) > 0 {
		e = b.Evidence[0]
	}
	if e.Index != 0 {
		return nil, errors.New("the bundle does not carry the log's genesis entry")
	}
	env, err := attest.ParseLeaf(e.Leaf)
	if err != nil {
		return nil, fmt.Errorf("genesis entry: %w", err)
	}
	g, ok := env.Statement.Predicate.(*attest.Registrar)
	if !ok || g.Action != "genesis" {
		return nil, errors.New("entry 0 of the bundle is not a genesis")
	}
	return []attest.PublicKey{g.Key}, nil
}

// Submit posts one signed envelope, authenticated by a token of issuer
// minted with key, and returns the proof bundle after checking it with
// the log key vkey. created is false when the log already held the
// statement (the bundle is then that of the first index).
func (c *Client) Submit(ctx context.Context, key *Key, issuer string, leaf []byte, info *LogInfo, vkey string) (data []byte, res *bundle.Result, created bool, err error) {
	// Each attempt has its own token: a registrar token is single-use.
	status, data, err := c.retry(ctx, func() (*http.Request, error) {
		var token string
		var err error
		if issuer == attest.RegistrarID {
			token, err = key.RegistrarToken(info.Origin, leaf, time.Now())
		} else {
			token, err = key.Token(issuer, info.Origin, time.Now())
		}
		if err != nil {
			return nil, err
		}
		return c.newPost(ctx, "/api/v1/entries", token, leaf)
	})
	if err != nil {
		return nil, nil, false, err
	}
	res, err = Verify(data, info.Origin, vkey)
	if err != nil {
		return data, nil, false, fmt.Errorf("the log answered a bundle that does not verify: %w", err)
	}
	if b, _ := bundle.Parse(data); !bytes.Equal(attest.DedupKey(b.Entry.Leaf), attest.DedupKey(leaf)) {
		return data, nil, false, fmt.Errorf("the log answered the bundle of entry %d, another statement", res.Index)
	}
	return data, res, status == 201, nil
}
