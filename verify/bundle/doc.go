// Package bundle defines pledgelog's proof bundle, the proof a log returns
// for a submitted attestation and a signatory keeps, and checks it offline
// (Verify). It is pure: no I/O but through the Source or TileReader a
// caller passes, no logging.
//
// # Format
//
// A bundle is one JSON object. Version 2, MediaTypeV2
// (application/vnd.pledgelog.bundle.v2+json), carries map proofs of the
// signing key's state at the bundle's checkpoint in place of v1's
// evidence, and has a size bound (MaxSizeV2) whatever the signatory's
// history: see MapEvidence and docs/formats.md, "Proof bundles v2".
// Parse reads both versions, Marshal writes a bundle's own, Verify and
// Checker.Check verify both; the rest of this comment is about v1.
//
// Version 1 is of media type MediaType,
// application/vnd.pledgelog.bundle.v1+json, with exactly these members:
//
//	mediaType   "application/vnd.pledgelog.bundle.v1+json"
//	entry       the attestation: {"index", "leaf", "proof"}
//	checkpoint  the signed checkpoint note (c2sp.org/tlog-checkpoint), as a
//	            string, with the log's signature and any witness cosignatures
//	evidence    an array of 0 to MaxEvidence entries {"index", "leaf", "proof"}:
//	            the registry events that introduced the signing key, in
//	            increasing index order, all below entry.index
//
// In an entry, index is the 0-based log index in canonical decimal; leaf is
// the standard base64 (padded, canonical) of the exact leaf bytes, the
// log's canonical DSSE envelope (see package attest), never re-embedded as
// JSON, whose RFC 6962 hash is the Merkle leaf; proof is the RFC 6962
// inclusion proof of that leaf at index in the checkpoint's tree, the
// leaf's sibling first, each hash 44 characters of base64. Every proof is
// against the same checkpoint.
//
// Marshal writes the members in the order above without white space. Parse
// is strict, since a bundle is attacker-controlled: at most MaxSize bytes,
// no unknown, missing or repeated member, no other number spelling, no
// other base64, at most MaxProof hashes per proof, and a checkpoint that is
// a well-formed signed checkpoint. White space between tokens is allowed.
//
// # Evidence
//
// The evidence is a chain of registry events, each introducing one key for
// one principal, each signed by that key (proof of possession) and
// authorised by a key that the verifier's policy pins or that an earlier
// link introduced:
//
//	genesis    the registrar's first key; index 0, its key pinned
//	rotate     a registrar key, authorised by a registrar key
//	register   a signatory's first key, authorised by a registrar key
//	recover    a signatory's key, authorised by a registrar key
//	add-key    a signatory's key, authorised by a key of that signatory
//
// The log includes what a verifier pinning only the genesis key needs:
// for a pledge or add-key, the events from the genesis through the
// signatory's register (or recover) and add-keys to the key that signed
// it; for an entry the registrar authorised (accord, register, recover,
// rotate, a registrar's revoke-key), the registrar chain from the genesis
// to the key that signed. A verifier that pins the registrar's public key
// (Policy.RegistrarKeys) needs no genesis link for events the registrar
// signs; one that pins a key id only (Policy.RegistrarKeyIDs) takes the key
// from the genesis. If the registrar rotated and the verifier pins only an
// old key, a bundle without the rotate events fails with ErrRegistrar:
// Verify does not guess.
//
// # What Verify proves
//
// Offline, against a Policy: the checkpoint is signed by a pinned log key
// and cosigned by a quorum of pinned witnesses (with the times they state);
// the entry and each evidence event are included in it at their indexes;
// every link of the evidence is a valid registry event of the policy's
// origin, signed as above; the entry is a canonical attestation of that
// origin signed by a key K the evidence introduced at an index a < i for
// the principal the entry speaks for (its signatory, or the registrar),
// and by the key it introduces, if any. Result and Result.Facts say
// exactly that.
//
// A Merkle log cannot prove an absence, so a bundle cannot prove that K
// was not revoked between a and i: Result.NonRevocation is "not proven
// offline", unless the policy carries an AuditState of the same log, of a
// size above i and consistent with the checkpoint, listing the log's
// revocations; then Verify checks that no key of the chain was revoked or
// void where it signed. Nor does a bundle prove the registry chains'
// continuity (seq and prev): an auditor replaying the log does.
//
// A Builder builds a log's bundles, with the evidence above, from what a
// Source reads of the log: entries by index, hash tiles, and the index of
// the registry event that introduced a key. Check (a Checker's) proves
// what Verify proves and accepts only what Verify accepts, remembering
// what it verified before; it is the check a Builder runs on every bundle
// before it returns it.
//
// Upgrade replaces the checkpoint with a later one, such as a cosigned
// one, after checking a consistency proof, and recomputes the proofs from
// tiles. MarshalTLogProof and ParseTLogProof read and write the entry's
// proof in the c2sp.org/tlog-proof form.
//
// # Example
//
// The bundle of the demo's first pledge, entry 36 of a tree of 37 entries
// with origin log.example.org/tech-accord, cosigned by one witness, with
// the register event of its signatory (entry 2) as evidence, spaced out
// and with the two leaves shortened (testdata/example.json is the whole
// file, which a test verifies):
//
//	{
//	  "mediaType": "application/vnd.pledgelog.bundle.v1+json",
//	  "entry": {
//	    "index": 36,
//	    "leaf": "eyJwYXlsb2FkIjoiZXlKZmRI…In1dfQ==",
//	    "proof": [
//	      "8gPTBV6UOoDjbdBX+BSwN/7bNBBVRgdHzo7Z+2jTOt4=",
//	      "co2MlxZzrBNjmqF/Alf24F0SggP6/Nli4fzmWxPEyEI="
//	    ]
//	  },
//	  "checkpoint": "log.example.org/tech-accord\n37\nrZpT3FtKA1U7UYBJEHiTYmh2/YMdvuAjFsfeQMY6U3s=\n\n— log.example.org/tech-accord TnY1ABzsQdFKkWpHDybHvuqXBgHvcLcIASSk13hAQWkZeW+WVi116368GhwFHMpWTNTqp38VSIwpCVMhPlrki57NVQ4=\n— witness.example.com/w1 AtZWQwAAAABpVbkAak9gEiyen3gcAnaloB5KapI8zH/hWxNovY4Y1Rig/WbJmzGzeNQtf03djaY1483AHaEb+kd/OyBmrmCn5QRmBA==\n",
//	  "evidence": [
//	    {
//	      "index": 2,
//	      "leaf": "eyJwYXlsb2FkIjoiZXlKZmRI…PSJ9XX0=",
//	      "proof": [
//	        "NXR5pVB7Y/YtN5OkS48fPXTW5eb1DHD4tqxqZaBSMkk=",
//	        "vrjw1jkPJB+thnJS+hpThIXFBQAPzS5ckXb318YczB0=",
//	        "nnQtxirUYE977QxCh4QpaabQ50FLG+PaBW2ibXSzW9Y=",
//	        "i3D/+OWDeD9eHTSmEWs4AP/JDH9vg1TfFTpfVLmA5Q8=",
//	        "1DMBMtvir8sjI+7wtDDma767YWLuBlTItHX8SM3BTtU=",
//	        "oX4m/WUBAoORMavVkYh0SejwS8q9ZOTGsQx8Rvcmrqg="
//	      ]
//	    }
//	  ]
//	}
//
// It comes from the tests' log (attest.NewDemo with seed "bundle test",
// log and witness keys from fixed seeds). Entry 36's proof is the root of
// entries 32–35, then that of entries 0–31; entry 2's has six hashes. Its
// facts, as Result.Facts prints them:
//
//	checkpoint: log.example.org/tech-accord size 37 root rZpT3F…U3s= signed by log key log.example.org/tech-accord+4e763500
//	cosigned by witness witness.example.com/w1+02d65643 at 2026-01-01T00:00:00Z
//	witness quorum met: 1 of 1 witnesses
//	evidence: entry 2 (register) included, adds key <signatory key id> for <signatory>, authorised by key <registrar key id>
//	entry 36 included, leaf hash <hash>
//	statement: https://pledgelog.dev/pledge/v1 for <signatory>
//	signed by key <signatory key id> of <signatory>, added at index 2
//	non-revocation: not proven offline
package bundle
