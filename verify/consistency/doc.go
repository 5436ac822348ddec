// Package consistency keeps the last checkpoint a verifier verified of a
// log and proves each checkpoint the log serves later consistent with it,
// from the log's own tiles: the verifier's defence against a split view, a
// log showing different trees to different people. This comment is its
// specification; pledge-verify consistency is its command.
//
// # The rule
//
// A log must serve the tiles of every tree it signed (c2sp.org/tlog-tiles:
// the partial tiles of every size it made a checkpoint for, until the full
// tile is served). So any two checkpoints signed by the log's key can be
// proven consistent from the tiles of the larger tree, and a signed
// checkpoint that the log cannot prove consistent with one verified before
// is an alarm, whatever the reason the log gives. In particular a smaller
// tree is accepted only when it is provably a prefix of the saved one: a
// server started from a copy of the log's data directory and then given
// other entries, or a log restored from an old backup, serves a smaller
// tree whose proof it cannot give, and will sign a fork as soon as it
// grows.
//
// # The state machine
//
// [Check] reads the saved checkpoint (Config.Path), fetches the log's
// checkpoint (Config.Client), verifies it with the pinned keys
// (Config.Open), and compares the two. With m the saved size and n the
// served one:
//
//	nothing saved               trusted on first use and saved     FirstUse
//	n = m, same root            nothing to do                      Unchanged
//	n > m, proof m→n holds      saved                              Grew
//	n < m, proof n→m holds      the saved one kept (a cache        Behind
//	                            behind the log)
//	n = m, another root         alarm                              KindTwoRoots
//	a tile the proof needs      alarm                              KindMissingTiles
//	answers 404
//	the proof from the tiles    alarm                              KindInconsistent
//	fails, or a tile is
//	malformed
//	a fetch fails (network,     error wrapping client.ErrFetch;
//	timeout, 5xx, 429, …)       nothing proven, nothing saved
//	the served checkpoint       Open's error; nothing saved
//	does not verify
//	the saved checkpoint        error wrapping ErrState; nothing
//	cannot be read or no        fetched, nothing saved
//	longer verifies
//
// The proof is computed from the hash tiles of the larger tree, fetched
// from the URL that served the new checkpoint, and checked against both
// signed roots (verify.ProveConsistency, verify.Consistency). A partial
// tile that answers 404 is fetched again as the full tile, whose first
// hashes are the partial tile's, since a log may delete a partial tile
// once the full one exists; only if both are missing is the tile missing.
// Only a larger, proven checkpoint replaces the saved one, atomically
// (internal/durable); an alarm or an error leaves it as it was.
//
// For example, a verifier saved the log's checkpoint of size 237. Another
// server with the log's key, started from a copy of its data directory and
// given other entries, serves a checkpoint of size 235. The proof from 235
// to 237 needs hashes of the tree of 237, in tile/0/000.p/237; that server
// answers 404 for it and for tile/0/000, so Check returns a
// *SplitViewError of KindMissingTiles, writes the evidence, and keeps 237.
//
// # Evidence
//
// An alarm is a [*SplitViewError], which wraps [ErrSplitView] (but not
// the fetch error behind a missing tile: it is not a network failure). It
// holds the [Evidence], also written beside the saved checkpoint as
// <Path>.evidence-<UTC time>.json:
//
//	{"time": "2026-12-02T07:00:00.123456789Z",
//	 "url": "https://log.example.org/",
//	 "previous": "<the saved signed checkpoint>",
//	 "latest": "<the signed checkpoint url served>",
//	 "kind": "missing-tiles",
//	 "proof": ["<base64 hash>", …],
//	 "error": "reading tile/0/000.p/237: not served, nor is tile/0/000"}
//
// Two checkpoints of one size with two roots are proof, to anyone with the
// log's key, that the log signed a fork. A failed proof or a missing tile
// is the log's failure to show that its two signed trees are one history;
// others can check it by fetching the same tiles from url.
package consistency
