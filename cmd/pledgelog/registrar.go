package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/sigstore/sigstore/pkg/signature"
)

// apiFlags are the flags of the commands that write through the API with
// the registrar key.
type apiFlags struct {
	url, keyFile, logKey string
}

func (f *apiFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&f.url, "url", "http://127.0.0.1:8080", "the URL of the running log")
	fl.StringVar(&f.keyFile, "registrar-key", "", "the registrar's private key file (init --demo keeps it in the data directory as demo-registrar-key.pem)")
	fl.StringVar(&f.logKey, "log-key", "", "the log's verifier key to check bundles with (default: the key the log serves, with a warning)")
}

// registrar is a session of the operator with the log.
type registrar struct {
	c    *client.Client
	key  *client.Key
	info *client.LogInfo
	vkey string
}

// open loads the registrar key and reads the log's origin and key.
func (f *apiFlags) open(ctx context.Context, stderr io.Writer) (*registrar, error) {
	if f.keyFile == "" {
		return nil, usageError{Err: errors.New("--registrar-key FILE is required")}
	}
	key, err := client.LoadKeyFile("--registrar-key", f.keyFile)
	if err != nil {
		return nil, err
	}
	r := &registrar{c: client.New(f.url), key: key}
	if r.info, err = r.c.Log(ctx); err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	r.vkey = f.logKey
	if r.vkey == "" {
		fmt.Fprintf(stderr, "pledgelog: WARNING: no --log-key: checking bundles with the key the log serves, %s\n", r.info.VerifierKey)
		r.vkey = r.info.VerifierKey
	}
	return r, nil
}

// submit signs the predicate with the registrar key (and extra signers)
// and logs it.
func (r *registrar) submit(ctx context.Context, p attest.Predicate, extra ...*client.Key) (uint64, error) {
	st, err := attest.NewStatement(p)
	if err != nil {
		return 0, err
	}
	signers := []signature.Signer{r.key.Signer}
	for _, k := range extra {
		signers = append(signers, k.Signer)
	}
	leaf, err := attest.Sign(st, signers...)
	if err != nil {
		return 0, err
	}
	return r.post(ctx, leaf)
}

// post logs a registrar-authorised leaf and checks its bundle.
func (r *registrar) post(ctx context.Context, leaf []byte) (uint64, error) {
	_, res, _, err := r.c.Submit(ctx, r.key, attest.RegistrarID, leaf, r.info, r.vkey)
	if err != nil {
		return 0, err
	}
	return res.Index, nil
}
