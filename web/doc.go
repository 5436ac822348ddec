// Package web is pledgelog's HTTP server: the c2sp.org/tlog-tiles read API,
// a JSON API over the same log, health checks, metrics and an admin
// endpoint. This comment is the specification of the HTTP API.
//
// # Tiled-log API (c2sp.org/tlog-tiles)
//
//	GET /checkpoint                     the published signed checkpoint
//	GET /tile/<L>/<N>[.p/<W>]           hash tile
//	GET /tile/entries/<N>[.p/<W>]       entry bundle
//
// /checkpoint is text/plain; charset=utf-8, with Cache-Control
// "public, max-age=1": it moves at most once per publish interval. It is
// the checkpoint of log.Log.Published, so a client never sees a checkpoint
// before its tiles are durable.
//
// Tiles and bundles are application/octet-stream, with Cache-Control
// "public, max-age=31536000, immutable": the bytes at a tile path never
// change. They are served up to the latest committed tree size, which may
// be ahead of the published checkpoint: committed tiles are durable, and a
// client only asks for the tiles its verified checkpoint implies. A tile
// that does not exist yet (beyond the committed tree, or a partial tile
// wider than the tree has) is a 404 beyond-tree problem with Cache-Control
// no-store, so that a cache never remembers its absence. A path that is not
// a canonical tile path (leading zeros, ".p/256", a level above 63, a
// percent-encoded digit, a trailing slash) is a 400 bad-tile-path problem.
// Entry bundles are gzip-compressed when the request accepts gzip.
//
// # JSON API
//
//	GET /api/v1/log
//	GET /api/v1/entries/{index}
//	GET /api/v1/proof/inclusion?index=I[&size=S]
//	GET /api/v1/proof/inclusion?hash=H[&size=S]
//	GET /api/v1/proof/consistency?from=F[&to=T]
//	GET /api/v1/policy
//
// Indexes and sizes are decimal integers from 0 to 2^63-1; hashes and
// entries are standard base64. Responses are application/json.
//
// /api/v1/log describes the published state:
//
//	{"origin": "log.example.org/a", "vkey": "log.example.org/a+1a2b3c4d+AX…",
//	 "size": 600, "root": "pL0…=", "checkpoint": "log.example.org/a\n600\n…"}
//
// /api/v1/entries/{index} returns an entry of the committed tree as it was
// hashed, {"index": 7, "entry": "ZW50…", "leaf_hash": "…"}; it is
// immutable and cached as such. An index at or beyond the tree size is a 404
// beyond-tree problem.
//
// /api/v1/proof/inclusion proves that an entry, named by its index or by
// its RFC 6962 leaf hash (SHA-256(0x00 || entry)), is in the tree of size
// S, and returns {"index", "size", "leaf_hash", "hashes", "checkpoint"}:
// the RFC 6962 audit path and the signed checkpoint of size S, which the
// client verifies with the log's key. The server checks each proof against
// that checkpoint before answering.
// /api/v1/proof/consistency proves that the tree of size F is a prefix of
// the tree of size T and returns {"from", "to", "hashes", "checkpoint"}.
// S and T default to the published size; an explicit S or T must be a size
// the log committed a checkpoint for (every batch ends at one), else the
// answer is a 404 unknown-tree-size problem. A proof for an explicit size
// is immutable; one for the default size is cached for a second.
// Contradictory parameters (index ≥ size given explicitly, from > to) are
// 400 bad-parameter; a proof beyond the tree is 404 beyond-tree; an unknown
// leaf hash is 404 entry-not-found.
//
// /api/v1/policy is the log's witness policy (c2sp.org/tlog-policy,
// text/plain) when it has one, else a 404 not-found problem. With
// witnesses, /checkpoint and the default sizes above are those of the
// latest checkpoint a quorum of them cosigned, cosignatures included
// (package log/cosign); /api/v1/log's "vkeys" lists every key that signs
// checkpoints (two during a key rotation).
//
// # Attestations
//
// With Config.Registry set (pledgelog serve always sets it), the log holds
// attestations (package attest, docs/formats.md) and the server also has:
//
//	POST /api/v1/entries                one DSSE envelope
//	POST /api/v1/entries/batch          {"entries": [envelope, …]}, 1 to 256
//	GET  /api/v1/accords                every accord
//	GET  /api/v1/signatories[?cursor=&limit=]
//	GET  /api/v1/signatories/{id}       keys with history, recover events, latest pledges
//	GET  /api/v1/entries/{index}/bundle the entry's bundle on the published checkpoint
//	GET  /api/v1/entries/{index}/envelope the entry's DSSE envelope JSON, byte for byte
//	GET  /api/v1/search?signatory=&accord=&principle=&status=&subject=&cursor=&limit=
//	GET  /api/v1/openapi.json           this API as OpenAPI 3.1 (always served)
//
// A write request goes through, in order: a per-IP rate limit (429 with
// Retry-After); Content-Type application/json (else 415); the body read
// with a size limit (413: 131,070 bytes for one envelope, Config.MaxBatchBytes
// for a batch); the session token (401); a per-principal rate limit (429);
// for each envelope, attest's strict canonical parse (400 with the field's
// JSON pointer — prefixed /entries/<k> in a batch — and a code, as the
// extension members "pointer" and "code" of the problem) and, unless the
// statement is already logged, its signatures and registry rules checked
// on every CPU, and its authorising principal compared with the token's
// issuer (403 issuer-mismatch); then one log.Log.AppendBatch, admitted all
// or none, whose sequencer re-checks each entry against the registry as of
// its index (a revocation earlier in the same batch wins: 403).
//
// The session token is a JWT (RFC 7519) in "Authorization: Bearer". Its
// header kid is a registered key id and its alg the one algorithm of that
// key (EdDSA for Ed25519, ES256 for P-256; never none or HMAC); jwk, jku
// and x5u headers are ignored; a crit header is refused (no extension is
// understood, RFC 7515 §4.1.11). Claims: iss the signatory id (or
// "registrar"), aud the log's origin, iat and exp required with exp − iat
// ≤ 5 minutes, 30 s of leeway. Header and claims have distinct member
// names, claim names spelt exactly (no "ISS" for iss) and exp, iat and
// nbf JSON numbers (not strings). An unknown iss or kid, or a revoked key,
// fails before any signature is verified. A verified token is cached by
// its SHA-256 until exp, and dropped when its key is revoked. Registrar
// tokens must also carry a jti, used once (Config.JTI), and body_sha256,
// the hex SHA-256 of the exact request body.
//
// Answers: 201 with the proof bundle of verify/bundle (media type
// application/vnd.pledgelog.bundle.v1+json) of a new entry; 200 with the
// bundle of the first index for a duplicate (the same statement, however
// signed or encoded: an exact replay of a registry event is one, and
// leaves the log unchanged). A batch answers one checkpoint, an item
// {index, leaf, proof, duplicate, evidence} per envelope (duplicates in a
// batch share an index) and the evidence entries once: each item, the
// checkpoint and its evidence form a bundle. Every bundle carries the
// registry events that introduced its signing keys, back to the genesis,
// proven in the same checkpoint, and the server checks it against its own
// log key before sending it with bundle.Checker.Check, which accepts only
// what bundle.Verify accepts: it skips only what it proved before for the
// same bytes and, for an entry the request itself verified and appended,
// parsing it and verifying its signatures again.
//
// A request body that is a JSON object of the server's own (the batch,
// /admin/backup's) must have distinct members named exactly as documented:
// a duplicate or case-variant member, which encoding/json alone would take
// as the last one or as any case, is 400 bad-request, so that a body never
// means two things.
//
// Problem types of the write API: malformed-entry (400), unauthorized
// (401), unknown-key, revoked-key, foreign-key, bad-signature,
// issuer-mismatch (403), chain-head, exists (409), body-too-large,
// entry-too-large (413), unsupported-media-type (415), unknown-reference
// (422), rate-limited (429), pushback, stopped, disk-full and
// storage-unavailable (503). storage-unavailable means the storage failed
// the write and the log is recovering by itself: the entry may or may not
// be stored, and resubmitting it after Retry-After is safe.
//
// GET /api/v1/entries/{index}/bundle answers the proof bundle of a
// logged entry on the published checkpoint — with witnesses, the latest
// one a quorum cosigned, so that the bundle carries its cosignatures
// (pledge-verify bundle --refresh, pledge submit --wait-witnessed). An
// entry beyond the published tree is a 404 beyond-tree problem: retry
// after the next publication.
//
// The reads come from the derived rows, committed with their entries, so
// they never show what the log has not committed. Pages take limit (1 to
// 500, default 50) and cursor, the opaque "next" of the previous page; a
// search page may hold fewer results than limit and still have a next.
// A search hit is the entry's index and kind (pledge, or registry for any
// other entry) and, for a pledge, what the log derived of it: signatory,
// accord, principle, status, the signing key id, and void once voided.
// principle needs accord; status is committed, reaffirmed, progress,
// withdrawn or void; subject is a lowercase hex SHA-256. Unknown, repeated
// or malformed parameters are 400 bad-parameter. Lookups by leaf hash use
// the attestation log's leaf-hash rows (attestlog.Log.IndexByLeafHash).
//
// # Web UI
//
// With Config.Registry set, GET and HEAD of /, /signatories, /checkpoints,
// /search, /verify, /accords/…, /signatories/…, /entries/… and /static/…
// are HTML pages and their assets (ui.go, docs/ui.md), served before
// routing and not in the OpenAPI document; their errors are HTML pages
// with the detail the API would give.
//
// # Operations
//
//	GET  /healthz        200 while the process serves HTTP
//	GET  /readyz         200 when the server should get traffic, else 503
//	GET  /metrics        Prometheus metrics (when Config.Gatherer is set)
//	POST /admin/backup   takes a backup (when Config.AdminToken is set)
//
// /readyz fails (503 not-ready, with the reason in detail) when committed
// entries have waited for publication longer than Config.MaxStaleness —
// the published checkpoint lags the committed tree and has not moved since
// the server first saw it lag —, while the sequencer refuses appends
// (log.Log.Refusing: the storage is nearly full, or the sequencer waits
// for failed storage to answer), or when Config.Ready returns an error. An
// idle log, whose published checkpoint is its latest, is ready however old
// that checkpoint is. A stopped sequencer ends the serve command, so it is
// not reported here.
//
// /metrics serves pledgelog_http_requests_total{route,method,code} and
// pledgelog_http_request_duration_seconds{route}, labelled by route
// template ("/api/v1/entries/:index"; "unmatched" for unknown paths), and
// whatever else is registered with Config.Gatherer, such as the sequencer
// metrics of log.Config.Registerer.
//
// POST /admin/backup, with "Authorization: Bearer <admin token>" and the
// body {"dest": "/absolute/path"}, makes the server write a backup of its
// storage to dest, a directory on its host that must not exist (409
// conflict otherwise); dest must be clean and hold no control character
// (400 otherwise). It answers {"dest", "size"}, size being the
// committed tree size when the backup started: the backup holds at least
// that many entries.
//
// # Errors
//
// Every error is an RFC 9457 problem, application/problem+json, never
// cached:
//
//	{"type": "https://pledgelog.dev/problems/bad-tile-path",
//	 "title": "Malformed tile path", "status": 400,
//	 "detail": "not a c2sp.org/tlog-tiles tile path"}
//
// Every route that takes GET takes HEAD too (RFC 9110 §9.3.2): the same
// status and headers, no body.
//
// The type is stable; clients branch on it. The types are bad-tile-path,
// bad-parameter, bad-request (400), unauthorized (401), not-found,
// beyond-tree, unknown-tree-size, entry-not-found, signatory-not-found
// (404), method-not-allowed (405), conflict (409), body-too-large,
// entry-too-large (413), internal (500, whose detail never holds internal
// messages), pushback, stopped, disk-full, storage-unavailable and
// not-ready (503, with Retry-After), and
// those of the write API above.
//
// # Limits
//
// Run serves with read-header, read, write and idle timeouts, a cap on
// request headers (431 beyond it) and on request bodies (413), and shuts
// down gracefully when its context is done. See Config for the defaults.
package web
