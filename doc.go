// Package pledgelog is a transparency log for signed attestations: pledges
// made by the signatories of an accord, as in-toto Statements in DSSE
// envelopes, held in an append-only RFC 6962 Merkle tree published as C2SP
// tiles and signed checkpoints.
//
// docs/architecture.md is the design of record: the packages, who may
// import whom and why, the write and read paths, the storage contract and
// where each format is specified. This package holds no code; its test
// reads the import rules from that document and checks every package of
// the module against them.
package pledgelog
