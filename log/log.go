package log

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Config configures a Log. Origin, Signer and Storage are required; every
// other field has a safe default.
type Config struct {
	// Origin is the log's identity: the first line of its checkpoints and
	// the name of its key, e.g. "log.example.org/tech-accord".
	Origin string
	// Signer signs checkpoints. It must hold an Ed25519 key.
	Signer signature.Signer
	// ExtraSigners also sign every checkpoint, after Signer: the new key
	// during a key rotation's overlap (docs/operations.md). Each must hold
	// an Ed25519 key other than Signer's. Open accepts a stored checkpoint
	// that any of Signer and ExtraSigners signed.
	ExtraSigners []signature.Signer
	// Storage holds the log. Create requires it empty; Open requires a log.
	Storage Storage

	// DedupKey maps an entry to the key under which duplicates are found,
	// for entries appended without an Entry.Key. Two entries with the same
	// key are the same entry: the second append returns the first one's
	// index. Default: the RFC 6962 leaf hash.
	DedupKey func(entry []byte) []byte
	// Admit is called by the sequencer, in index order, for each new entry
	// before it is given index. It may reject the entry with an error,
	// which the appender receives wrapped in an *EntryError. On success it
	// returns an undo func (possibly nil), which the log calls, in reverse
	// order of admission, if the entry does not end up committed. Admit
	// runs on state the caller owns and rebuilds before calling Run.
	// Default: admit all.
	Admit func(ctx context.Context, index uint64, e Entry) (undo func(), err error)
	// Index returns the derived rows of an admitted entry, which are
	// committed atomically with it. Default: none.
	Index func(index uint64, e Entry) []Row
	// Follow is called, on an instance of a log whose Storage several
	// share (Shared), for each entry that another instance committed, in
	// index order, before the Log's latest state includes it: the caller's
	// state (what Admit maintains) follows the log. Its error stops Run
	// (ErrCorrupt). Default: none.
	Follow func(ctx context.Context, index uint64, e Entry) error

	// Extensions returns the extension lines of the checkpoint the log
	// is about to sign at size, called by the sequencer once the entries
	// below size are admitted (or followed) and before anything else is
	// admitted: the caller commits there to the state its hooks built
	// from exactly those entries. An error fails the batch like a storage
	// failure does, undoing its entries. Lines must be non-empty and free
	// of newlines. Default: none.
	Extensions func(ctx context.Context, size uint64) ([]string, error)

	// MaxBatchSize caps the entries sequenced in one batch. Default 4096.
	MaxBatchSize int
	// MaxBatchAge is how long the sequencer waits for a batch to fill once
	// its first entry arrived. Default 2ms.
	MaxBatchAge time.Duration
	// MaxPending caps the entries waiting to be sequenced; beyond it,
	// appends fail fast with ErrPushback. Default 65536.
	MaxPending int
	// PublishInterval is the least time between two publications of the
	// checkpoint returned by Published. Default 1s.
	PublishInterval time.Duration
	// Witnessed leaves publication to the caller: Run never publishes, and
	// Published stays the checkpoint found at Open or Create until the
	// caller publishes a checkpoint cosigned by enough witnesses with
	// PublishCosigned. Appenders are answered at once either way, with the
	// log-signed checkpoint of their batch.
	Witnessed bool
	// MinFreeBytes is the free space below which the log refuses appends
	// with ErrDiskFull, if Storage reports its free space (a FreeBytes()
	// (uint64, error) method, as the Pebble driver has): an embedded
	// store must never find its disk full mid-commit. Default 256 MiB.
	MinFreeBytes uint64

	// Logger receives operational logs. Nil discards them.
	Logger *slog.Logger
	// Registerer, if not nil, registers the log's Prometheus metrics.
	Registerer prometheus.Registerer
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Log is a Merkle log: bytes in, indexes and proofs out. Appends are
// sequenced by the goroutine running Run; everything else is safe for
// concurrent use.
type Log struct {
	cfg     Config
	signers []verify.Signer   // Signer, then ExtraSigners
	vkeys   []verify.Verifier // their verifiers, in the same order
	metrics *metrics

	// tree and recent are owned by the sequencer goroutine (Run).
	tree   *tree
	recent *recent
	// recentTiles holds the hash tiles committed last, for proofs.
	recentTiles recentTiles
	// proofs holds the proofs computed last (proofCache).
	proofs proofCache

	// mu guards pool, which the sequencer swaps for an empty one when it
	// takes a batch, and refusing, the error appends fail with while the
	// sequencer waits for storage (nil when it accepts them).
	mu       sync.Mutex
	pool     *pool
	refusing error
	// wake is signalled when the pool goes from empty to not empty, or
	// fills up.
	wake chan struct{}

	// latest is the most recently committed state; published the one
	// most recently published. Both are set only by the sequencer.
	latest      atomic.Pointer[State]
	published   atomic.Pointer[State]
	publishedAt atomic.Pointer[time.Time]
	// cosignedMu serialises PublishCosigned; cosigned is the size it last
	// published (-1: none yet).
	cosignedMu sync.Mutex
	cosigned   int64

	// sequencing is held by the sequencer while it sequences a batch and
	// by RewriteRows for the whole of a rewrite.
	sequencing sync.Mutex

	// shared is set when Storage is Shared: Run and appends then go
	// through it (shared.go).
	shared *sharedState

	running     atomic.Bool
	freeUnknown atomic.Bool   // the storage could not tell its free space
	diskFull    atomic.Bool   // the last free-space check refused appends
	stopped     chan struct{} // closed when Run returns
}

// Entry is an entry to append, with what its caller already knows of it.
type Entry struct {
	// Data is the entry's bytes: at most 65,535 of them.
	Data []byte
	// Key is its dedup key; nil means Config.DedupKey(Data).
	Key []byte
	// Value is the caller's own form of Data (a parsed attestation, say),
	// handed as it is to the Admit and Index hooks. The log never looks at
	// it; it is not stored.
	Value any
	// LeafHash is the RFC 6962 leaf hash of Data. The log computes it,
	// once, whatever the caller set; the hooks see it.
	LeafHash verify.Hash
}

// EntryError is the error of an append whose Admit hook rejected one of
// its entries: Entry is that entry's position among those appended.
type EntryError struct {
	Entry int
	Err   error
}

func (e *EntryError) Error() string { return fmt.Sprintf("entry %d: %v", e.Entry, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

// State is a committed tree state: a tree size, its root, and the signed
// checkpoint for them.
type State struct {
	Size       uint64
	Root       verify.Hash
	Checkpoint []byte
}

var (
	// ErrEntryTooLarge is returned for an entry over 65,535 bytes, the most
	// a C2SP entry bundle can hold. The caller should reject the entry
	// (HTTP 413).
	ErrEntryTooLarge = errors.New("log: entry larger than 65535 bytes")
	// ErrPushback is returned when too many entries wait to be sequenced.
	// The caller should retry later (HTTP 503 with Retry-After).
	ErrPushback = errors.New("log: too many entries pending, retry later")
	// ErrStopped is returned for appends after the sequencer stopped, or
	// whose batch it stopped on (another sequencer committed). The outcome of an entry that got it is
	// unknown: resubmitting it is safe, since duplicates get their index.
	ErrStopped = errors.New("log: sequencer stopped")
	// ErrStorage is returned when storage failed a read or a write: a
	// failed read (which may succeed when retried), a failed commit, or
	// any append while the sequencer waits for storage to answer again
	// after a failed commit. The log resumes by itself; the outcome of an
	// entry that got ErrStorage is unknown, and resubmitting it is safe.
	// The caller should answer 503 with Retry-After.
	ErrStorage = errors.New("log: storage failed, retry later")
	// ErrDiskFull is returned for appends while the storage's free space
	// is below Config.MinFreeBytes. The log stays readable; the caller
	// should answer 503 with Retry-After until an operator frees space.
	ErrDiskFull = errors.New("log: storage is nearly full, appends refused")
	// ErrExists is returned by Create for storage that already holds a log.
	ErrExists = errors.New("log: a log already exists in this storage")
	// ErrNoLog is returned by Open for storage that holds no log.
	ErrNoLog = errors.New("log: no log in this storage (create it first)")
	// ErrWrongKey is returned by Open when the stored checkpoint is not
	// signed by the configured key, or names another origin.
	ErrWrongKey = errors.New("log: stored checkpoint does not verify with this origin and key")
	// ErrCorrupt is returned when stored data contradicts itself, e.g.
	// tiles that do not hash to the signed root. Never ignore it.
	ErrCorrupt = errors.New("log: storage is corrupt")
)

func (cfg *Config) setDefaults() {
	if cfg.MaxBatchSize <= 0 {
		cfg.MaxBatchSize = 4096
	}
	if cfg.MaxBatchAge <= 0 {
		cfg.MaxBatchAge = 2 * time.Millisecond
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 65536
	}
	if cfg.PublishInterval <= 0 {
		cfg.PublishInterval = time.Second
	}
	if cfg.MinFreeBytes == 0 {
		cfg.MinFreeBytes = 256 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

func newLog(cfg Config) (*Log, error) {
	if cfg.Storage == nil || cfg.Signer == nil || cfg.Origin == "" {
		return nil, errors.New("log: Origin, Signer and Storage are required")
	}
	cfg.setDefaults()
	l := &Log{
		cfg: cfg, metrics: newMetrics(cfg.Registerer), cosigned: -1,
		pool: newPool(), wake: make(chan struct{}, 1), stopped: make(chan struct{}),
	}
	if sh, ok := cfg.Storage.(Shared); ok {
		l.shared = newShared(sh)
	}
	seen := map[string]bool{}
	for _, s := range append([]signature.Signer{cfg.Signer}, cfg.ExtraSigners...) {
		signer, err := newNoteSigner(cfg.Origin, s)
		if err != nil {
			return nil, err
		}
		vkey := signer.VerifierKey()
		if seen[vkey] {
			return nil, fmt.Errorf("log: key %s given twice", vkey)
		}
		seen[vkey] = true
		v, err := verify.NewVerifier(vkey)
		if err != nil {
			return nil, fmt.Errorf("log: %w", err)
		}
		l.signers, l.vkeys = append(l.signers, signer), append(l.vkeys, v)
	}
	return l, nil
}

// Create creates a new, empty log in cfg.Storage, committing its first
// checkpoint (size 0). It fails with ErrExists if the storage holds a log.
func Create(ctx context.Context, cfg Config) (*Log, error) {
	l, err := newLog(cfg)
	if err != nil {
		return nil, err
	}
	switch _, err := cfg.Storage.Checkpoint(ctx); {
	case err == nil:
		return nil, ErrExists
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("log: reading checkpoint: %w", err)
	}
	l.tree = &tree{rng: rangeFactory.NewEmptyRange(0)}
	l.recent = newRecent(0)
	signed, err := l.sign(ctx, 0, verify.EmptyRoot)
	if err != nil {
		return nil, err
	}
	if err := cfg.Storage.Commit(ctx, &Update{Checkpoint: signed}); err != nil {
		return nil, fmt.Errorf("log: creating: %w", err)
	}
	l.setLatest(&State{Size: 0, Root: verify.EmptyRoot, Checkpoint: signed})
	l.publish()
	return l, nil
}

// Open opens the log in cfg.Storage. It never creates one: it fails with
// ErrNoLog for empty storage, ErrWrongKey if the stored checkpoint does not
// verify with cfg's origin and key, and ErrCorrupt if the stored tiles do
// not hash to its root.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	l, err := newLog(cfg)
	if err != nil {
		return nil, err
	}
	signed, err := cfg.Storage.Checkpoint(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoLog
	} else if err != nil {
		return nil, fmt.Errorf("log: reading checkpoint: %w", err)
	}
	c, _, err := verify.OpenCheckpoint(signed, cfg.Origin, l.vkeys, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongKey, err)
	}
	if l.tree, err = loadTree(ctx, cfg.Storage, c.Size, c.Root); err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l.recent = newRecent(c.Size)
	l.setLatest(&State{Size: c.Size, Root: c.Root, Checkpoint: signed})
	l.publish()
	return l, nil
}

// sign returns a signed checkpoint for the given size and root, with the
// extension lines of Config.Extensions.
func (l *Log) sign(ctx context.Context, size uint64, root verify.Hash) ([]byte, error) {
	c := verify.Checkpoint{Origin: l.cfg.Origin, Size: size, Root: root}
	if l.cfg.Extensions != nil {
		ext, err := l.cfg.Extensions(ctx, size)
		if err != nil {
			return nil, fmt.Errorf("log: checkpoint extensions at size %d: %w", size, err)
		}
		for _, e := range ext {
			if e == "" || strings.ContainsAny(e, "\n") {
				return nil, fmt.Errorf("log: checkpoint extension line %q at size %d is empty or holds a newline", e, size)
			}
		}
		c.Extensions = ext
	}
	signed, err := verify.Sign(c.Text(), l.signers...)
	if err != nil {
		return nil, fmt.Errorf("log: signing checkpoint: %w", err)
	}
	return signed, nil
}

func (l *Log) setLatest(s *State) {
	l.latest.Store(s)
	l.metrics.treeSize.Set(float64(s.Size))
}

// Origin returns the log's origin.
func (l *Log) Origin() string { return l.cfg.Origin }

// VerifierKey returns the log's public key, Config.Signer's, as a C2SP
// note verifier key.
func (l *Log) VerifierKey() string { return l.signers[0].(*noteSigner).VerifierKey() }

// VerifierKeys returns the verifier keys of every key that signs the log's
// checkpoints: Config.Signer's, then those of Config.ExtraSigners.
func (l *Log) VerifierKeys() []string {
	keys := make([]string, len(l.signers))
	for i, s := range l.signers {
		keys[i] = s.(*noteSigner).VerifierKey()
	}
	return keys
}

// Latest returns the most recently committed state. Its checkpoint may not
// be published yet; every entry below its size is durable.
func (l *Log) Latest() *State { return l.latest.Load() }

// Published returns the state most recently published: the checkpoint a
// client should be served.
func (l *Log) Published() *State { return l.published.Load() }

// PublishedAt returns when the published state was published (by this
// process: at Open or Create for the state it found).
func (l *Log) PublishedAt() time.Time { return *l.publishedAt.Load() }

// Done returns a channel closed when Run has returned: the log no longer
// sequences appends.
func (l *Log) Done() <-chan struct{} { return l.stopped }

// Pending returns the number of entries waiting to be sequenced and how
// long the oldest has waited.
func (l *Log) Pending() (n int, oldest time.Duration) { return l.poolState() }
