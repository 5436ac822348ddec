// Package pledgelog is a transparency log for signed attestations: pledges
// made by the signatories of an accord, as in-toto Statements in DSSE
// envelopes, held in an append-only RFC 6962 Merkle tree published as C2SP
// tiles and signed checkpoints.
//
// The module's packages, bottom up (each imports only those above it):
//
//	verify               pure formats and checks: signed notes, checkpoints,
//	                     cosignatures, tiles, bundles, proofs
//	attest               pure attestation formats, DSSE, the registry
//	log                  the Merkle log engine (imports verify)
//	log/storage/...      storage drivers (import log)
//	web                  the HTTP server (imports log, attest, verify)
//	cmd/...              the binaries pledgelog, pledge, pledge-verify
//	internal/durable     crash-safe file writes, for any of the above
//
// This package holds no code; its test checks the import rules above.
package pledgelog
