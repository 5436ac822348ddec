package loadgen

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
)

// benchRequest is one pre-built write request.
type benchRequest struct {
	path, token string
	body        []byte
	entries     int
}

// load registers the signatories on the log d, served at url, pre-signs
// the pledges, builds the requests and drives them against url.
func load(ctx context.Context, cfg *Config, d *demoLog, url string, rep *benchReport, stderr io.Writer) error {
	start := time.Now()
	reqs, err := prepare(ctx, cfg, d, client.New(url))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "registered %d signatories, pre-signed %d pledges into %d requests in %v\n",
		cfg.Signatories, cfg.Entries, len(reqs), time.Since(start).Round(time.Millisecond))
	rep.Signatories, rep.Requests = cfg.Signatories, len(reqs)
	if err := drive(ctx, url, reqs, cfg, rep); err != nil {
		return err
	}
	if cfg.MemProfile != "" {
		return writeHeapProfile(cfg.MemProfile)
	}
	return nil
}

// prepare registers the signatories and pre-signs the requests. With
// Raw, which has no API, the keys are not registered and the accord is
// the embedded one: the entries are alike, and nobody checks them.
func prepare(ctx context.Context, cfg *Config, d *demoLog, c *client.Client) ([]benchRequest, error) {
	if cfg.Raw {
		accord, _ := attest.TechAccord(benchOrigin)
		digest, err := attest.PredicateDigest(accord)
		if err != nil {
			return nil, err
		}
		keys, err := benchKeys(cfg.Signatories)
		if err != nil {
			return nil, err
		}
		return benchRequests(&attest.AccordInfo{Accord: *accord, Digest: digest}, benchOrigin, keys, cfg, 0)
	}
	keys, err := benchKeys(cfg.Signatories)
	if err != nil {
		return nil, err
	}
	info, accord, err := registerKeys(ctx, c, d, keys)
	if err != nil {
		return nil, err
	}
	return benchRequests(accord, info.Origin, keys, cfg, 0)
}

// registerKeys registers the signatories of keys on the log d, which c
// serves, with d's demo registrar key, and returns the log's info and the
// accord the bench pledges to.
func registerKeys(ctx context.Context, c *client.Client, d *demoLog, keys []*client.Key) (*client.LogInfo, *attest.AccordInfo, error) {
	info, err := c.Log(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := registerBench(ctx, c, d, info, keys); err != nil {
		return nil, nil, fmt.Errorf("registering the bench signatories: %w", err)
	}
	accord, err := c.Accord(ctx, "cybersecurity-tech-accord-2018")
	if err != nil {
		return nil, nil, err
	}
	return info, accord, nil
}

// benchKeys makes a new Ed25519 key for each of k signatories.
func benchKeys(k int) ([]*client.Key, error) {
	keys := make([]*client.Key, k)
	for i := range keys {
		_, priv, _ := ed25519.GenerateKey(nil)
		var err error
		if keys[i], err = client.NewKeyFrom(priv); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// benchPrefix starts the ids of the bench's signatories; bench --url
// makes it new to the log it drives.
var benchPrefix = "bench-"

func benchID(i int) string { return fmt.Sprintf("%s%04d", benchPrefix, i) }

// registerBench registers the signatories of keys, benchID(i) with
// keys[i], in one batch signed by d's demo registrar key.
func registerBench(ctx context.Context, c *client.Client, d *demoLog, info *client.LogInfo, keys []*client.Key) error {
	b, err := os.ReadFile(d.registrarKey)
	if err != nil {
		return err
	}
	registrar, err := client.LoadKey(b)
	if err != nil {
		return err
	}
	var leaves [][]byte
	for i, k := range keys {
		st, err := attest.NewStatement(&attest.SignatoryEvent{Action: attest.ActionRegister, Origin: info.Origin,
			Signatory: benchID(i), Name: "Bench " + benchID(i), Key: &k.Public, Notice: "Load test data."})
		if err != nil {
			return err
		}
		leaf, err := attest.Sign(st, registrar.Signer, k.Signer)
		if err != nil {
			return err
		}
		leaves = append(leaves, leaf)
	}
	body := batchBody(leaves)
	token, err := registrar.RegistrarToken(info.Origin, body, time.Now())
	if err != nil {
		return err
	}
	_, _, err = c.Post(ctx, "/api/v1/entries/batch", token, body)
	return err
}

func batchBody(leaves [][]byte) []byte {
	return append(append([]byte(`{"entries":[`), bytes.Join(leaves, []byte(","))...), "]}"...)
}

// benchRequests pre-signs cfg.Entries pledges, the first numbered first,
// round robin over the signatories and the accord's principles, and
// groups them into requests: one per envelope, or batches of one
// signatory's envelopes. Their tokens are minted now and last
// client.TokenLifetime.
func benchRequests(accord *attest.AccordInfo, origin string, keys []*client.Key, cfg *Config, first int) ([]benchRequest, error) {
	tokens, err := benchTokens(origin, keys)
	if err != nil {
		return nil, err
	}
	pending := make([][][]byte, len(keys))
	var reqs []benchRequest
	for i := first; i < first+cfg.Entries; i++ {
		s := i % len(keys)
		leaf, err := signPledge(accord, origin, keys, i)
		if err != nil {
			return nil, err
		}
		if pending[s] = append(pending[s], leaf); len(pending[s]) == cfg.Batch || i >= first+cfg.Entries-len(keys) {
			reqs = append(reqs, newBenchRequest(cfg, tokens[s], pending[s]))
			pending[s] = nil
		}
	}
	return reqs, nil
}

// benchTokens mints a session token for each signatory, valid from now.
func benchTokens(origin string, keys []*client.Key) ([]string, error) {
	tokens := make([]string, len(keys))
	for i, k := range keys {
		var err error
		if tokens[i], err = k.Token(benchID(i), origin, time.Now()); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// signPledge signs pledge number i, by signatory i mod len(keys): every
// number gives a distinct statement, so no two are duplicates.
func signPledge(accord *attest.AccordInfo, origin string, keys []*client.Key, i int) ([]byte, error) {
	s := i % len(keys)
	p := &attest.Pledge{Origin: origin, Signatory: benchID(s), Accord: accord.ID,
		Principle: accord.Principles[(i/len(keys))%len(accord.Principles)].ID, Status: attest.StatusProgress,
		Statement: fmt.Sprintf("Load test pledge %d of %s, not a real statement.", i, benchID(s)), Effective: "2026-01-01"}
	return attest.Sign(attest.NewPledgeStatement(p, accord.Digest), keys[s].Signer)
}

func newBenchRequest(cfg *Config, token string, leaves [][]byte) benchRequest {
	switch {
	case cfg.Raw:
		return benchRequest{path: "/raw", body: leaves[0], entries: 1}
	case len(leaves) == 1 && cfg.Batch == 1:
		return benchRequest{path: "/api/v1/entries", token: token, body: leaves[0], entries: 1}
	}
	return benchRequest{path: "/api/v1/entries/batch", token: token, body: batchBody(leaves), entries: len(leaves)}
}

// post sends one request and returns its status, or 0 and the error of
// a transport failure.
func post(ctx context.Context, hc *http.Client, url string, r *benchRequest) (int, error) {
	status, _, err := send(ctx, hc, url, r, false)
	return status, err
}

// send is post that also returns the answer's body if keep is set.
func send(ctx context.Context, hc *http.Client, url string, r *benchRequest, keep bool) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+r.path, bytes.NewReader(r.body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body []byte
	if keep {
		body, err = io.ReadAll(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}
