package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/pledgelog/pledgelog/log"
)

// tileWidth and bundleSize are the C2SP tlog-tiles constants the stream
// mimics: a tile holds 256 hashes, a bundle 256 entries.
const (
	tileWidth  = 256
	bundleSize = 256
	hashSize   = 32
)

// A Stream is a deterministic sequence of Updates shaped like a log
// sequencer's: batch i appends entries, widens the hash tiles it touches,
// writes a chunk of the open entry bundle or a full bundle replacing its
// chunks, maps a dedup key to each entry, and upserts and deletes rows.
//
// Update(i) is a pure function of i, so a test can commit a stream, crash,
// reopen, learn from Batches how many batches survived, and let Check verify
// that the Storage holds exactly that state and nothing of the next batch.
//
// Entries, hashes and checkpoints are synthetic: a Storage sees opaque
// bytes. The zero Stream is ready to use; a Stream is safe for concurrent
// use.
type Stream struct {
	// MaxBatch is the largest number of entries in one batch (default 40).
	// Batch sizes vary between 1 and MaxBatch, unless Fixed is set.
	MaxBatch int
	Fixed    bool
	// EntrySize is the length of every entry (default 24, at least 8).
	EntrySize int

	mu    sync.Mutex
	sizes []uint64 // sizes[n] is the tree size after n batches
}

// Size returns the tree size after the first n batches.
func (s *Stream) Size(n int) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sizes == nil {
		s.sizes = []uint64{0}
	}
	for len(s.sizes) <= n {
		i := len(s.sizes) - 1
		s.sizes = append(s.sizes, s.sizes[i]+s.batchLen(i))
	}
	return s.sizes[n]
}

func (s *Stream) batchLen(i int) uint64 {
	m := uint64(s.MaxBatch)
	if m == 0 {
		m = 40
	}
	if s.Fixed {
		return m
	}
	return 1 + rand.New(rand.NewPCG(uint64(i), 1)).Uint64N(m)
}

// Checkpoint returns the checkpoint committed by batch n-1, the state after
// n batches, or nil for n == 0.
func (s *Stream) Checkpoint(n int) []byte {
	if n == 0 {
		return nil
	}
	return fmt.Appendf(nil, "storagetest\n%d\n%d\n", n, s.Size(n))
}

// Update returns batch i, which extends the state after i batches.
func (s *Stream) Update(i int) *log.Update {
	from, to := s.Size(i), s.Size(i+1)
	u := &log.Update{
		Prev:       s.Checkpoint(i),
		Checkpoint: s.Checkpoint(i + 1),
		Size:       to,
		Tiles:      s.tileWrites(from, to),
		Bundles:    s.bundleWrites(from, to),
		Dedup:      s.dedupWrites(from, to),
		Rows:       rowWrites(i, from, to),
	}
	r := rand.New(rand.NewPCG(uint64(i), 2))
	r.Shuffle(len(u.Tiles), func(a, b int) { u.Tiles[a], u.Tiles[b] = u.Tiles[b], u.Tiles[a] })
	r.Shuffle(len(u.Bundles), func(a, b int) { u.Bundles[a], u.Bundles[b] = u.Bundles[b], u.Bundles[a] })
	r.Shuffle(len(u.Dedup), func(a, b int) { u.Dedup[a], u.Dedup[b] = u.Dedup[b], u.Dedup[a] })
	return u
}

// Batches returns how many batches of the stream s holds, judging by its
// latest checkpoint.
func (s *Stream) Batches(ctx context.Context, st log.Storage) (int, error) {
	cp, err := st.Checkpoint(ctx)
	if errors.Is(err, log.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int
	var size uint64
	if _, err := fmt.Sscanf(string(cp), "storagetest\n%d\n%d\n", &n, &size); err != nil {
		return 0, fmt.Errorf("Checkpoint() = %q, not from the stream", cp)
	}
	if want := s.Checkpoint(n); !bytes.Equal(cp, want) {
		return 0, fmt.Errorf("Checkpoint() = %q, want %q", cp, want)
	}
	return n, nil
}

// entry returns entry j: its index, then bytes drawn from a generator seeded
// by it, so that entries do not compress more than real ones.
func (s *Stream) entry(j uint64) []byte {
	n := s.EntrySize
	if n == 0 {
		n = 24
	}
	e := make([]byte, max(n, 8))
	binary.BigEndian.PutUint64(e, j)
	var seed [32]byte
	binary.BigEndian.PutUint64(seed[:], j)
	rand.NewChaCha8(seed).Read(e[8:])
	return e
}

// hash returns the synthetic hash of node k at tile level level.
func hash(level int, k uint64) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], uint64(level))
	binary.BigEndian.PutUint64(b[8:], k)
	h := sha256.Sum256(b[:])
	return h[:]
}

// dedupKey returns the dedup key of entry j. Keys vary in length and start
// or end with 0x00 and 0xff, which drivers must store as any other byte.
func dedupKey(j uint64) []byte {
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], j)
	switch j % 3 {
	case 0:
		h := sha256.Sum256(append([]byte("dedup"), be[:]...))
		return h[:]
	case 1:
		return append([]byte{0x00}, be[:]...)
	default:
		return append(append([]byte{0xff, 0xff}, be[:]...), 0x00)
	}
}

func be64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, v)
}

func be64Value(b []byte) uint64 {
	return binary.BigEndian.Uint64(b)
}
