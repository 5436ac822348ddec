// Package log is pledgelog's Merkle log engine: bytes in, indexes and proofs
// out. It knows nothing of what the entries mean; hooks in Config let the
// caller deduplicate, admit and index them.
//
// # Model
//
// A log is an append-only sequence of entries, each at most 65,535 bytes,
// hashed into an RFC 6962 Merkle tree and published in the formats of
// c2sp.org/tlog-tiles and c2sp.org/tlog-checkpoint, so that any tiled-log
// client can read and verify it:
//
//   - hash tiles: tile (L, N) holds the 256 hashes of level 8L of the tree
//     from index 256N on; a partial tile .p/W is the first W of them;
//   - entry bundles: bundle N holds entries 256N to 256N+255, each prefixed
//     with its length as a big-endian uint16;
//   - checkpoints: the origin, the tree size and the root, as a signed note
//     whose Ed25519 key is named after the origin. During a key rotation
//     (Config.ExtraSigners) every checkpoint carries a signature by each
//     key, so that a client pinning either verifies it.
//
// # Appending
//
// Append and AppendBatch queue entries for the sequencer, the single
// goroutine that runs Run. The sequencer takes a batch when MaxBatchSize
// entries wait or the oldest has waited MaxBatchAge, and then, in order:
//
//  1. looks every entry up by its DedupKey; a committed duplicate, or an
//     earlier equal entry of the same batch, returns that entry's index;
//  2. calls Admit for each new entry in index order, on the caller's state
//     as of that index; an AppendBatch request is admitted all or none;
//  3. extends the tree, collecting the tiles and bundles that change;
//  4. signs a checkpoint for the new size;
//  5. commits entries, tiles, dedup keys, Index rows and the checkpoint in
//     one atomic, durable Storage.Commit that compare-and-swaps the
//     checkpoint it extends.
//
// Only then are the appenders answered, each with its index and the signed
// checkpoint that covers it. An acknowledged entry therefore survives any
// crash, and a checkpoint is never seen before its tiles are durable.
//
// # Storage failures
//
// A commit that fails may or may not have been stored, so the sequencer
// reads the stored checkpoint back before it goes on. If it is the batch's,
// the batch is answered as committed. If it is the one the batch extended,
// the undos returned by Admit are called, the tree's edge is reloaded from
// storage, and the batch's appenders get ErrStorage. If storage cannot be
// read either, the batch is undone and failed with ErrStorage, and every
// append is refused with ErrStorage until storage answers again and the
// outcome is known (a batch that had landed is then admitted again); then
// appends resume by themselves. Reads are served throughout from what is
// committed. Only a checkpoint that is neither, another sequencer's, stops
// Run: open the log again to resume. An appender that got ErrStorage does
// not know whether its entry was stored; resubmitting it is safe, since a
// duplicate gets its index.
//
// Storage keeps each hash tile once, at its widest width, and serves
// narrower partial tiles by truncation; full entry bundles are written once,
// and the open one as one chunk per batch. Proofs for any tree size that
// ended a batch are read from the stored tiles and checked against that
// size's signed checkpoint before they are returned.
//
// # Publication
//
// Every batch gets a signed checkpoint, returned with its entries' results.
// The checkpoint clients should poll, Published, advances to the latest
// committed one at most once per PublishInterval. With Config.Witnessed,
// Run does not publish: a witness collector (package log/cosign) asks
// witnesses to cosign committed checkpoints and calls PublishCosigned with
// one that a quorum cosigned, which Published then returns, cosignatures
// included. Appenders never wait for witnesses. The log never signs two
// checkpoints that are inconsistent: it only ever extends the tree it
// loaded, and Open refuses storage whose tiles do not hash to the stored
// checkpoint.
//
// # Example
//
//	l, err := log.Open(ctx, log.Config{Origin: "log.example.org/a", Signer: s, Storage: st})
//	if err != nil { ... }
//	go l.Run(ctx)
//	res, err := l.Append(ctx, []byte("hello"))
//	// res.Index is the entry's index, res.State.Checkpoint a signed
//	// checkpoint whose tree includes it.
//	p, err := l.InclusionProof(ctx, res.Index, res.State.Size)
package log
