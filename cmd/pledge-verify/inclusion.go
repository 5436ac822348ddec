package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

func runInclusion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &remoteFlags{}
	fs := newFlags("inclusion", "--url URL (--index N | --entry FILE)", stderr)
	f.register(fs)
	index := fs.Int64("index", -1, "the entry's index `N`")
	entry := fs.String("entry", "", "a `FILE` holding the entry (its canonical leaf, or the envelope as submitted)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if (*index >= 0) == (*entry != "") {
		return usageError{Err: errors.New("give one of --index N and --entry FILE")}
	}
	r, err := f.remote()
	if err != nil {
		return err
	}
	note, cp, err := r.latest(ctx)
	if err != nil {
		return err
	}
	var facts []string
	if *entry != "" {
		facts, err = r.proveEntry(ctx, cp, *entry)
	} else {
		facts, err = r.proveIndex(ctx, cp, uint64(*index), nil)
	}
	if err != nil {
		return err
	}
	facts = slices.Insert(facts, 1, cosignedFacts(r.policy, note)...)
	return printFacts(stdout, facts, f.json)
}

// proveIndex fetches entry index from the entry bundles (checking it is
// want, if not nil) and proves its inclusion from the hash tiles.
func (r *remote) proveIndex(ctx context.Context, cp verify.Checkpoint, index uint64, want []byte) ([]string, error) {
	if index >= cp.Size {
		return nil, failed(fmt.Errorf("entry %d is beyond the checkpoint's size %d", index, cp.Size))
	}
	t := verify.TileForIndex(verify.EntriesLevel, index, cp.Size)
	entries, err := r.client.Entries(ctx, t.N, t.Width)
	if err != nil {
		return nil, err
	}
	leaf := entries[index%verify.TileWidth]
	if want != nil && !bytes.Equal(leaf, want) {
		return nil, failed(fmt.Errorf("entry %d in the tiles is not the entry given", index))
	}
	proof, err := verify.ProveInclusion(ctx, r.client, index, cp.Size)
	if err != nil {
		return nil, failed(fmt.Errorf("inclusion proof of entry %d: %w", index, err))
	}
	h := verify.LeafHash(leaf)
	if err := verify.Inclusion(h, index, cp.Size, proof, cp.Root); err != nil {
		return nil, failed(fmt.Errorf("entry %d: %w", index, err))
	}
	return []string{
		fmt.Sprintf("checkpoint: %s size %d root %s signed by a pinned log key", cp.Origin, cp.Size, cp.Root),
		fmt.Sprintf("entry %d included, leaf hash %s, proven from the tiles (%d hashes)", index, h, len(proof)),
		describeLeaf(leaf),
	}, nil
}

// proveEntry finds the index of the entry in file and proves it. The
// log's JSON API, asked for the leaf hash, gives the index only as a hint:
// the entry at that index is then fetched from the tiles, compared byte
// for byte and proven against the signed root. Without a usable hint the
// entry bundles are scanned.
func (r *remote) proveEntry(ctx context.Context, cp verify.Checkpoint, file string) ([]string, error) {
	data, err := readFile(file)
	if err != nil {
		return nil, err
	}
	leaf, _, err := attest.Canonicalize(data)
	if err != nil {
		return nil, usageError{Err: fmt.Errorf("--entry %s: %w", file, err)}
	}
	h := verify.LeafHash(leaf)
	how := "index from the API's leaf-hash lookup, a hint checked against the tiles"
	index, err := r.client.IndexHint(ctx, h)
	if err != nil || index >= cp.Size {
		how = "index found by scanning the entry bundles"
		if index, err = r.scan(ctx, cp, h); err != nil {
			return nil, err
		}
	}
	facts, err := r.proveIndex(ctx, cp, index, leaf)
	return append(facts, how), err
}

// scan looks for the entry with leaf hash h in the entry bundles.
func (r *remote) scan(ctx context.Context, cp verify.Checkpoint, h verify.Hash) (uint64, error) {
	for n := uint64(0); n*verify.TileWidth < cp.Size; n++ {
		width := int(min(cp.Size-n*verify.TileWidth, verify.TileWidth))
		entries, err := r.client.Entries(ctx, n, width)
		if err != nil {
			return 0, err
		}
		for i, e := range entries {
			if verify.LeafHash(e) == h {
				return n*verify.TileWidth + uint64(i), nil
			}
		}
	}
	return 0, failed(fmt.Errorf("entry with leaf hash %s is not in the log's %d entries", h, cp.Size))
}
