// Package witness is a c2sp.org/tlog-witness witness: an HTTP service
// that cosigns a log's checkpoints once it has checked that each extends
// the last one it cosigned for that log, so that a log cannot show two
// views of its tree without a witness noticing.
//
// The witness trusts the logs of a c2sp.org/tlog-policy (package
// verify/policy; its witness, group and quorum lines are not used) and
// signs with one cosigner, Ed25519 (type 0x04) or ML-DSA-44 (type 0x06,
// which the specification recommends). Both prefixes of the specification,
// submission and monitoring, are the root of the handler.
//
// # add-checkpoint
//
//	POST /add-checkpoint
//
//	old 20852014
//	PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
//	…at most 63 consistency proof lines…
//
//	example.com/behind-the-sofa
//	20852163
//	CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//
//	— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq…
//
// The body is an old size line (canonical decimal), up to 63 base64 hash
// lines, a blank line and a signed checkpoint; every line ends in a
// newline. The checks, in order, and the answer when one fails:
//
//	405  the method is not POST (with Allow: POST)
//	413  the body is longer than [MaxRequestSize]
//	429  the client (by remote IP) exceeded its rate (with Retry-After)
//	400  the body or the checkpoint is malformed, or the old size exceeds
//	     the checkpoint's size
//	404  the origin is not a log of the policy
//	403  no signature by a key of the policy for that origin verifies, or
//	     one by such a key (name and key ID) fails
//	409  the old size is not the size of the last checkpoint cosigned for
//	     the origin (0 if none): the body is that size in decimal and a
//	     newline, Content-Type text/x.tlog.size
//	422  a checkpoint of size 0 has not the empty tree's root; the old size
//	     is 0 and the proof not empty; the proof does not prove that the
//	     checkpoint extends the last one cosigned (for equal sizes: the
//	     roots differ)
//	503  the state could not be written: nothing was cosigned
//	200  the cosignature line, Content-Type text/plain; charset=utf-8
//
// A checkpoint that passes every check is cosigned, with a timestamp that
// is never zero, and stored (internal/durable: written to a temporary
// file, synced, renamed, the directory synced) before the answer is sent.
// Checks and write are serialised per origin, so the stored size never
// goes back. A crash at any moment leaves the old state or the new one;
// since a cosignature only leaves the process once its checkpoint is
// stored, no two inconsistent checkpoints of one origin are ever
// cosigned, across any number of restarts. A request that fails a
// consistency check (409, 422) is logged at warning level with its body,
// as possible evidence of a misbehaving log.
//
// # Monitoring
//
//	GET /<hex SHA-256 of the origin, lowercase>/checkpoint
//
// answers the last checkpoint cosigned for that log, with the log
// signatures that verified and the witness's cosignature, or 404 if there
// is none.
//
// # State
//
// The state directory holds one file per log, named after the hex SHA-256
// of its origin: the signed note the monitoring endpoint serves. Other
// files (pledge-verify's LOCK, temporary files of interrupted writes) are
// ignored. One Witness must own a state directory: another process
// writing it would not be seen. [New]
// reads them and refuses to start if one does not parse, is for another
// origin, or lacks a valid cosignature by the witness's key: a witness
// never guesses its state.
package witness

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// MaxRequestSize is the largest add-checkpoint body the witness reads: a
// proof of 63 hashes and a checkpoint with ample room for signatures.
const MaxRequestSize = 256 << 10

// A Config configures a witness.
type Config struct {
	// Key is the witness's cosigning key. Required.
	Key *Key
	// Policy lists the logs to witness. Required.
	Policy *policy.Policy
	// StateDir is the directory of the state; it must exist. Required.
	StateDir string
	// Rate and Burst limit each client's requests (per remote IP) to Rate
	// a second on average, Burst at once; 0 means 10 and 20.
	Rate  float64
	Burst int
	// Logger, if not nil, receives one line per request that fails a
	// consistency check and per state write failure.
	Logger *slog.Logger
}

// A Witness is an http.Handler. It is safe for concurrent use.
type Witness struct {
	cosigner verify.Signer
	self     verify.Verifier // the cosigner's own verifier
	policy   *policy.Policy
	dir      string
	limiter  *limiter
	log      *slog.Logger
	logs     map[string]*logState // by origin; fixed at New
	byHash   map[string]*logState // by hex SHA-256 of the origin; fixed at New
}

// logState is the state of one log. mu serialises add-checkpoint for the
// log, from the check of the old size to the write of the new state.
type logState struct {
	mu     sync.Mutex
	size   uint64
	root   verify.Hash
	signed []byte // the stored note; nil before the first cosignature
}

// New returns a witness with the state in cfg.StateDir.
func New(cfg Config) (*Witness, error) {
	if cfg.Key == nil || cfg.Policy == nil || cfg.StateDir == "" {
		return nil, errors.New("witness: Key, Policy and StateDir are required")
	}
	cosigner, err := cfg.Key.Signer(nil)
	if err != nil {
		return nil, err
	}
	self, err := verify.NewVerifier(cfg.Key.VerifierKey())
	if err != nil {
		return nil, err
	}
	w := &Witness{cosigner: cosigner, self: self, policy: cfg.Policy, dir: cfg.StateDir,
		limiter: newLimiter(cfg.Rate, cfg.Burst, time.Now), log: cfg.Logger,
		logs: map[string]*logState{}, byHash: map[string]*logState{}}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	for _, l := range cfg.Policy.Logs() {
		if w.logs[l.Origin()] != nil {
			continue
		}
		s, err := w.load(l.Origin())
		if err != nil {
			return nil, err
		}
		w.logs[l.Origin()] = s
		w.byHash[originHash(l.Origin())] = s
	}
	return w, nil
}

// originHash returns the hex SHA-256 of origin, which names its state
// file and its monitoring path.
func originHash(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:])
}

// stateFile returns the path of origin's state.
func (w *Witness) stateFile(origin string) string {
	return filepath.Join(w.dir, originHash(origin))
}

// load reads origin's state, if any.
func (w *Witness) load(origin string) (*logState, error) {
	b, err := os.ReadFile(w.stateFile(origin))
	if errors.Is(err, os.ErrNotExist) {
		return &logState{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness state of %s: %w", origin, err)
	}
	n, err := verify.Open(b, w.self)
	if err != nil {
		return nil, fmt.Errorf("witness state of %s: not cosigned by %s: %w", origin, w.self.Name(), err)
	}
	c, err := verify.ParseCheckpoint(n.Text)
	if err != nil || c.Origin != origin {
		return nil, fmt.Errorf("witness state of %s: a checkpoint of %q, %v", origin, c.Origin, err)
	}
	return &logState{size: c.Size, root: c.Root, signed: b}, nil
}

// ServeHTTP serves add-checkpoint and the monitoring endpoint.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/add-checkpoint" {
		w.addCheckpoint(rw, r)
		return
	}
	if origin, ok := monitoringPath(r.URL.Path); ok {
		w.serveCheckpoint(rw, r, origin)
		return
	}
	http.NotFound(rw, r)
}

// monitoringPath returns the origin hash of "/<64 hex digits>/checkpoint".
func monitoringPath(path string) (string, bool) {
	const suffix = "/checkpoint"
	if len(path) != 1+64+len(suffix) || path[0] != '/' || path[65:] != suffix {
		return "", false
	}
	h := path[1:65]
	if b, err := hex.DecodeString(h); err != nil || hex.EncodeToString(b) != h {
		return "", false
	}
	return h, true
}

func (w *Witness) serveCheckpoint(rw http.ResponseWriter, r *http.Request, hash string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rw.Header().Set("Allow", "GET, HEAD")
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s := w.byHash[hash]; s != nil {
		s.mu.Lock()
		signed := s.signed
		s.mu.Unlock()
		if signed != nil {
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.Write(signed)
			return
		}
	}
	http.Error(rw, "no checkpoint cosigned for this log", http.StatusNotFound)
}

// readBody reads a request body of at most MaxRequestSize bytes.
func readBody(rw http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxRequestSize))
	if err != nil {
		return nil, err
	}
	return b, nil
}
