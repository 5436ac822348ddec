// vmap.js: the registry map's proofs checked in the browser
// (docs/formats.md, "The registry map"): the labels and values of its
// leaves, and membership and non-membership proofs of its compressed
// binary Merkle prefix tree, hashed as AKD's whatsapp_v1 configuration
// is (NoLeafEpoch) with SHA-256, as filippo.io/torchwood's prefix package
// builds it on the server.

import { sha256, equal, fromBase64 } from './tlog.js';

export class MapError extends Error {}

const enc = new TextEncoder();

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
}

// The kinds of leaves, the first byte of a label's preimage and a value.
export const PRINCIPAL = 1, KEY = 2, ACCORD = 3, CELL = 4;

// mapLabel is SHA-256 of "pledgelog/map/v1/label", a zero byte, the kind,
// and each part with its length in two bytes, big-endian.
export async function mapLabel(kind, ...parts) {
  const bs = [enc.encode('pledgelog/map/v1/label\0'), new Uint8Array([kind])];
  for (const p of parts) {
    const b = enc.encode(p);
    bs.push(new Uint8Array([b.length >> 8, b.length & 0xff]), b);
  }
  return sha256(concat(...bs));
}

// leafValue is the value the tree holds for a leaf: SHA-256 of
// "pledgelog/map/v1/value", a zero byte, the label and the encoded value.
export async function leafValue(label, value) {
  return sha256(concat(enc.encode('pledgelog/map/v1/value\0'), label, value));
}

// A label is { bits, bytes }: a prefix of bits bits of a 32-byte string,
// the bytes past it zero. The root is the empty prefix; the empty node
// has no bits and bytes of 0x01.
const rootLabel = () => ({ bits: 0, bytes: new Uint8Array(32) });
const isEmpty = (l) => l.bits === 0 && l.bytes.every((x) => x === 1);
const sameLabel = (a, b) => a.bits === b.bits && equal(a.bytes, b.bytes);
const bit = (l, i) => (l.bytes[i >> 3] >> (7 - (i & 7))) & 1;

function hasPrefix(l, p) {
  if (isEmpty(p) || l.bits < p.bits) return false;
  for (let i = 0; i < p.bits; i++) if (bit(l, i) !== bit(p, i)) return false;
  return true;
}

function commonPrefix(a, b) {
  const out = rootLabel();
  if (isEmpty(a) || isEmpty(b)) return out;
  while (out.bits < Math.min(a.bits, b.bits) && bit(a, out.bits) === bit(b, out.bits)) {
    if (bit(a, out.bits)) out.bytes[out.bits >> 3] |= 0x80 >> (out.bits & 7);
    out.bits++;
  }
  return out;
}

// nodeHash is SHA-256(value || SHA-256(bits as 4 bytes || the 32 bytes)).
async function nodeHash(label, value) {
  const l = new Uint8Array(36);
  new DataView(l.buffer).setUint32(0, label.bits);
  l.set(label.bytes, 4);
  return sha256(concat(value, await sha256(l)));
}

// parent is the node above a and b: their longest common prefix, hashing
// its left child's hash then its right one's. At most one may be empty.
async function parent(a, b) {
  const label = commonPrefix(a.label, b.label);
  if (label.bits === 256) throw new MapError('two nodes with the same label');
  if (isEmpty(a.label)) [a, b] = [b, a];
  if (isEmpty(a.label)) throw new MapError('two empty nodes');
  if (!hasPrefix(a.label, label) || a.label.bits === label.bits) throw new MapError('a node is not below its parent');
  const [left, right] = bit(a.label, label.bits) === 0 ? [a, b] : [b, a];
  return { label, hash: await nodeHash(label, await sha256(concat(left.hash, right.hash))) };
}

async function up(node, proof, root) {
  for (const sibling of proof) node = await parent(node, sibling);
  if (!sameLabel(node.label, rootLabel())) throw new MapError('the proof does not lead to the root');
  if (!equal(node.hash, root)) throw new MapError('the proof does not lead to the map root the checkpoint commits to');
}

// parseProof decodes the proof of a /api/v1/map answer.
export function parseProof(nodes) {
  if (!Array.isArray(nodes) || nodes.length > 257) throw new MapError('malformed proof');
  return nodes.map((n) => {
    const bytes = fromBase64(n.label ?? ''), hash = fromBase64(n.hash ?? '');
    if (bytes.length !== 32 || hash.length !== 32 || !Number.isInteger(n.bits) || n.bits < 0 || n.bits > 256) {
      throw new MapError('malformed proof node');
    }
    return { label: { bits: n.bits, bytes }, hash };
  });
}

// verifyMembership checks that the proof puts label with value under root.
export async function verifyMembership(label, value, proof, root) {
  const leaf = { bits: 256, bytes: label };
  await up({ label: leaf, hash: await nodeHash(leaf, await leafValue(label, value)) }, proof, root);
}

// verifyNonMembership checks that the proof shows label is not under root.
export async function verifyNonMembership(label, proof, root) {
  const l = { bits: 256, bytes: label };
  if (proof.length === 1 && isEmpty(proof[0].label)) {
    const emptyRoot = await nodeHash(rootLabel(), await sha256(new Uint8Array([0])));
    const empty = await nodeHash(proof[0].label, await nodeHash(proof[0].label, await sha256(new Uint8Array([0]))));
    if (equal(proof[0].hash, empty) && equal(root, emptyRoot)) return;
  }
  if (proof.length < 2) throw new MapError('a non-membership proof has at least two nodes');
  if (hasPrefix(l, proof[0].label) || hasPrefix(l, proof[1].label)) throw new MapError('the label is in the map');
  const p = await parent(proof[0], proof[1]);
  if (!hasPrefix(l, p.label)) throw new MapError('the proof is not of where the label would be');
  await up(p, proof.slice(2), root);
}

// mapRoot returns the map root a checkpoint's text commits to, in its
// "pledgelog/map/v1 <base64>" extension line, or null.
export function mapRoot(text) {
  const lines = text.split('\n').slice(3);
  const ext = lines.filter((l) => l.startsWith('pledgelog/map/v1 '));
  if (ext.length > 1) throw new MapError('two map lines in the checkpoint');
  if (ext.length === 0) return null;
  const root = fromBase64(ext[0].slice('pledgelog/map/v1 '.length));
  if (root.length !== 32) throw new MapError('malformed map line');
  return root;
}

const NONE = 0xffffffffffffffffn;
const u64 = (v, i) => v.getBigUint64(i);
const index = (x) => (x === NONE ? null : Number(x));

// parsePrincipal decodes a principal's value: where it registered, its
// chain's seq and head, and how many keys it has had.
export function parsePrincipal(b) {
  if (b.length !== 53 || b[0] !== PRINCIPAL) throw new MapError('not a principal\'s value');
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  return { registered: Number(u64(v, 1)), seq: Number(u64(v, 9)), head: b.slice(17, 49), keys: v.getUint32(49) };
}

// parseKey decodes a key's value: the indexes that added and revoked it
// and from which its signatures are void (null for none).
export function parseKey(b) {
  if (b.length !== 25 || b[0] !== KEY) throw new MapError('not a key\'s value');
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const added = u64(v, 1);
  if (added === NONE) throw new MapError('a key\'s value without the index that added it');
  return { added: Number(added), revoked: index(u64(v, 9)), voidFrom: index(u64(v, 17)) };
}

// parseAccord decodes an accord's value: the index of its entry and the
// SHA-256 of its canonical predicate.
export function parseAccord(b) {
  if (b.length !== 41 || b[0] !== ACCORD) throw new MapError('not an accord\'s value');
  return { index: Number(new DataView(b.buffer, b.byteOffset, b.length).getBigUint64(1)), digest: b.slice(9) };
}
