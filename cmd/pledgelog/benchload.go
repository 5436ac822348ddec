package main

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
	"github.com/pledgelog/pledgelog/cmd/pledge/client"
)

// benchRequest is one pre-built write request.
type benchRequest struct {
	path, token string
	body        []byte
	entries     int
}

// load registers the signatories, pre-signs the pledges, builds the
// requests and drives them against url.
func load(ctx context.Context, f *benchFlags, d dataDir, url string, rep *benchReport, stderr io.Writer) error {
	c := client.New(url)
	info, err := c.Log(ctx)
	if err != nil {
		return err
	}
	keys, err := registerBench(ctx, c, d, info, f.signatories)
	if err != nil {
		return fmt.Errorf("registering the bench signatories: %w", err)
	}
	start := time.Now()
	reqs, err := benchRequests(ctx, c, info, keys, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "registered %d signatories, pre-signed %d pledges into %d requests in %v\n",
		f.signatories, f.entries, len(reqs), time.Since(start).Round(time.Millisecond))
	rep.Signatories, rep.Requests = f.signatories, len(reqs)
	drive(ctx, url, reqs, f, rep)
	return nil
}

// registerBench registers k signatories with new Ed25519 keys in one
// batch signed by the demo registrar key, and returns their keys by id.
func registerBench(ctx context.Context, c *client.Client, d dataDir, info *client.LogInfo, k int) (map[string]*client.Key, error) {
	b, err := os.ReadFile(d.demoKeyFile())
	if err != nil {
		return nil, err
	}
	registrar, err := client.LoadKey(b)
	if err != nil {
		return nil, err
	}
	keys := map[string]*client.Key{}
	var leaves [][]byte
	for i := range k {
		id := fmt.Sprintf("bench-%04d", i)
		_, priv, _ := ed25519.GenerateKey(nil)
		if keys[id], err = client.NewKeyFrom(priv); err != nil {
			return nil, err
		}
		st, err := attest.NewStatement(&attest.SignatoryEvent{Action: attest.ActionRegister, Origin: info.Origin,
			Signatory: id, Name: "Bench " + id, Key: &keys[id].Public, Notice: "Load test data."})
		if err != nil {
			return nil, err
		}
		leaf, err := attest.Sign(st, registrar.Signer, keys[id].Signer)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, leaf)
	}
	body := batchBody(leaves)
	token, err := registrar.RegistrarToken(info.Origin, body, time.Now())
	if err != nil {
		return nil, err
	}
	_, _, err = c.Post(ctx, "/api/v1/entries/batch", token, body)
	return keys, err
}

func batchBody(leaves [][]byte) []byte {
	return append(append([]byte(`{"entries":[`), bytes.Join(leaves, []byte(","))...), "]}"...)
}

// benchRequests pre-signs the pledges, round robin over the signatories
// and the accord's principles, and groups them into requests: one per
// envelope, or batches of one signatory's envelopes.
func benchRequests(ctx context.Context, c *client.Client, info *client.LogInfo, keys map[string]*client.Key, f *benchFlags) ([]benchRequest, error) {
	accord, err := c.Accord(ctx, "cybersecurity-tech-accord-2018")
	if err != nil {
		return nil, err
	}
	ids, tokens := make([]string, 0, len(keys)), map[string]string{}
	for i := range len(keys) {
		id := fmt.Sprintf("bench-%04d", i)
		ids = append(ids, id)
		if tokens[id], err = keys[id].Token(id, info.Origin, time.Now()); err != nil {
			return nil, err
		}
	}
	pending := map[string][][]byte{}
	var reqs []benchRequest
	for i := range f.entries {
		id := ids[i%len(ids)]
		p := &attest.Pledge{Origin: info.Origin, Signatory: id, Accord: accord.ID,
			Principle: accord.Principles[(i/len(ids))%len(accord.Principles)].ID, Status: attest.StatusProgress,
			Statement: fmt.Sprintf("Load test pledge %d of %s, not a real statement.", i, id), Effective: "2026-01-01"}
		leaf, err := attest.Sign(attest.NewPledgeStatement(p, accord.Digest), keys[id].Signer)
		if err != nil {
			return nil, err
		}
		if pending[id] = append(pending[id], leaf); len(pending[id]) == f.batch || i >= f.entries-len(ids) {
			reqs = append(reqs, newBenchRequest(f, tokens[id], pending[id]))
			pending[id] = nil
		}
	}
	return reqs, nil
}

func newBenchRequest(f *benchFlags, token string, leaves [][]byte) benchRequest {
	switch {
	case f.raw:
		return benchRequest{path: "/raw", body: leaves[0], entries: 1}
	case len(leaves) == 1 && f.batch == 1:
		return benchRequest{path: "/api/v1/entries", token: token, body: leaves[0], entries: 1}
	}
	return benchRequest{path: "/api/v1/entries/batch", token: token, body: batchBody(leaves), entries: len(leaves)}
}

// post sends one request and returns its status (0 for a transport error).
func post(ctx context.Context, hc *http.Client, url string, r *benchRequest) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+r.path, bytes.NewReader(r.body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
