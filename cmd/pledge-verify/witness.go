package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
	"github.com/pledgelog/pledgelog/verify/witness"
)

var witnessGroup = cli.Group{Usage: witnessUsage, Commands: map[string]cli.Command{
	"keygen": runWitnessKeygen, "serve": runWitnessServe,
}}

const witnessUsage = `usage: pledge-verify witness <command> [flags]

commands:
  keygen   write a new cosigning key and print its verifier key (vkey)
  serve    witness the logs of a tlog-policy file (c2sp.org/tlog-witness)

See docs/witness.md.
`

func runWitnessKeygen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("witness keygen", "--name NAME --out FILE [--type mldsa44|ed25519]", stderr)
	name := fs.String("name", "", "the witness's key `NAME`, a schema-less URL such as witness.example.com/w1")
	out := fs.String("out", "", "the key `FILE` to create (it must not exist)")
	typ := fs.String("type", "mldsa44", "the cosignature `TYPE`: mldsa44 (ML-DSA-44, type 0x06) or ed25519 (type 0x04)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	types := map[string]byte{"mldsa44": verify.TypeMLDSACosignature, "ed25519": verify.TypeCosignature}
	switch {
	case *name == "" || *out == "":
		return usageError{Err: errors.New("witness keygen: --name and --out are required")}
	case types[*typ] == 0:
		return usageError{Err: fmt.Errorf("--type %q: want mldsa44 or ed25519", *typ)}
	}
	k, err := witness.GenerateKey(*name, types[*typ])
	if err != nil {
		return usageError{Err: fmt.Errorf("--name: %w", err)}
	}
	if err := durable.CreateFile(*out, k.Marshal(), 0o600); err != nil {
		return usageError{Err: fmt.Errorf("--out: %w", err)}
	}
	fmt.Fprintln(stdout, k.VerifierKey())
	return nil
}

type witnessServeFlags struct {
	key, policy, state, listen string
	rate                       float64
	burst                      int
}

func runWitnessServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &witnessServeFlags{}
	fs := newFlags("witness serve", "--key FILE --policy FILE --state DIR --listen ADDR", stderr)
	fs.StringVar(&f.key, "key", "", "the cosigning key `FILE` (witness keygen)")
	fs.StringVar(&f.policy, "policy", "", "a c2sp.org/tlog-policy `FILE` whose log lines name the logs to witness")
	fs.StringVar(&f.state, "state", "", "the state `DIR`: the last checkpoint cosigned for each log")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:7380", "the `ADDR` to serve on")
	fs.Float64Var(&f.rate, "rate", 10, "add-checkpoint requests a second allowed to each client IP, on average")
	fs.IntVar(&f.burst, "burst", 20, "add-checkpoint requests allowed to each client IP at once")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	w, k, err := f.open(stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return usageError{Err: fmt.Errorf("--listen %s: %w", f.listen, err)}
	}
	fmt.Fprintf(stdout, "witnessing at http://%s/\nvkey: %s\n", ln.Addr(), k.VerifierKey())
	return serveWitness(ctx, w, ln)
}

// open loads the key, the policy and the state.
func (f *witnessServeFlags) open(stderr io.Writer) (*witness.Witness, *witness.Key, error) {
	if f.key == "" || f.policy == "" || f.state == "" {
		return nil, nil, usageError{Err: errors.New("witness serve: --key, --policy and --state are required")}
	}
	kb, err := readFile(f.key)
	if err != nil {
		return nil, nil, err
	}
	k, err := witness.ParseKey(kb)
	if err != nil {
		return nil, nil, usageError{Err: fmt.Errorf("--key %s: %w", f.key, err)}
	}
	pb, err := readFile(f.policy)
	if err != nil {
		return nil, nil, err
	}
	p, err := policy.Parse(pb)
	if err != nil {
		return nil, nil, usageError{Err: fmt.Errorf("--policy %s: %w", f.policy, err)}
	}
	if len(p.Logs()) == 0 {
		return nil, nil, usageError{Err: fmt.Errorf("--policy %s: no log line", f.policy)}
	}
	if err := os.MkdirAll(f.state, 0o755); err != nil {
		return nil, nil, usageError{Err: fmt.Errorf("--state: %w", err)}
	}
	if err := lockState(f.state); err != nil {
		return nil, nil, usageError{Err: fmt.Errorf("--state %s: %w", f.state, err)}
	}
	w, err := witness.New(witness.Config{Key: k, Policy: p, StateDir: f.state, Rate: f.rate, Burst: f.burst,
		Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return nil, nil, err
	}
	return w, k, nil
}

// serveWitness serves w on ln until ctx is done.
func serveWitness(ctx context.Context, w *witness.Witness, ln net.Listener) error {
	srv := &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
