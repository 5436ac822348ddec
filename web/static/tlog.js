// tlog.js: RFC 6962 Merkle tree hashing with WebCrypto SHA-256, inclusion
// and consistency proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2),
// c2sp.org/tlog-tiles paths, and proofs computed in the browser from the
// log's tiles. Indexes and sizes are JavaScript numbers: exact below 2^53.

export class ProofError extends Error {}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// leafHash is SHA-256(0x00 || entry).
export async function leafHash(entry) {
  const b = new Uint8Array(entry.length + 1);
  b.set(entry, 1);
  return sha256(b);
}

// nodeHash is SHA-256(0x01 || left || right).
export async function nodeHash(left, right) {
  const b = new Uint8Array(65);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 33);
  return sha256(b);
}

export function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function fromHex(s) {
  return new Uint8Array(s.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
}

export function toBase64(b) {
  return btoa(String.fromCharCode(...b));
}

export function fromBase64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

const odd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

// split is the largest power of two strictly less than n (n > 1).
export function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// rootOf is the RFC 6962 root of a list of leaf hashes.
export async function rootOf(leaves) {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return nodeHash(await rootOf(leaves.slice(0, k)), await rootOf(leaves.slice(k)));
}

// verifyInclusion checks that leaf is at index in the tree of size with
// root, using proof (RFC 9162 §2.1.3.2). It throws a ProofError.
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) throw new ProofError(`index ${index} is not below tree size ${size}`);
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new ProofError('inclusion proof too long');
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn); sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('inclusion proof too short');
  if (!equal(r, root)) throw new ProofError(`recomputed root ${toBase64(r)} is not the signed root ${toBase64(root)}`);
}

// verifyConsistency checks that the tree of size1 with root1 is a prefix of
// the tree of size2 with root2 (RFC 9162 §2.1.4.2). It throws a ProofError.
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  if (size1 > size2) throw new ProofError(`size ${size1} is above size ${size2}`);
  if (size1 === size2 || size1 === 0) {
    if (proof.length !== 0) throw new ProofError('consistency proof should be empty');
    if (size1 === size2 && !equal(root1, root2)) throw new ProofError(`two roots for tree size ${size1}`);
    return;
  }
  if (proof.length === 0) throw new ProofError('empty consistency proof');
  const p = isPow2(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1, sn = size2 - 1;
  while (odd(fn)) { fn = half(fn); sn = half(sn); }
  let fr = p[0], sr = p[0];
  for (const c of p.slice(1)) {
    if (sn === 0) throw new ProofError('consistency proof too long');
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn); sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('consistency proof too short');
  if (!equal(fr, root1)) throw new ProofError(`the proof does not lead to the old root ${toBase64(root1)}`);
  if (!equal(sr, root2)) throw new ProofError(`the proof does not lead to the new root ${toBase64(root2)}`);
}

function isPow2(n) {
  while (n > 1 && !odd(n)) n = half(n);
  return n === 1;
}

// tilePath is the c2sp.org/tlog-tiles path of hash tile n at level, of
// width hashes ("tile/0/x001/234.p/7"); level "entries" names a bundle.
export function tilePath(level, n, width) {
  const parts = [];
  do {
    parts.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  const name = parts.map((p, i) => (i < parts.length - 1 ? 'x' + p : p)).join('/');
  return `tile/${level}/${name}` + (width < 256 ? `.p/${width}` : '');
}

// tileWidth is how many hashes tile n of level has in the tree of size.
export function tileWidth(level, n, size) {
  return Math.min(256, Math.floor(size / 256 ** level) - n * 256);
}

// parseBundle splits an entry bundle into its entries.
export function parseBundle(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length;) {
    if (i + 2 > bytes.length) throw new ProofError('truncated entry bundle');
    const n = (bytes[i] << 8) | bytes[i + 1];
    if (i + 2 + n > bytes.length) throw new ProofError('truncated entry bundle');
    out.push(bytes.subarray(i + 2, i + 2 + n));
    i += 2 + n;
  }
  return out;
}

// Tiles reads the hashes of the tree of size from its tiles, fetched with
// fetchTile(path) → Uint8Array, and computes proofs from them. Nothing it
// reads is trusted: verify what it computes against a signed root.
export class Tiles {
  constructor(size, fetchTile) {
    this.size = size;
    this.fetchTile = fetchTile;
    this.cache = new Map();
    this.fetched = [];
  }

  async tile(level, n) {
    const path = tilePath(level, n, tileWidth(level, n, this.size));
    if (!this.cache.has(path)) {
      this.fetched.push(path);
      this.cache.set(path, this.fetchTile(path));
    }
    const data = await this.cache.get(path);
    if (data.length !== 32 * tileWidth(level, n, this.size)) throw new ProofError(`tile ${path} has ${data.length} bytes`);
    return data;
  }

  // node is the hash of the perfect subtree of 2^height leaves number index.
  async node(height, index) {
    const level = Math.floor(height / 8), r = height % 8;
    const first = index * 2 ** r, n = Math.floor(first / 256), off = first % 256;
    const data = await this.tile(level, n);
    let hashes = [];
    for (let i = off; i < off + 2 ** r; i++) hashes.push(data.subarray(32 * i, 32 * i + 32));
    while (hashes.length > 1) {
      const up = [];
      for (let i = 0; i < hashes.length; i += 2) up.push(await nodeHash(hashes[i], hashes[i + 1]));
      hashes = up;
    }
    return hashes[0];
  }

  // subtree is MTH(D[lo:hi]).
  async subtree(lo, hi) {
    const n = hi - lo;
    if (isPow2(n) && lo % n === 0) return this.node(Math.log2(n), lo / n);
    const k = split(n);
    return nodeHash(await this.subtree(lo, lo + k), await this.subtree(lo + k, hi));
  }

  // inclusion is the RFC 6962 audit path of leaf index in this tree.
  async inclusion(index, lo = 0, hi = this.size) {
    if (hi - lo === 1) return [];
    const k = split(hi - lo);
    if (index - lo < k) return [...await this.inclusion(index, lo, lo + k), await this.subtree(lo + k, hi)];
    return [...await this.inclusion(index, lo + k, hi), await this.subtree(lo, lo + k)];
  }

  // consistency is the RFC 6962 consistency proof from size m to this tree.
  async consistency(m, lo = 0, hi = this.size, whole = true) {
    if (m === 0 || m === this.size) return [];
    const n = hi - lo;
    if (m === n) return whole ? [] : [await this.subtree(lo, hi)];
    const k = split(n);
    if (m <= k) return [...await this.consistency(m, lo, lo + k, whole), await this.subtree(lo + k, hi)];
    return [...await this.consistency(m - k, lo + k, hi, false), await this.subtree(lo, lo + k)];
  }
}
