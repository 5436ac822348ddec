package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/log"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/sigstore/sigstore/pkg/signature"
)

// apiFlags are the flags of the commands that write through the API with
// the registrar key.
type apiFlags struct {
	url, keyFile, logKey string
	json                 bool
}

func (f *apiFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&f.url, "url", "http://127.0.0.1:8080", "the URL of the running log")
	fl.StringVar(&f.keyFile, "registrar-key", "", "the registrar's private key file (init --demo keeps it in the data directory as demo-registrar-key.pem)")
	fl.StringVar(&f.logKey, "log-key", "", "the log's verifier key to check bundles with (default: the key the log serves, with a warning)")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON")
}

// print writes v as JSON with --json, else text.
func (f *apiFlags) print(w io.Writer, v any, text string) error {
	if f.json {
		return cli.PrintJSON(w, v)
	}
	_, err := io.WriteString(w, text)
	return err
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
	data, res, _, err := r.c.Submit(ctx, r.key, attest.RegistrarID, leaf, r.info, r.vkey)
	if err != nil && data != nil { // the log answered a bundle that does not verify
		return 0, cli.Failed(err)
	}
	if err != nil {
		return 0, err
	}
	return res.Index, nil
}

// registrarGroup is pledgelog registrar <sub>: key prints the
// registrar's genesis key, rotate replaces the registrar key.
var registrarGroup = cli.Group{Usage: `usage: pledgelog registrar <command> [flags]

commands:
  key     print the registrar's genesis public key (or --id its key id), which auditors pin
  rotate  replace the registrar key, through the API with the current one

Run "pledgelog registrar <command> -h" for a command's flags.
`, Commands: map[string]cli.Command{"key": runRegistrarKey, "rotate": runRegistrar}}

// runRegistrarKey runs pledgelog registrar key: it prints the public key
// of the log's genesis, the registrar key auditors pin (pledge-verify
// --registrar-key), as PEM, or with --id its hex key id. It reads the
// genesis entry (index 0) from the store of the data directory or, while
// serve holds the store, from the running server that serve.url names:
// the operator's own server, whose answer must still be a genesis of
// this log's origin.
func runRegistrarKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("registrar key", "[--id] --data DIR", stderr)
	dir := fl.String("data", "./pledgelog-data", "the data directory of the log")
	idOnly := fl.Bool("id", false, "print the key id (64 hex digits) instead of the PEM public key")
	if err := parse(fl, args); err != nil {
		return err
	}
	key, err := genesisKey(ctx, dataDir(*dir))
	if err != nil {
		return err
	}
	if *idOnly {
		fmt.Fprintln(stdout, key.ID())
		return nil
	}
	return pem.Encode(stdout, &pem.Block{Type: "PUBLIC KEY", Bytes: key.SPKI})
}

// genesisKey returns the registrar key that the genesis of the log in d
// introduces.
func genesisKey(ctx context.Context, d dataDir) (attest.PublicKey, error) {
	origin, err := d.readOrigin()
	if err != nil {
		return attest.PublicKey{}, err
	}
	leaf, err := storedGenesis(ctx, d)
	if errors.Is(err, errLocked) {
		leaf, err = servedGenesis(ctx, d)
	}
	if err != nil {
		return attest.PublicKey{}, err
	}
	return genesisOf(leaf, origin)
}

// storedGenesis reads entry 0 from the store of d.
func storedGenesis(ctx context.Context, d dataDir) ([]byte, error) {
	al, st, err := openAttestLog(ctx, d, log.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return al.Log().Entry(ctx, 0)
}

// servedGenesis reads entry 0 from the server that serves d.
func servedGenesis(ctx context.Context, d dataDir) ([]byte, error) {
	url, httpc, err := localServer(d, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("the log is in use but its server's URL is unknown: %w", err)
	}
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("reading the genesis from the running server %s: %w", url, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/entries/0", nil)
	if err != nil {
		return fail(err)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(problemError(resp))
	}
	var e api.Entry
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e); err != nil {
		return fail(err)
	}
	return e.Entry, nil
}

// genesisOf returns the key of the genesis leaf of origin.
func genesisOf(leaf []byte, origin string) (attest.PublicKey, error) {
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		return attest.PublicKey{}, fmt.Errorf("entry 0: %w", err)
	}
	g, ok := env.Statement.Predicate.(*attest.Registrar)
	switch {
	case !ok || g.Action != "genesis":
		return attest.PublicKey{}, errors.New("entry 0 is not a registrar genesis")
	case g.Origin != origin:
		return attest.PublicKey{}, fmt.Errorf("entry 0 is the genesis of %q, not of this log's origin %q", g.Origin, origin)
	}
	return g.Key, nil
}

// registrarLine is the line init and demo print about the registrar key.
func registrarLine(id string, d dataDir) string {
	return fmt.Sprintf("registrar key: %s (its public key for auditors: pledgelog registrar key --data %s)\n", id, d)
}
