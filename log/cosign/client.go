package cosign

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// maxResponse caps an add-checkpoint answer: a few signature lines (an
// ML-DSA-44 one is about 3.3 KB).
const maxResponse = 64 << 10

// ErrFork means a witness cosigned a tree that the log's is not
// consistent with: another root at the same size, or a consistency proof
// it rejected. It is never transient.
var ErrFork = errors.New("cosign: the witness cosigned a tree inconsistent with this log's")

// ErrWitnessAhead means a witness cosigned a larger tree than the log has.
var ErrWitnessAhead = errors.New("cosign: the witness cosigned a larger tree than this log has")

// errBadResponse marks an answer that breaks c2sp.org/tlog-witness.
var errBadResponse = errors.New("cosign: bad answer")

// statusError is an unexpected HTTP answer.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("add-checkpoint answered %d %s: %q", e.code, http.StatusText(e.code), e.body)
}

// endpoint is one witness URL and the policy witnesses it answers for.
type endpoint struct {
	url     string
	members []int // indexes in Config.Witnesses
	name    string
	// size is the size the witness last cosigned, as far as the log
	// knows; known is false until it learned it. Owned by the endpoint's
	// goroutine (and by Start, before it runs).
	size  uint64
	known bool
}

// add asks the witness to cosign s. It returns the verified cosignatures,
// one per member key that signed, in member order (missing ones nil).
func (c *Collector) add(ctx context.Context, e *endpoint, s *log.State) ([]*verify.Signature, error) {
	for range 3 { // the first 409 teaches the size; a second one is a fork or a race
		old := uint64(0)
		if e.known {
			old = e.size
		}
		if old > s.Size {
			return nil, fmt.Errorf("%w: it cosigned size %d, this log has %d", ErrWitnessAhead, old, s.Size)
		}
		code, body, err := c.post(ctx, e, old, s)
		if err != nil {
			return nil, err
		}
		switch code {
		case http.StatusOK:
			e.size, e.known = s.Size, true
			return c.cosignatures(e, s, body)
		case http.StatusConflict:
			size, err := parseSize(body)
			if err != nil {
				return nil, fmt.Errorf("%w: 409 without a size: %w", errBadResponse, err)
			}
			if e.known && size == old {
				return nil, fmt.Errorf("%w: it holds another tree of size %d", ErrFork, size)
			}
			e.size, e.known = size, true
		case http.StatusUnprocessableEntity:
			return nil, fmt.Errorf("%w: it rejected the consistency proof from %d to %d", ErrFork, old, s.Size)
		default:
			return nil, &statusError{code: code, body: truncate(body)}
		}
	}
	return nil, fmt.Errorf("%w: the witness kept changing its size", errBadResponse)
}

// post sends one add-checkpoint request and returns the status and body.
func (c *Collector) post(ctx context.Context, e *endpoint, old uint64, s *log.State) (int, []byte, error) {
	body, err := c.requestBody(ctx, old, s)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(e.url, "/")+"/add-checkpoint", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	start := c.cfg.Now()
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, err
	}
	c.metrics.request.WithLabelValues(e.name).Observe(c.cfg.Now().Sub(start).Seconds())
	if len(b) > maxResponse {
		return 0, nil, fmt.Errorf("%w: answer over %d bytes", errBadResponse, maxResponse)
	}
	if resp.StatusCode == http.StatusConflict {
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/x.tlog.size" {
			return 0, nil, fmt.Errorf("%w: 409 with Content-Type %q, want text/x.tlog.size", errBadResponse, mt)
		}
	}
	return resp.StatusCode, b, nil
}

// requestBody is the add-checkpoint body that offers s to a witness at
// size old, with the log's consistency proof.
func (c *Collector) requestBody(ctx context.Context, old uint64, s *log.State) ([]byte, error) {
	b := fmt.Appendf(nil, "old %d\n", old)
	if old > 0 && old < s.Size {
		p, err := c.cfg.Log.ConsistencyProof(ctx, old, s.Size)
		if err != nil {
			return nil, fmt.Errorf("%w %d→%d: %w", errProof, old, s.Size, err)
		}
		for _, h := range p.Hashes {
			b = base64.StdEncoding.AppendEncode(b, h[:])
			b = append(b, '\n')
		}
	}
	b = append(b, '\n')
	return append(b, s.Checkpoint...), nil
}

// cosignatures returns the signature lines of body that are by e's
// members' keys and verify on s, in member order; lines by other keys are
// ignored, as c2sp.org/tlog-witness asks.
func (c *Collector) cosignatures(e *endpoint, s *log.State, body []byte) ([]*verify.Signature, error) {
	sigs, err := verify.ParseSignatures(body)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed cosignatures: %w", errBadResponse, err)
	}
	n, err := verify.ParseNote(s.Checkpoint)
	if err != nil {
		return nil, err
	}
	out := make([]*verify.Signature, len(e.members))
	found := false
	for i, m := range e.members {
		k := c.cfg.Witnesses[m].Key
		for _, sig := range sigs {
			if sig.Name != k.Name() || sig.KeyID != k.KeyID() {
				continue
			}
			if !k.Verify(n.Text, sig.Sig) {
				return nil, fmt.Errorf("%w: the cosignature of %s does not verify", errBadResponse, c.cfg.Witnesses[m].Name)
			}
			out[i], found = &sig, true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no cosignature by the witness's key in it", errBadResponse)
	}
	return out, nil
}

// parseSize parses a text/x.tlog.size body: a decimal and a newline.
func parseSize(b []byte) (uint64, error) {
	s, ok := strings.CutSuffix(string(b), "\n")
	if !ok || s == "" || (s[0] == '0' && len(s) > 1) {
		return 0, fmt.Errorf("bad size %q", truncate(b))
	}
	return strconv.ParseUint(s, 10, 64)
}

func truncate(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
