package attestlog

import (
	"context"
	"runtime"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"golang.org/x/sync/errgroup"
)

// A Submission is one envelope as a client sent it, parsed once.
type Submission struct {
	Leaf     []byte           // the canonical leaf
	Envelope *attest.Envelope // parsed from it
}

// Canonicalize parses a submitted envelope (attest.Canonicalize).
func Canonicalize(body []byte) (Submission, error) {
	leaf, env, err := attest.Canonicalize(body)
	return Submission{Leaf: leaf, Envelope: env}, err
}

// FromLeaf parses a canonical leaf (attest.ParseLeaf).
func FromLeaf(leaf []byte) (Submission, error) {
	env, err := attest.ParseLeaf(leaf)
	return Submission{Leaf: leaf, Envelope: env}, err
}

// IssuerError is the error of a submission authorised by another
// principal than the one whose session token submitted it.
type IssuerError struct {
	Statement string // the principal whose key authorises the statement
	Token     string // the token's issuer
}

func (e *IssuerError) Error() string {
	return "the statement is authorised by " + e.Statement + ", the token by " + e.Token
}

// Submit logs subs as one unit, all or none, in order, and returns each
// one's result: its new index, or the index of the equal statement
// already logged (Duplicate). Statements already logged are not verified
// again: they are answered with the stored entry's index even if their
// key was revoked since. The others are verified against the registry as
// it is now and, unless issuer is empty (the operator's own tools), must
// be authorised by issuer. An error about one submission is a
// *log.EntryError naming its position; the log's own errors (log.ErrPushback,
// log.ErrStorage, …) come as they are.
func (a *Log) Submit(ctx context.Context, subs []Submission, issuer string) ([]log.Result, error) {
	entries := make([]log.Entry, len(subs))
	for i, s := range subs {
		entries[i] = log.Entry{Data: s.Leaf, Key: s.Envelope.DedupKey(), Value: s.Envelope}
	}
	p, err := a.log.Prepare(ctx, entries)
	if err != nil {
		return nil, err
	}
	if err := a.verifyNew(ctx, p, subs, issuer); err != nil {
		return nil, err
	}
	return p.Append(ctx)
}

// verifyNew verifies the submissions p did not find in the log, on every
// CPU, and returns the error of the first one that fails.
func (a *Log) verifyNew(ctx context.Context, p *log.Prepared, subs []Submission, issuer string) error {
	errs := make([]error, len(subs))
	check := func(i int) {
		if !p.Duplicate(i) {
			errs[i] = a.verify(subs[i].Envelope, issuer)
		}
	}
	if len(subs) == 1 {
		check(0)
	} else {
		g, _ := errgroup.WithContext(ctx)
		g.SetLimit(runtime.GOMAXPROCS(0))
		for i := range subs {
			g.Go(func() error { check(i); return nil })
		}
		g.Wait()
	}
	for i, err := range errs {
		if err != nil {
			return &log.EntryError{Entry: i, Err: err}
		}
	}
	return nil
}

func (a *Log) verify(env *attest.Envelope, issuer string) error {
	v, err := a.reg.Verify(env)
	if err != nil {
		return err
	}
	if issuer != "" && v.Issuer != issuer {
		return &IssuerError{Statement: v.Issuer, Token: issuer}
	}
	return nil
}
