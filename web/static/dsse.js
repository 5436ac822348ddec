// dsse.js: DSSE envelope signatures (PAE) verified with WebCrypto, for the
// two key types of pledgelog: Ed25519 and ECDSA P-256 (DER, SHA-256). A
// key id is the hex SHA-256 of the key's DER SubjectPublicKeyInfo.

import { sha256, toHex, fromBase64 } from './tlog.js';

const utf8 = new TextEncoder();

// pae is DSSE's pre-authentication encoding of payloadType and payload.
export function pae(type, payload) {
  const t = utf8.encode(type);
  const head = utf8.encode(`DSSEv1 ${t.length} ${type} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

// derToRaw turns a DER ECDSA signature into the 64 bytes r || s.
export function derToRaw(der) {
  if (der[0] !== 0x30 || der[2] !== 0x02) throw new Error('not a DER ECDSA signature');
  const rLen = der[3], r = der.subarray(4, 4 + rLen);
  if (der[4 + rLen] !== 0x02) throw new Error('not a DER ECDSA signature');
  const s = der.subarray(6 + rLen, 6 + rLen + der[5 + rLen]);
  const out = new Uint8Array(64);
  const put = (x, at) => {
    const v = x.subarray(Math.max(0, x.length - 32));
    if (x.length > 33 || (x.length === 33 && x[0] !== 0)) throw new Error('ECDSA integer too long');
    out.set(v, at + 32 - v.length);
  };
  put(r, 0);
  put(s, 32);
  return out;
}

// verifySignature checks one DSSE signature by the key of type ('ed25519'
// or 'ecdsa-p256') with DER SPKI spki, named keyid. It throws on failure.
export async function verifySignature(type, spki, keyid, message, sig) {
  if (toHex(await sha256(spki)) !== keyid) throw new Error(`the key does not hash to its id ${keyid}`);
  let ok;
  if (type === 'ed25519') {
    const k = await crypto.subtle.importKey('spki', spki, { name: 'Ed25519' }, false, ['verify']);
    ok = await crypto.subtle.verify({ name: 'Ed25519' }, k, sig, message);
  } else if (type === 'ecdsa-p256') {
    const k = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, k, derToRaw(sig), message);
  } else {
    throw new Error(`unknown key type ${type}`);
  }
  if (!ok) throw new Error(`the signature by key ${keyid.slice(0, 16)}… does not verify`);
}

// verifyEnvelope checks every signature of the envelope (the parsed
// canonical leaf) with keys, a Map from key id to {type, spki (base64)}.
// It returns the ids of the keys that signed.
export async function verifyEnvelope(env, keys) {
  const message = pae(env.payloadType, fromBase64(env.payload));
  const ids = [];
  for (const s of env.signatures) {
    const k = keys.get(s.keyid);
    if (!k) throw new Error(`no key ${s.keyid.slice(0, 16)}… is known`);
    await verifySignature(k.type, fromBase64(k.spki), s.keyid, message, fromBase64(s.sig));
    ids.push(s.keyid);
  }
  return ids;
}
