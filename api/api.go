// Package api holds the wire types of pledgelog's HTTP API: the JSON
// bodies that the server (package web) answers and its clients
// (package client, the operator's commands) read, so that the two are
// one declaration. It imports no HTTP framework; web/openapi.json
// describes the same bodies.
package api

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pledgelog/pledgelog/verify"
)

// ProblemBase prefixes every problem type: a problem's type is
// ProblemBase + its slug, e.g. "https://pledgelog.dev/problems/bad-tile-path".
const ProblemBase = "https://pledgelog.dev/problems/"

// MaxBatch is the most envelopes of one POST /api/v1/entries/batch.
const MaxBatch = 256

// LogInfo is the body of GET /api/v1/log: the published state.
type LogInfo struct {
	Origin      string `json:"origin"`
	VerifierKey string `json:"vkey"`
	// VerifierKeys are all the keys that sign checkpoints: more than one
	// during a key rotation.
	VerifierKeys []string    `json:"vkeys"`
	Size         uint64      `json:"size"`
	Root         verify.Hash `json:"root"`
	Checkpoint   string      `json:"checkpoint"`
}

// Entry is the body of GET /api/v1/entries/{index}.
type Entry struct {
	Index    uint64      `json:"index"`
	Entry    []byte      `json:"entry"` // standard base64 in JSON
	LeafHash verify.Hash `json:"leaf_hash"`
}

// InclusionProof is the body of GET /api/v1/proof/inclusion.
type InclusionProof struct {
	Index      uint64        `json:"index"`
	Size       uint64        `json:"size"`
	LeafHash   verify.Hash   `json:"leaf_hash"`
	Hashes     []verify.Hash `json:"hashes"`
	Checkpoint string        `json:"checkpoint"`
}

// ConsistencyProof is the body of GET /api/v1/proof/consistency.
type ConsistencyProof struct {
	From       uint64        `json:"from"`
	To         uint64        `json:"to"`
	Hashes     []verify.Hash `json:"hashes"`
	Checkpoint string        `json:"checkpoint"`
}

// The registry's bodies hold attest's records (attest.AccordInfo,
// attest.SignatoryInfo, attest.LatestPledge), which api does not import.
// Each is declared once, generic in those records: the server writes them
// as the JSON its rows hold (the json.RawMessage instances below), and a
// client reads them typed by instantiating the same declaration with
// attest's types (package client does), so the two cannot drift apart.

// Accords is the body of GET /api/v1/accords as the server writes it.
type Accords = AccordsOf[json.RawMessage]

// AccordsOf is the body of GET /api/v1/accords with accords of type A
// (attest.AccordInfo).
type AccordsOf[A any] struct {
	Accords []A `json:"accords"`
}

// Signatories is the body of GET /api/v1/signatories as the server writes
// it.
type Signatories = SignatoriesOf[json.RawMessage]

// SignatoriesOf is the body of GET /api/v1/signatories, a page of
// signatories by id, with signatories of type S (attest.SignatoryInfo).
type SignatoriesOf[S any] struct {
	Signatories []S    `json:"signatories"`
	Next        string `json:"next,omitempty"`
}

// SignatoryDetail is the body of GET /api/v1/signatories/{id} as the
// server writes it.
type SignatoryDetail = SignatoryDetailOf[json.RawMessage, json.RawMessage]

// SignatoryDetailOf is the body of GET /api/v1/signatories/{id}, with the
// signatory of type S (attest.SignatoryInfo) and its latest pledges of
// type L (attest.LatestPledge).
type SignatoryDetailOf[S, L any] struct {
	Signatory S `json:"signatory"`
	// Recovered lists the indexes of the signatory's recover events: keys
	// the registrar added. Monitors should alarm on them.
	Recovered []uint64 `json:"recovered"`
	// Latest is the latest pledge per accord and principle.
	Latest []L `json:"latest"`
}

// SearchResults is the body of GET /api/v1/search as a client reads it
// untyped.
type SearchResults = SearchResultsOf[json.RawMessage]

// SearchResultsOf is the body of GET /api/v1/search, with pledges of type
// P (attest.PledgeInfo).
type SearchResultsOf[P any] struct {
	Results []SearchResultOf[P] `json:"results"`
	// Next is the cursor of the next page; absent on the last one. A page
	// may hold fewer than limit results and still have a next one.
	Next string `json:"next,omitempty"`
}

// SearchResultOf is one matching entry: its index, its kind, and for a
// pledge what the log derived of it (signatory, accord, principle,
// status, signing key id, and void once a revocation voided it).
type SearchResultOf[P any] struct {
	Index uint64 `json:"index"`
	// Kind is SearchPledge or SearchRegistry.
	Kind   string `json:"kind"`
	Pledge *P     `json:"pledge,omitempty"`
}

// The kinds of search results: a pledge, or any other entry (the
// genesis, an accord, a registry event), which /api/v1/entries/{index}
// shows.
const (
	SearchPledge   = "pledge"
	SearchRegistry = "registry"
)

// BatchRequest is the body of POST /api/v1/entries/batch.
type BatchRequest struct {
	Entries []json.RawMessage `json:"entries"` // DSSE envelopes
}

// BatchResponse answers a batch: one checkpoint, and for each envelope its
// index, leaf and inclusion proof, and the indexes of its evidence among
// Evidence. Each item with the checkpoint and its evidence is a proof
// bundle (verify/bundle), which the server checked before answering.
type BatchResponse struct {
	MediaType  string      `json:"mediaType"`
	Checkpoint string      `json:"checkpoint"`
	Entries    []BatchItem `json:"entries"`
	Evidence   []ProofItem `json:"evidence"`
}

// ProofItem is an entry with its inclusion proof in the checkpoint.
type ProofItem struct {
	Index uint64        `json:"index"`
	Leaf  []byte        `json:"leaf"`
	Proof []verify.Hash `json:"proof"`
}

// BatchItem is the answer for one envelope of a batch.
type BatchItem struct {
	ProofItem
	Duplicate bool     `json:"duplicate"`
	Evidence  []uint64 `json:"evidence"`
}

// BackupRequest is the body of POST /admin/backup.
type BackupRequest struct {
	// Dest is the directory the server writes the backup to: an absolute
	// path on the server's host that must not exist yet.
	Dest string `json:"dest"`
}

// BackupResponse is the answer to POST /admin/backup.
type BackupResponse struct {
	Dest string `json:"dest"`
	// Size is the committed tree size just before the backup started: the
	// backup holds at least that many entries.
	Size uint64 `json:"size"`
}

// Problem is an RFC 9457 problem details object, the body of every error
// response (Content-Type application/problem+json).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Pointer and Code are extension members of a rejected attestation:
	// an RFC 6901 pointer into the request body (batches: /entries/<k>/…)
	// and attest's stable machine-readable reason.
	Pointer string `json:"pointer,omitempty"`
	Code    string `json:"code,omitempty"`
}

// Error makes a problem answered by the server an error: its status, its
// type's name, the detail and the pointer.
func (p *Problem) Error() string {
	s := fmt.Sprintf("%d %s", p.Status, strings.TrimPrefix(p.Type, ProblemBase))
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	if p.Pointer != "" {
		s += " (at " + p.Pointer + ")"
	}
	return s
}

// MapLookup is GET /api/v1/map: a leaf of the registry map, or its
// absence, proven against the map root that the log's latest checkpoint
// commits to (docs/formats.md, "The registry map"). A reader verifies
// the checkpoint with the log's key (and its witnesses'), takes the root
// from its "pledgelog/map/v1" extension line, recomputes the label from
// what it asked for, and checks the proof (attest.VerifyMapProof) with
// Value, which it then decodes: it trusts none of the other fields.
type MapLookup struct {
	Checkpoint string `json:"checkpoint"` // the signed checkpoint, as served at /checkpoint
	Size       uint64 `json:"size"`
	MapRoot    []byte `json:"map_root"` // the root the checkpoint commits to
	Kind       string `json:"kind"`     // principal, key, accord or cell
	Label      []byte `json:"label"`
	// Value is the leaf's encoded value; null if the label is not in the
	// map, which the proof then proves.
	Value []byte         `json:"value"`
	Proof []MapProofNode `json:"proof"`
}

// MapProofNode is a node of a map proof: a label prefix of Bits bits (the
// bytes past them zero) and the node's hash.
type MapProofNode struct {
	Label []byte `json:"label"`
	Bits  uint32 `json:"bits"`
	Hash  []byte `json:"hash"`
}
