package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/verify"
)

func (s *Server) getInclusion(c echo.Context) error {
	size, explicit, err := s.treeSize(c, "size")
	if err != nil {
		return err
	}
	index, err := s.proofIndex(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if explicit {
		if index >= size {
			return problemf(kindBadParameter, "index must be below size")
		}
	}
	p, err := s.log.InclusionProof(ctx, index, size)
	if err != nil {
		return err
	}
	setProofCache(c, explicit)
	return c.JSON(http.StatusOK, api.InclusionProof{Index: index, Size: size, LeafHash: p.LeafHash,
		Hashes: nonNil(p.Hashes), Checkpoint: string(p.Checkpoint)})
}

// proofIndex returns the entry an inclusion proof is asked for: the index
// parameter, or the index of the entry whose leaf hash is hash.
func (s *Server) proofIndex(c echo.Context) (uint64, error) {
	index, byIndex, err := queryNumber(c, "index")
	if err != nil {
		return 0, err
	}
	hash, byHash := c.QueryParams()["hash"]
	switch {
	case byIndex == byHash:
		return 0, problemf(kindBadParameter, "give exactly one of index and hash")
	case byIndex:
		return index, nil
	}
	if len(hash) != 1 {
		return 0, problemf(kindBadParameter, "hash given more than once")
	}
	h, err := verify.ParseHash(hash[0])
	if err != nil {
		return 0, problemf(kindBadParameter, "hash must be a standard base64 SHA-256 leaf hash")
	}
	return s.lookupLeaf(c.Request().Context(), h)
}

// lookupLeaf returns the index of the entry with leaf hash h: from
// the attestation log's leaf-hash rows (attestlog.Log.IndexByLeafHash), else from the log's dedup index (keyed
// by leaf hash by default). Either way it checks the stored leaf hash, so
// that a wrong row answers "not found" rather than a wrong index.
func (s *Server) lookupLeaf(ctx context.Context, h verify.Hash) (uint64, error) {
	index, found, err := s.leafIndex(ctx, h)
	if err != nil {
		return 0, err
	}
	found = found && index < s.log.Latest().Size
	if found {
		leaf, err := s.log.LeafHash(ctx, index)
		if err != nil {
			return 0, err
		}
		found = leaf == h
	}
	if !found {
		return 0, problemf(kindEntryNotFound, "no committed entry has this leaf hash")
	}
	return index, nil
}

func (s *Server) leafIndex(ctx context.Context, h verify.Hash) (uint64, bool, error) {
	if s.reg == nil {
		return s.log.Lookup(ctx, h[:])
	}
	index, err := s.alog.IndexByLeafHash(ctx, h)
	if errors.Is(err, attestlog.ErrNotFound) {
		return 0, false, nil
	}
	return index, err == nil, err
}

func (s *Server) getConsistency(c echo.Context) error {
	to, explicit, err := s.treeSize(c, "to")
	if err != nil {
		return err
	}
	from, ok, err := queryNumber(c, "from")
	switch {
	case err != nil:
		return err
	case !ok:
		return problemf(kindBadParameter, "from is required")
	case from > to && explicit:
		return problemf(kindBadParameter, "from must not exceed to")
	}
	p, err := s.log.ConsistencyProof(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	setProofCache(c, explicit)
	return c.JSON(http.StatusOK, api.ConsistencyProof{From: from, To: to,
		Hashes: nonNil(p.Hashes), Checkpoint: string(p.Checkpoint)})
}

// treeSize returns the tree size parameter name, or the published size if
// it is absent; explicit reports whether it was given.
func (s *Server) treeSize(c echo.Context, name string) (size uint64, explicit bool, err error) {
	size, explicit, err = queryNumber(c, name)
	if err == nil && !explicit {
		size = s.log.Published().Size
	}
	return size, explicit, err
}

// setProofCache marks a proof to an explicit tree size immutable, and one
// to the published size, which moves, short-lived.
func setProofCache(c echo.Context, explicit bool) {
	cc := cacheCheckpoint
	if explicit {
		cc = cacheImmutable
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cc)
}

func nonNil(h []verify.Hash) []verify.Hash {
	if h == nil {
		return []verify.Hash{}
	}
	return h
}
