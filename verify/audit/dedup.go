package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// dedupBuffer is how many (key, index) records the spill keeps in memory
// before it writes a sorted run: 40 bytes each, 2.6 MB.
const dedupBuffer = 1 << 16

const recordSize = 32 + 8

// A record is one entry's dedup key and index.
type record struct {
	key   [32]byte
	index uint64
}

// spill finds entries with equal dedup keys in bounded memory: records
// are buffered, written as sorted runs to files in dir, and the runs
// merged at the end.
type spill struct {
	dir  string
	buf  []record
	runs []string // file names in dir
}

func (s *spill) add(key [32]byte, index uint64) error {
	s.buf = append(s.buf, record{key, index})
	if len(s.buf) >= dedupBuffer {
		return s.flush()
	}
	return nil
}

// flush writes the buffered records as a sorted run.
func (s *spill) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	slices.SortFunc(s.buf, compareRecords)
	name := fmt.Sprintf("dedup-%06d.run", len(s.runs))
	b := make([]byte, 0, len(s.buf)*recordSize)
	for _, r := range s.buf {
		b = append(b, r.key[:]...)
		b = binary.BigEndian.AppendUint64(b, r.index)
	}
	if err := writeSynced(filepath.Join(s.dir, name), b); err != nil {
		return err
	}
	s.runs, s.buf = append(s.runs, name), s.buf[:0]
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func compareRecords(a, b record) int {
	if c := bytes.Compare(a.key[:], b.key[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.index, b.index)
}

// duplicates merges the runs and calls found for each entry whose dedup
// key an earlier entry has, with that first index.
func (s *spill) duplicates(found func(index, first uint64)) error {
	if err := s.flush(); err != nil {
		return err
	}
	h := &runHeap{}
	for _, name := range s.runs {
		f, err := os.Open(filepath.Join(s.dir, name))
		if err != nil {
			return err
		}
		defer f.Close()
		r := &run{r: bufio.NewReaderSize(f, 64<<10)}
		if err := r.next(); err == nil {
			h.runs = append(h.runs, r)
		} else if !errors.Is(err, io.EOF) {
			return err
		}
	}
	heap.Init(h)
	return merge(h, found)
}

func merge(h *runHeap, found func(index, first uint64)) error {
	var prev record
	have := false
	for h.Len() > 0 {
		r := h.runs[0]
		cur := r.cur
		if have && cur.key == prev.key {
			found(cur.index, prev.index)
		} else {
			prev, have = cur, true
		}
		if err := r.next(); errors.Is(err, io.EOF) {
			heap.Pop(h)
		} else if err != nil {
			return err
		} else {
			heap.Fix(h, 0)
		}
	}
	return nil
}

// run reads one sorted run file.
type run struct {
	r   *bufio.Reader
	cur record
	b   [recordSize]byte
}

func (r *run) next() error {
	if _, err := io.ReadFull(r.r, r.b[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("truncated dedup run: %w", ErrMalformedState)
		}
		return err
	}
	copy(r.cur.key[:], r.b[:32])
	r.cur.index = binary.BigEndian.Uint64(r.b[32:])
	return nil
}

type runHeap struct{ runs []*run }

func (h *runHeap) Len() int           { return len(h.runs) }
func (h *runHeap) Less(i, j int) bool { return compareRecords(h.runs[i].cur, h.runs[j].cur) < 0 }
func (h *runHeap) Swap(i, j int)      { h.runs[i], h.runs[j] = h.runs[j], h.runs[i] }
func (h *runHeap) Push(x any)         { h.runs = append(h.runs, x.(*run)) }
func (h *runHeap) Pop() any {
	r := h.runs[len(h.runs)-1]
	h.runs = h.runs[:len(h.runs)-1]
	return r
}
