package web

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pledgelog/pledgelog/internal/durable"
)

// A JTIStore remembers the ids (jti) of the registrar tokens already used,
// until they expire, so that each is accepted once.
//
// It is kept in memory and, when it has a file, appended to that file and
// synced before a token is accepted, so a restart does not forget. It is
// shared by the requests of one process only: until storage shared by
// several instances holds it (PostgreSQL), run one instance per data
// directory, which serve's store lock enforces anyway.
type JTIStore struct {
	now func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // jti → expiry; guarded by mu
	file *os.File             // guarded by mu; nil: memory only
}

// maxJTI is the longest jti accepted, in bytes.
const maxJTI = 128

// NewJTIStore returns a store kept in memory only.
func NewJTIStore(now func() time.Time) *JTIStore {
	if now == nil {
		now = time.Now
	}
	return &JTIStore{now: now, used: map[string]time.Time{}}
}

// OpenJTIStore loads the store kept in the file path (created if missing),
// dropping expired ids, and keeps appending to it. Close it when done.
func OpenJTIStore(path string, now func() time.Time) (*JTIStore, error) {
	s := NewJTIStore(now)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("jti store: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		exp, jti, ok := strings.Cut(sc.Text(), " ")
		sec, err := strconv.ParseInt(exp, 10, 64)
		if ok && err == nil && s.now().Before(time.Unix(sec, 0)) {
			s.used[jti] = time.Unix(sec, 0)
		}
	}
	if err := s.rewrite(path); err != nil {
		return nil, fmt.Errorf("jti store: %w", err)
	}
	return s, nil
}

// rewrite writes the live ids to path durably and opens it for appending.
func (s *JTIStore) rewrite(path string) error {
	var buf bytes.Buffer
	for jti, exp := range s.used {
		fmt.Fprintf(&buf, "%d %s\n", exp.Unix(), jti)
	}
	if err := durable.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	s.file = f
	return err
}

// Use records jti as used until exp. It reports false if jti was already
// used; it accepts no jti longer than 128 bytes or holding white space.
func (s *JTIStore) Use(jti string, exp time.Time) (bool, error) {
	if len(jti) > maxJTI || strings.ContainsAny(jti, " \t\r\n") {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if e, ok := s.used[jti]; ok && now.Before(e) {
		return false, nil
	}
	if s.file != nil {
		if _, err := fmt.Fprintf(s.file, "%d %s\n", exp.Unix()+1, jti); err != nil {
			return false, fmt.Errorf("jti store: %w", err)
		}
		if err := s.file.Sync(); err != nil {
			return false, fmt.Errorf("jti store: %w", err)
		}
	}
	s.used[jti] = exp
	if len(s.used)%1024 == 0 {
		s.prune(now)
	}
	return true, nil
}

// prune forgets the expired ids (the file is compacted at the next open).
func (s *JTIStore) prune(now time.Time) {
	for jti, exp := range s.used {
		if !now.Before(exp) {
			delete(s.used, jti)
		}
	}
}

// Close closes the store's file.
func (s *JTIStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}
