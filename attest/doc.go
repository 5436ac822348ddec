// Package attest defines pledgelog's entries — signed attestations — and
// the registry that the log's entries build. It starts no goroutines and
// never logs; it returns errors. Its only I/O is the pledge file of
// [NewRegistryOnDisk].
//
// # Entries
//
// Every log entry is one DSSE envelope (secure-systems-lab/dsse v1.0.2)
// whose payload, of type application/vnd.in-toto+json, is an in-toto
// Statement v1 with exactly one subject and one of four predicates:
//
//	https://pledgelog.dev/registrar/v1  genesis (entry 0) and rotate of the registrar key
//	https://pledgelog.dev/accord/v1     an accord and its principles
//	https://pledgelog.dev/signatory/v1  register, add-key, revoke-key, recover
//	https://pledgelog.dev/pledge/v1     a signatory's attestation about one principle
//
// The subject of a pledge is its accord: the accord id as name and, as
// sha256 digest, the SHA-256 of the accord entry's predicate in RFC 8785
// form ([PredicateDigest]). The subject of every other statement is the
// entity it defines (the origin, the accord id, the signatory id) with the
// digest of its own canonical predicate. Every predicate names the log's
// origin, so an entry cannot be replayed into another log. docs/formats.md
// has the JSON Schema of each predicate; the types here ([Registrar],
// [Accord], [SignatoryEvent], [Pledge]) are the same schemas in Go.
//
// # Leaf bytes
//
// DSSE signs only PAE(payloadType, payload), so everything else in an
// envelope could be changed by anyone. The log therefore stores its own
// canonical encoding, and these exact bytes are the Merkle leaf:
//
//	{"payload":"<std base64>","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"<hex>","sig":"<std base64>"}]}
//
// with no whitespace and the signatures sorted by keyid. [Canonicalize]
// turns a client's envelope into these bytes; [ParseLeaf] accepts only
// them. The rules, stricter than DSSE and in-toto, which say to ignore
// unknown fields (a deliberate deviation: an ignored field is a malleable
// one):
//
//   - payload and sig may be standard or URL-safe base64 on input (DSSE
//     requires verifiers to accept both), padded, with zero trailing bits;
//   - the envelope has exactly the members payload, payloadType and
//     signatures, each signature exactly keyid and sig; a duplicate,
//     case-variant or unknown member is an error;
//   - keyid is required: the lowercase hex SHA-256 of the signer's DER
//     SubjectPublicKeyInfo ([KeyID]), and the only key tried;
//   - one signature, or two by distinct keys for the events that add a key
//     (rotate, register, add-key, recover: the authoriser and the new key,
//     as proof of possession);
//   - the payload is byte for byte the RFC 8785 (JCS) encoding of the
//     statement it decodes to, where empty optional members are omitted;
//     so no duplicate or case-variant keys, no unknown members, no other
//     number or string spellings;
//   - integers are at most 2^53−1, so RFC 8785's doubles keep them exact;
//   - Ed25519 signatures are 64 bytes; ECDSA P-256 signatures are DER with
//     S ≤ N/2 (a client must normalise S; [Sign] does, sigstore's signer
//     does not);
//   - a leaf is at most 65,535 bytes ([MaxLeafSize]);
//   - JSON nests at most [MaxDepth] (32) deep, in the envelope and in the
//     payload; deeper input is refused ("too-deep") before it is parsed,
//     so parsing costs time and memory linear in the input.
//
// The leaf hash is RFC 6962's SHA-256(0x00 || leaf) ([LeafHash]). The
// dedup key is SHA-256(PAE(payloadType, payload)) ([DedupKey]): the same
// statement, re-signed or re-encoded, is the same submission.
//
// # Who signs what
//
//	genesis      the registrar key it introduces (entry 0 only)
//	rotate       the current registrar key and the new one; the old key is retired
//	accord       the registrar
//	register     the registrar and the signatory's first key
//	add-key      a valid key of the signatory and the new key
//	revoke-key   a valid key of the signatory, or the registrar
//	recover      the registrar and the new key (monitors should alarm on it)
//	pledge       a valid key of the pledge's signatory
//
// [Registry.Verify] checks the signatures over the PAE of
// go-securesystemslib's dsse package — ECDSA with sigstore verifiers,
// Ed25519 with curve25519-voi on the registry's keys decoded once, with
// crypto/ed25519's acceptance rules (TestRegistryEd25519Agrees; a key
// parsed alone, [PublicKey.Verify], uses crypto/ed25519 through sigstore)
// — and reports the principal that
// authorised the entry ([Verified].Issuer), which must be the issuer of the
// session token it came with.
//
// # Registry rules
//
// The registrar and each signatory have a chain of events: seq counts from
// 0 (genesis, register) and prev is the hex leaf hash of the previous
// event of the same chain. An event is admitted only at the head of its
// chain, so events cannot be reordered, replayed or forked (ErrChainHead).
// A key id is added once, ever: a revoked key is never re-added, and no
// key serves two principals.
//
// A key is valid from the entry after the one that added it until it is
// revoked. A revocation with reason compromised names voidFrom, an index
// after the key was added and not after the revocation: the key's
// signatures from voidFrom on are void, even those already logged. So are
// the signatures of every key it added by add-key at or after voidFrom
// (from their addition on, recursively), since an attacker may have added
// them. Revocations it signed in the window stand; a signatory that lost
// every key recovers through the registrar. A superseded key can still be
// declared compromised later, once.
//
// The latest pledge of a (signatory, accord, principle) is the one with
// the highest index whose signature is not void. A pledge may name the
// earlier pledge of the same cell that it supersedes.
//
// # The log's hooks
//
// The log engine is content-agnostic and takes three hooks: [DedupKey],
// [Registry.Admit] and [Registry.Index]. Admit is called by the single
// sequencer goroutine in index order with leaves that passed Verify; it
// re-checks the rules as of that index without signature work, applies the
// entry and returns an undo. Index returns the derived rows (see [Row] and
// the Table constants) that Admit computed, to be written in the same
// atomic batch as the entry. At startup a server calls [Registry.Replay]
// for every entry listed in [TableRegistry] and [Registry.RestorePledge]
// for every [TablePledges] row, in key order.
//
// # Memory
//
// A registry keeps in memory the keys, chain heads, events and accords,
// the latest pledge of each (signatory, accord, principle) cell, and a
// record of every pledge: its index, signing key, cell and status, which
// is what Supersedes and voiding need. Whether a pledge is void is not
// stored but derived: it is void when its key's voidFrom is at or below
// its index. [NewRegistry] keeps the records in memory, 24 bytes each
// (29 bytes of heap a pledge, slice growth included). [NewRegistryOnDisk]
// appends them, buffered, to a temporary file, 17 bytes each, so that an
// auditor's memory grows with keys, cells and registry events but not
// with pledges: a Supersedes costs a binary search of the file, and a
// compromise one scan of it from voidFrom on, then one backward scan for
// the cells whose latest pledge it voids. [Registry.Close] removes the
// file (on Unix it is unlinked as soon as it is created, so a crash leaves
// nothing behind). If the file fails, the call fails with [ErrStore], and
// so does every later change: the registry no longer follows the log.
//
// Pledges must be admitted, replayed and restored in increasing index
// order; a pledge at or below the last one is rejected with ErrMalformed.
//
// # Example
//
// The pledge of [ExampleSign], by the Ed25519 key whose seed is
// SHA-256("example signatory key") and whose keyid is 6c53b2b3…, about the
// embedded Tech Accord (digest 1424681b…). Its payload, shown here spaced
// out (the real one has no whitespace), is
//
//	{"_type":"https://in-toto.io/Statement/v1",
//	 "predicate":{"accord":"cybersecurity-tech-accord-2018","effective":"2026-01-02",
//	  "origin":"log.example.org/tech-accord","principle":"no-offense",
//	  "signatory":"example-corp",
//	  "statement":"We will not help governments launch cyberattacks.",
//	  "status":"committed"},
//	 "predicateType":"https://pledgelog.dev/pledge/v1",
//	 "subject":[{"digest":{"sha256":"1424681bb8ac18ba4e0e6d44dc513e1f669f693a0fcab7960dfd320348701ad6"},
//	  "name":"cybersecurity-tech-accord-2018"}]}
//
// Members are in RFC 8785 order (by UTF-16 code units) and optional empty
// ones (evidence, supersedes, notice) are absent. The signature is over
//
//	DSSEv1 28 application/vnd.in-toto+json 491 {"_type":…
//
// and the leaf is
//
//	{"payload":"eyJfdHlwZSI6…OCJ9XX0=","payloadType":"application/vnd.in-toto+json",
//	 "signatures":[{"keyid":"6c53b2b322a406ee22941ea2b63cf0d2f37cd97b69c20db95926fa18213ed35c",
//	 "sig":"ew161WVCLg95XzZBYd+nVLm7C/MDrxe37wuhV8YdurXPttiHeiutctx2oqpzd2xR8jg4vnEspILb0x4CxfU+Ag=="}]}
//
// on one line. Its dedup key is 6522365f…30ef. Sending the same envelope
// with the members in another order, with URL-safe base64 or with spaces
// gives the same leaf; adding a member, repeating one, writing "Status"
// or "status":"Committed", or spacing out the payload is an error that
// names the member, such as /payload/predicate/status.
//
// # Errors
//
// Every error wraps one of the sentinels (ErrMalformed, ErrUnknownKey,
// ErrRevokedKey, ErrForeignKey, ErrBadSignature, ErrChainHead, ErrExists,
// ErrNotFound), almost always inside a [*FieldError] carrying an RFC 6901
// pointer into the envelope (/payload continues into the decoded
// statement) and a stable code. Pointers to signatures count in canonical
// (keyid) order.
package attest
