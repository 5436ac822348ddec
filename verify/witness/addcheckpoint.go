package witness

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
)

// maxProofLines is the longest consistency proof a client may send.
const maxProofLines = 63

// A request is a parsed add-checkpoint body.
type request struct {
	old    uint64
	proof  []verify.Hash
	signed []byte // the signed checkpoint
	cp     verify.Checkpoint
}

// parseRequest parses an add-checkpoint body; its errors are 400s.
func parseRequest(b []byte) (*request, error) {
	head, signed, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return nil, errors.New("no blank line after the consistency proof")
	}
	lines := bytes.Split(head, []byte("\n"))
	oldLine, ok := bytes.CutPrefix(lines[0], []byte("old "))
	if !ok {
		return nil, errors.New(`the first line is not "old <size>"`)
	}
	r := &request{}
	var err error
	if r.old, err = parseSize(string(oldLine)); err != nil {
		return nil, fmt.Errorf("old size: %w", err)
	}
	if len(lines)-1 > maxProofLines {
		return nil, fmt.Errorf("%d consistency proof lines, more than %d", len(lines)-1, maxProofLines)
	}
	for _, l := range lines[1:] {
		h, err := verify.ParseHash(string(l))
		if err != nil {
			return nil, fmt.Errorf("consistency proof line: %w", err)
		}
		r.proof = append(r.proof, h)
	}
	n, err := verify.ParseNote(signed)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	r.signed = signed
	if r.cp, err = verify.ParseCheckpoint(n.Text); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if r.old > r.cp.Size {
		return nil, fmt.Errorf("old size %d above the checkpoint's %d", r.old, r.cp.Size)
	}
	return r, nil
}

// parseSize parses a canonical decimal size.
func parseSize(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != s {
		return 0, fmt.Errorf("%q is not a canonical decimal size", s)
	}
	return n, nil
}

// An httpError is an answer other than 200; a 409's msg is the size line.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

func (w *Witness) addCheckpoint(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", "POST")
		http.Error(rw, "add-checkpoint takes POST", http.StatusMethodNotAllowed)
		return
	}
	if wait, ok := w.limiter.allow(clientIP(r)); !ok {
		rw.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		http.Error(rw, "too many requests", http.StatusTooManyRequests)
		return
	}
	body, err := readBody(rw, r)
	if errors.As(err, new(*http.MaxBytesError)) {
		http.Error(rw, fmt.Sprintf("request larger than %d bytes", MaxRequestSize), http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		http.Error(rw, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	sigLines, herr := w.add(body)
	switch {
	case herr != nil && herr.status == http.StatusConflict:
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		rw.Write([]byte(herr.msg))
	case herr != nil:
		http.Error(rw, herr.msg, herr.status)
	default:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Write(sigLines)
	}
}

// add checks and cosigns an add-checkpoint body, and returns the
// cosignature line.
func (w *Witness) add(body []byte) ([]byte, *httpError) {
	req, err := parseRequest(body)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "%v", err)
	}
	origin := req.cp.Origin
	s := w.logs[origin]
	if s == nil {
		return nil, fail(http.StatusNotFound, "unknown log %q", origin)
	}
	verified, err := verify.Open(req.signed, w.policy.LogKeys(origin)...)
	if err != nil {
		return nil, fail(http.StatusForbidden, "log signature: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if herr := w.checkConsistency(s, req, body); herr != nil {
		return nil, herr
	}
	return w.cosign(s, req, verified)
}

// checkConsistency checks req against the log's state.
func (w *Witness) checkConsistency(s *logState, req *request, body []byte) *httpError {
	if req.old != s.size {
		w.log.Info("add-checkpoint: old size is not the last cosigned", "origin", req.cp.Origin,
			"old", req.old, "cosigned", s.size)
		return &httpError{status: http.StatusConflict, msg: strconv.FormatUint(s.size, 10) + "\n"}
	}
	var err error
	switch {
	case req.cp.Size == 0 && req.cp.Root != verify.EmptyRoot:
		err = errors.New("a checkpoint of size 0 whose root is not the empty tree's")
	case req.old == 0 && len(req.proof) > 0:
		err = errors.New("a consistency proof from size 0")
	case req.old > 0:
		err = verify.Consistency(req.old, req.cp.Size, req.proof, s.root, req.cp.Root)
	}
	if err != nil {
		w.log.Warn("add-checkpoint: inconsistent checkpoint", "origin", req.cp.Origin, "err", err, "request", string(body))
		return fail(http.StatusUnprocessableEntity, "%v", err)
	}
	return nil
}

// cosign signs the checkpoint, stores it and returns the cosignature line.
func (w *Witness) cosign(s *logState, req *request, verified *verify.Note) ([]byte, *httpError) {
	signed, err := verify.Sign(verified.Text, w.cosigner)
	if err != nil {
		return nil, fail(http.StatusInternalServerError, "cosigning failed")
	}
	mine, err := verify.ParseNote(signed)
	if err != nil {
		return nil, fail(http.StatusInternalServerError, "cosigning failed")
	}
	stored := &verify.Note{Text: verified.Text, Sigs: append(verified.Sigs, mine.Sigs...)}
	b := stored.Bytes()
	if err := durable.WriteFile(w.stateFile(req.cp.Origin), b, 0o644); err != nil {
		w.log.Error("add-checkpoint: writing the state", "origin", req.cp.Origin, "err", err)
		return nil, fail(http.StatusServiceUnavailable, "the witness could not store its state")
	}
	s.size, s.root, s.signed = req.cp.Size, req.cp.Root, b
	return signed[len(verified.Text)+1:], nil
}

// clientIP returns the IP address of the request's peer.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
