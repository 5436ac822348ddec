// Package verify is the shared vocabulary of a pledgelog transparency log
// and its clients: the formats the log publishes, and the checks anyone can
// run on them. It is pure: no I/O, no logging, no goroutines.
//
// It follows RFC 6962 (Merkle tree hashing and proofs) and the C2SP
// specifications c2sp.org/signed-note, c2sp.org/tlog-checkpoint,
// c2sp.org/tlog-cosignature (Ed25519 and ML-DSA-44) and c2sp.org/tlog-tiles,
// so a log built on it can be checked by any client of those formats.
//
// # Merkle tree
//
// The log is a list of entries (byte strings). A leaf hash is
// SHA-256(0x00 || entry) ([LeafHash]), an interior node SHA-256(0x01 ||
// left || right) ([NodeHash]). The root of n > 1 entries is the node of the
// roots of the first k entries and of the rest, where k is the largest
// power of two below n; the root of one entry is its leaf hash, and the
// root of none is SHA-256 of nothing, [EmptyRoot]. [Inclusion] checks that
// an entry is in a tree, [Consistency] that one tree extends another.
//
// For example, the tree of the entries "one", "two" and "three" has the root
// node(node(leaf(one), leaf(two)), leaf(three)), in base64
// Wqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=. The inclusion proof of entry
// 2, "three", is the one hash node(leaf(one), leaf(two)),
// T1X2GdkhUjV3iyufF9b0kVsWFxIU0VI4EpNml2Teci4=; that of entry 0 is leaf(two)
// then leaf(three). The consistency proof from the tree of two entries to
// this one is leaf(three).
//
// # Signed notes
//
// A signed note is a text, a blank line, and signature lines:
//
//	<text: one or more lines, each ending in a newline>
//	<blank line>
//	— <key name> <base64(4-byte big-endian key ID || signature)>
//
// The first character of a signature line is an em dash (U+2014) followed
// by a space. The note must be UTF-8 without any control character but
// newline; the last blank line separates the text from at least one (at
// most [MaxSignatures]) signature. A key name is non-empty UTF-8 without
// white space or '+'. Base64 is standard, with padding, everywhere. The
// signed message is the text, including its final newline.
//
// A key is identified by its name and its key ID, the first four bytes of
// SHA-256(name || 0x0A || type || public key) ([KeyID]). Type 0x01 signs
// the text with Ed25519 ([NewEd25519Signer]). A verifier key names a key:
//
//	<name>+<key ID, 8 lowercase hex digits>+<base64(type || public key)>
//
// The base64 part may contain '+', so only the first two '+' split it
// ([NewVerifier]). [ParseNote] checks the syntax of a note, [Sign] makes
// one and [Open] verifies one: it ignores signatures from
// unknown keys, even those sharing a name or a key ID (not both) with a
// known one; it rejects the note if a known key's signature fails
// ([SignatureError]), or if none verifies ([ErrNoVerifiedSignature]).
//
// # Checkpoints
//
// A checkpoint is a note whose text names the log (its origin, also the
// name of the log's key), the tree size in decimal and the root in base64,
// optionally followed by extension lines ([Checkpoint], [ParseCheckpoint]).
// Witnesses add cosignatures (type 0x04, [NewCosigner]): 8 bytes of
// big-endian time in seconds, then the Ed25519 signature of
//
//	cosignature/v1
//	time <seconds>
//	<the checkpoint text>
//
// ML-DSA-44 cosignatures (type 0x06, [NewMLDSACosigner]) are 8 bytes of
// big-endian time, then the FIPS 204 ML-DSA-44 signature (2,420 bytes,
// empty context) of the binary cosigned_message of c2sp.org/tlog-cosignature:
//
//	"subtree/v1\n\x00"                     12 bytes
//	len(name) || name                       the cosigner's key name, 1–255 bytes
//	timestamp                               8 bytes, big-endian
//	len(origin) || origin                   1–255 bytes
//	start = 0, end = tree size              8 bytes each, big-endian
//	root hash                               32 bytes
//
// It signs neither the extension lines nor anything but the whole tree.
//
// A witness returns its cosignature lines ([ParseSignatures]) to be added
// to the note. [OpenCosigned] requires the log's signature and cosignatures
// that meet a [Quorum], such as a c2sp.org/tlog-policy (verify/policy);
// [OpenCheckpoint] a number of distinct witnesses.
// For example, this checkpoint of the log with verifier key
//
//	example.com/behind-the-sofa+785a0da4+AaxMR+jgU7jquHw1bVYLFlbKP1dMJpUPvz2B2VXlckTA
//
// is cosigned by the witness with verifier key
//
//	witness.example.com/w1+261afb8b+BJDv2HnWEc4IFq3bpKSLT9dcie6/ToZYVGqODIfVebBC
//
// as of 1679315147 (2023-03-20 12:25:47 UTC):
//
//	example.com/behind-the-sofa
//	20852163
//	CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//
//	— example.com/behind-the-sofa eFoNpCmkJXUlTGQ6hUJ3IhXSb/d/0fjUZVhnDc4A+XCGqJNwpJb+vME+PQnY+APfhH0JTcDCQScMvX1rLoA9gfUZkQU=
//	— witness.example.com/w1 Jhr7iwAAAABkGFDLbtAmaFn7GRqIFfQKf5U3ThEUjCbV6mY559WM5GA9VJfwcLT4SUVi1hnOy+0h4YEfeNXxD3FgSih8U71j/nxyCw==
//
// The log's signature decodes to 68 bytes: the key ID 78 5a 0d a4 and 64
// bytes of Ed25519 signature. The witness's decodes to 76: the key ID
// 26 1a fb 8b, the time 00 00 00 00 64 18 50 cb, and 64 bytes of signature.
//
// # Tiles
//
// A log serves its tree as static files ([Tile]). Hash tile "tile/<L>/<N>"
// holds 256 hashes of tree level 8L, from N*256 on: leaf hashes at L = 0,
// and at L ≥ 1 the roots of full tiles of level L-1. Entry bundle
// "tile/entries/<N>" holds the 256 entries of level-0 tile N, each as a
// big-endian uint16 length and its bytes ([AppendBundleEntry],
// [ParseBundle]); an entry is at most [MaxEntrySize] bytes. N is written
// in groups of three digits, all but the last prefixed with 'x': 1234067 is
// "x001/x234/067". The last tile of a level may be partial, W < 256 hashes
// or entries, with the suffix ".p/<W>" ([ParseTilePath]). A tree of 70,000
// entries has ([TilesForSize]):
//
//	tile/0/000 … tile/0/272, tile/0/273.p/112     70,000 = 273×256 + 112
//	tile/entries/000 … tile/entries/273.p/112     the same, for entries
//	tile/1/000, tile/1/001.p/17                   273 = 256 + 17
//	tile/2/000.p/1                                1 full tile of level 1
//
// [TreeRoot], [ProveInclusion] and [ProveConsistency] compute roots and
// proofs from tiles, through a [TileReader]: the log reads its own store,
// a client fetches them over HTTP. Any complete subtree's hash lies in one
// tile ([ReadNodes]). The tiles are not trusted: check the results against
// a signed checkpoint.
package verify
