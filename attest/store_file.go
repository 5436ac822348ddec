package attest

import (
	"encoding/binary"
	"errors"
	"os"
)

// NewRegistryOnDisk returns an empty registry for the log named origin
// that keeps its pledge records in a temporary file in dir instead of in
// memory, so that its memory grows with keys, cells and registry events
// but not with pledges: for an auditor replaying a whole log. It behaves
// exactly like [NewRegistry]'s, but for a few file reads where a pledge
// supersedes another or a compromise voids pledges, and for [ErrStore].
// The caller must call [Registry.Close] to remove the file.
func NewRegistryOnDisk(origin, dir string) (*Registry, error) {
	s, err := newFileStore(dir)
	if err != nil {
		return nil, err
	}
	r := NewRegistry(origin)
	r.store = s
	return r, nil
}

// Close releases the registry's pledge file, if it has one, and removes
// it. The read models still answer afterwards, but Verify, Admit, Replay
// and RestorePledge fail with ErrStore. Close may be called more than
// once.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed == nil {
		r.failed = storeErr("registry", os.ErrClosed)
	}
	return r.store.close()
}

// recSize is the size of a record in the file: big-endian index (8
// bytes), key (4) and cell (4), then status (1). Records follow each
// other in index order from offset 0, with no header: the file lives as
// long as its process and is read by no one else.
const recSize = 17

// flushSize is how many bytes of records are buffered before a write.
const flushSize = 4096 * recSize

// fileStore is the pledgeStore of NewRegistryOnDisk: appends are
// buffered, and read uses ReadAt, which may run concurrently. Undone
// records are only forgotten: the next flush overwrites them.
type fileStore struct {
	f       *os.File
	n       int    // records
	flushed int    // records [0, flushed) are in the file
	buf     []byte // records [flushed, n), not yet written
	flushAt int    // bytes buffered before a write: flushSize, less in tests
	err     error  // the first write failure, returned by every later append
	closed  bool
	unlink  bool // the file must still be removed on close
}

func newFileStore(dir string) (*fileStore, error) {
	f, err := os.CreateTemp(dir, "attest-pledges-*")
	if err != nil {
		return nil, storeErr("create", err)
	}
	// Where an open file can be removed, remove it now: a crash then
	// leaves nothing behind.
	unlink := os.Remove(f.Name()) != nil
	return &fileStore{f: f, buf: make([]byte, 0, flushSize), flushAt: flushSize, unlink: unlink}, nil
}

func (s *fileStore) len() int { return s.n }

func (s *fileStore) append(rec pledgeRec) error {
	if s.err != nil {
		return s.err
	}
	s.buf = binary.BigEndian.AppendUint64(s.buf, rec.index)
	s.buf = binary.BigEndian.AppendUint32(s.buf, rec.key)
	s.buf = binary.BigEndian.AppendUint32(s.buf, rec.cell)
	s.buf = append(s.buf, rec.status)
	s.n++
	if len(s.buf) >= s.flushAt {
		return s.flush()
	}
	return nil
}

func (s *fileStore) flush() error {
	if _, err := s.f.WriteAt(s.buf, int64(s.flushed)*recSize); err != nil {
		s.err = storeErr("write", err)
		return s.err
	}
	s.flushed, s.buf = s.n, s.buf[:0]
	return nil
}

func (s *fileStore) truncate(n int) {
	if n >= s.flushed {
		s.buf = s.buf[:(n-s.flushed)*recSize]
	} else {
		s.flushed, s.buf = n, s.buf[:0]
	}
	s.n = n
}

func (s *fileStore) read(recs []pledgeRec, i int) (int, error) {
	if s.closed {
		return 0, storeErr("read", os.ErrClosed)
	}
	n := min(len(recs), s.n-i)
	k := 0
	if i < s.flushed {
		k = min(n, s.flushed-i)
		b := make([]byte, k*recSize)
		if _, err := s.f.ReadAt(b, int64(i)*recSize); err != nil {
			return 0, storeErr("read", err)
		}
		decodeRecs(recs[:k], b)
	}
	if k < n {
		decodeRecs(recs[k:n], s.buf[(i+k-s.flushed)*recSize:])
	}
	return n, nil
}

func decodeRecs(recs []pledgeRec, b []byte) {
	for j := range recs {
		r := b[j*recSize : (j+1)*recSize]
		recs[j] = pledgeRec{index: binary.BigEndian.Uint64(r), key: binary.BigEndian.Uint32(r[8:]),
			cell: binary.BigEndian.Uint32(r[12:]), status: r[16]}
	}
}

func (s *fileStore) close() error {
	if s.closed {
		return nil
	}
	s.closed, s.err, s.buf = true, storeErr("append", os.ErrClosed), nil
	err := s.f.Close()
	if s.unlink {
		err = errors.Join(err, os.Remove(s.f.Name()))
	}
	if err != nil {
		return storeErr("close", err)
	}
	return nil
}
