package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
)

// firstEntries are what init logs after creating the log.
type firstEntries struct {
	entries [][]byte
	secret  func(d dataDir) error // writes a key file, if any
	undo    func()                // removes it again
	summary string
}

// firstEntries prepares the entries of the chosen mode, before anything is
// created.
func (f *initFlags) firstEntries(d dataDir) (*firstEntries, error) {
	switch {
	case f.demo:
		return demoEntries(f.origin, f.demoSeed)
	case f.registrarOut != "":
		return generatedGenesis(d, f.origin, f.registrarOut)
	}
	return offlineGenesis(f.origin, f.registrarPub, f.genesis)
}

func demoEntries(origin, seed string) (*firstEntries, error) {
	if seed == "" {
		seed = rand.Text()
	}
	demo, err := attest.NewDemo(origin, []byte(seed))
	if err != nil {
		return nil, err
	}
	pemBytes, err := attest.MarshalPrivateKey(demo.Registrar)
	if err != nil {
		return nil, err
	}
	first := &firstEntries{entries: demo.Entries, undo: func() {}}
	first.secret = func(d dataDir) error { return writeSecret(d.demoKeyFile(), pemBytes) }
	first.summary = fmt.Sprintf("logged the demo: %d entries (genesis, the 2018 Cybersecurity Tech Accord, %d signatories and their pledges).\n"+
		"Demo data: the statements are not made or signed by the companies they name.\n"+
		"The demo's registrar key is in the data directory (only --demo does that).\n", len(demo.Entries), len(demo.Keys))
	return first, nil
}

// generatedGenesis generates a registrar key into out, which must be new
// and outside the data directory, and signs the genesis with it.
func generatedGenesis(d dataDir, origin, out string) (*firstEntries, error) {
	if err := outside(d, out); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("--registrar-key-out %s: already exists", out)
	}
	priv, err := attest.GenerateKey(attest.Ed25519)
	if err != nil {
		return nil, err
	}
	leaf, err := signGenesis(origin, priv)
	if err != nil {
		return nil, err
	}
	pemBytes, err := attest.MarshalPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return &firstEntries{entries: [][]byte{leaf},
		secret:  func(dataDir) error { return writeSecret(out, pemBytes) },
		undo:    func() { os.Remove(out) },
		summary: fmt.Sprintf("logged the genesis; the registrar key is in %s: keep it offline, it is not in backups.\n", out),
	}, nil
}

// outside fails if path is inside the data directory d.
func outside(d dataDir, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(string(d))
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(dir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return usageError{Err: fmt.Errorf("--registrar-key-out %s: must be outside the data directory %s", path, d)}
	}
	return nil
}

func signGenesis(origin string, priv crypto.Signer) ([]byte, error) {
	pk, err := attest.NewPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	st, err := attest.NewStatement(&attest.Registrar{Action: "genesis", Origin: origin, Key: pk})
	if err != nil {
		return nil, err
	}
	signer, err := attest.NewSigner(priv)
	if err != nil {
		return nil, err
	}
	return attest.Sign(st, signer)
}

// offlineGenesis reads a genesis envelope and checks that it introduces
// the registrar key pubFile holds, for origin.
func offlineGenesis(origin, pubFile, genesisFile string) (*firstEntries, error) {
	pemBytes, err := os.ReadFile(pubFile)
	if err != nil {
		return nil, fmt.Errorf("--registrar-pub: %w", err)
	}
	pub, err := attest.ParsePublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("--registrar-pub %s: %w", pubFile, err)
	}
	data, err := os.ReadFile(genesisFile)
	if err != nil {
		return nil, fmt.Errorf("--genesis: %w", err)
	}
	leaf, env, err := attest.Canonicalize(data)
	if err != nil {
		return nil, fmt.Errorf("--genesis %s: %w", genesisFile, err)
	}
	g, ok := env.Statement.Predicate.(*attest.Registrar)
	switch {
	case !ok || g.Action != "genesis":
		return nil, fmt.Errorf("--genesis %s: not a registrar genesis statement", genesisFile)
	case g.Origin != origin:
		return nil, fmt.Errorf("--genesis %s: for origin %q, not %q", genesisFile, g.Origin, origin)
	case g.Key.ID() != pub.ID():
		return nil, fmt.Errorf("--genesis %s: introduces key %s, not the key of --registrar-pub (%s)", genesisFile, g.Key.ID(), pub.ID())
	}
	return &firstEntries{entries: [][]byte{leaf}, undo: func() {},
		summary: fmt.Sprintf("logged the genesis of registrar key %s.\n", pub.ID())}, nil
}

// write logs the entries into the new log of d through the attestation
// log, verifying each against the registry as of its index.
func (first *firstEntries) write(ctx context.Context, d dataDir, logger *slog.Logger) error {
	if first.secret != nil {
		if err := first.secret(d); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	al, st, err := openAttestLog(ctx, d, log.Config{Logger: logger})
	if err != nil {
		cancel()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- al.Log().Run(ctx) }()
	err = submitAll(ctx, al, first.entries)
	cancel()
	if runErr := <-done; err == nil && runErr != nil && !errors.Is(runErr, context.Canceled) {
		err = runErr
	}
	return errors.Join(err, st.Close())
}

// submitAll parses each entry once and submits them in order: registry
// entries one by one (each changes what the next is verified against),
// runs of pledges as one batch.
func submitAll(ctx context.Context, al *attestlog.Log, entries [][]byte) error {
	subs := make([]attestlog.Submission, len(entries))
	for i, leaf := range entries {
		var err error
		if subs[i], err = attestlog.FromLeaf(leaf); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
	}
	isPledge := func(i int) bool { return subs[i].Envelope.Statement.PredicateType == attest.PledgeType }
	for i := 0; i < len(subs); {
		j := i + 1
		for isPledge(i) && j < len(subs) && isPledge(j) {
			j++
		}
		if _, err := al.Submit(ctx, subs[i:j], ""); err != nil {
			var ee *log.EntryError
			if errors.As(err, &ee) {
				return fmt.Errorf("entry %d: %w", i+ee.Entry, ee.Err)
			}
			return fmt.Errorf("logging entries %d to %d: %w", i, j-1, err)
		}
		i = j
	}
	return nil
}
