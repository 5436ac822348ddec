// Package audit replays a whole pledgelog log from its c2sp.org/tlog-tiles,
// trusting nothing the server says but what a pinned key signed (Run).
//
// An audit first ties the tree to the signed checkpoint: it reads the
// level 1 hash tiles and the last partial level 0 tile and checks that they
// make the checkpoint's root. Every entry bundle fetched later must hash to
// its anchor there before a single entry of it is parsed, so a mirror can
// make the auditor hash what it serves, never parse it.
//
// It then fetches every entry bundle and hash tile in parallel and, in
// index order:
//
//   - rebuilds the Merkle tree from the entries and compares its root with
//     the signed checkpoint (ErrRoot), and every hash tile with the hashes
//     rebuilt (ErrTile);
//   - replays the registry as the log would have: a fresh attest.Registry
//     fed every entry in index order, so an entry the registry would
//     reject (malformed, unknown or revoked key, foreign key, chain head,
//     missing reference) is a Finding;
//   - verifies every envelope's signatures, on every CPU, with the key
//     each key id names (Ed25519 through curve25519-voi with
//     crypto/ed25519's rules, unless Config.StdlibEd25519);
//   - finds entries logged twice (the same dedup key, which the log should
//     have answered with the first index), with sorted runs spilled to disk
//     and merged, so memory stays bounded however large the log.
//
// Progress is saved every so often in a State in the state directory; an
// interrupted audit resumes from it, replaying the entries below the saved
// index without signature work and checking that they rebuild the saved
// compact range (ErrResume). A finished audit returns a Report; its Record
// is what pledge-verify bundle --audit-state reads to prove non-revocation.
package audit
