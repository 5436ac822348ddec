// note.js: c2sp.org/signed-note parsing and verification with WebCrypto
// Ed25519, vkeys and key IDs, c2sp.org/tlog-checkpoint texts and Ed25519
// cosignatures (c2sp.org/tlog-cosignature, type 0x04). ML-DSA-44
// cosignatures (type 0x06) are recognised but not verified: WebCrypto has
// no ML-DSA, and this page ships no code of its own for it.

import { sha256, equal, fromBase64, toHex } from './tlog.js';

export class NoteError extends Error {}

const utf8 = new TextEncoder();
export const TYPE_ED25519 = 0x01;
export const TYPE_COSIGNATURE = 0x04;
export const TYPE_MLDSA44_COSIGNATURE = 0x06;

// hasEd25519 reports whether this browser's WebCrypto verifies Ed25519.
export async function hasEd25519() {
  try {
    await crypto.subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'Ed25519' }, false, ['verify']);
    return true;
  } catch {
    return false;
  }
}

// keyID is SHA-256(name || 0x0A || type || key)[:4] as a number.
export async function keyID(name, type, key) {
  const n = utf8.encode(name);
  const b = new Uint8Array(n.length + 2 + key.length);
  b.set(n);
  b[n.length] = 0x0a;
  b[n.length + 1] = type;
  b.set(key, n.length + 2);
  const h = await sha256(b);
  return new DataView(h.buffer).getUint32(0);
}

// parseVkey parses "name+hex8+base64(type || key)", splitting on the first
// two '+' only, and checks the key ID.
export async function parseVkey(text) {
  const i = text.indexOf('+'), j = text.indexOf('+', i + 1);
  if (i <= 0 || j < 0 || !/^[0-9a-f]{8}$/.test(text.slice(i + 1, j))) throw new NoteError('malformed verifier key');
  const name = text.slice(0, i), id = parseInt(text.slice(i + 1, j), 16);
  let raw;
  try { raw = fromBase64(text.slice(j + 1)); } catch { throw new NoteError('malformed verifier key'); }
  const type = raw[0], key = raw.subarray(1);
  const ed = (type === TYPE_ED25519 || type === TYPE_COSIGNATURE) && key.length === 32;
  if (!ed && !(type === TYPE_MLDSA44_COSIGNATURE && key.length === 1312)) throw new NoteError('unsupported verifier key type');
  if (await keyID(name, type, key) !== id) throw new NoteError('verifier key ID does not match its key');
  return { name, id, type, key, text };
}

// fingerprint is the hex SHA-256 of the vkey text, in groups of four.
export async function fingerprint(vkey) {
  return toHex(await sha256(utf8.encode(vkey))).slice(0, 32).match(/..../g).join(' ');
}

// parseNote splits a signed note into its text (with its final newline)
// and signature lines.
export function parseNote(note) {
  if (/[\x00-\x09\x0b-\x1f\x7f]/.test(note)) throw new NoteError('control characters in note');
  const k = note.lastIndexOf('\n\n');
  if (k < 0) throw new NoteError('no blank line in note');
  const text = note.slice(0, k + 1), lines = note.slice(k + 2);
  if (!lines.endsWith('\n')) throw new NoteError('unterminated signature line');
  const sigs = lines.slice(0, -1).split('\n').map(parseSigLine);
  if (sigs.length === 0) throw new NoteError('no signatures');
  return { text, sigs };
}

function parseSigLine(line) {
  const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
  if (!m) throw new NoteError('malformed signature line');
  const raw = fromBase64(m[2]);
  if (raw.length < 5) throw new NoteError('short signature');
  return { name: m[1], id: new DataView(raw.buffer).getUint32(0), sig: raw.subarray(4) };
}

export async function ed25519Verify(key, msg, sig) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, k, sig, msg);
}

const matches = (s, vk) => s.name === vk.name && s.id === vk.id;

// openNote verifies the note's signatures by the Ed25519 log keys (one
// key, or several during a key rotation): at least one must be there,
// and every one there must be valid. It returns the parsed note, with
// signedBy, the keys whose signature verified.
export async function openNote(note, logKeys) {
  const n = parseNote(note), keys = Array.isArray(logKeys) ? logKeys : [logKeys];
  n.signedBy = [];
  for (const k of keys) {
    const s = n.sigs.find((x) => matches(x, k));
    if (!s) continue;
    if (!await ed25519Verify(k.key, utf8.encode(n.text), s.sig)) throw new NoteError(`the signature by ${k.name}+${k.id.toString(16).padStart(8, '0')} does not verify`);
    n.signedBy.push(k);
  }
  if (!n.signedBy.length) throw new NoteError(`no signature by the pinned key ${keys.map((k) => `${k.name}+${k.id.toString(16).padStart(8, '0')}`).join(' or ')}`);
  return n;
}

// cosignatures checks the signatures of the known witness keys on a
// parsed note: [{name, id, ok, time}] for those present; ok is null for an
// ML-DSA-44 cosignature, which this page cannot verify.
export async function cosignatures(n, witnesses) {
  const out = [];
  for (const w of witnesses) {
    const s = n.sigs.find((x) => matches(x, w));
    if (s) out.push({ name: w.name, id: w.id, ...await verifyCosignature(w, n.text, s.sig) });
  }
  return out;
}

// verifyCosignature checks a type 0x04 cosignature: an 8-byte big-endian
// timestamp, then Ed25519 over "cosignature/v1\ntime T\n" + text.
export async function verifyCosignature(w, text, sig) {
  if (w.type === TYPE_MLDSA44_COSIGNATURE) {
    if (sig.length !== 8 + 2420) return { ok: false, time: null };
    return { ok: null, time: new Date(Number(new DataView(sig.buffer, sig.byteOffset).getBigUint64(0)) * 1000) };
  }
  if (sig.length !== 72) return { ok: false, time: null };
  const t = new DataView(sig.buffer, sig.byteOffset).getBigUint64(0);
  const msg = utf8.encode(`cosignature/v1\ntime ${t}\n${text}`);
  return { ok: await ed25519Verify(w.key, msg, sig.subarray(8)), time: new Date(Number(t) * 1000) };
}

// parseCheckpoint parses a checkpoint text: origin, size and root.
export function parseCheckpoint(text) {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[0] === '' || !/^(0|[1-9][0-9]*)$/.test(lines[1]) || !/^[A-Za-z0-9+/]{43}=$/.test(lines[2])) {
    throw new NoteError('malformed checkpoint');
  }
  const size = Number(lines[1]);
  if (!Number.isSafeInteger(size)) throw new NoteError('tree size too large for this page');
  return { origin: lines[0], size, root: fromBase64(lines[2]) };
}

export { equal };
