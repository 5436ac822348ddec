// page.js: what the pages verify in the browser. It pins the log key and
// the log's witnesses on the first visit (or takes them from the URL
// fragment #vkey=…&witness=…&quorum=K), checks the witnesses' cosignatures,
// verifies the published checkpoint with it, proves that the log is
// consistent with the last checkpoint this browser verified, and on entry
// and checkpoint pages proves inclusion and consistency from the tiles.
// Everything fetched is untrusted until checked against the pinned key.

import * as tlog from './tlog.js';
import * as note from './note.js';
import * as dsse from './dsse.js';
import * as vmap from './vmap.js';

const body = document.body;
// The pinned state is kept under the page's own origin (the scheme, host
// and port in the address bar), never under a name the server chooses,
// such as the log origin it says it serves: another log served at the
// same address meets the pins of the first, and is an alarm.
const prefix = `pledgelog@${location.origin}:`;
const stateKeys = ['vkey', 'witnesses', 'checkpoint', 'evidence'];
const store = {
  get: (k) => JSON.parse(localStorage.getItem(prefix + k) ?? 'null'),
  set: (k, v) => localStorage.setItem(prefix + k, JSON.stringify(v)),
  clear: () => stateKeys.forEach((k) => localStorage.removeItem(prefix + k)),
};
const $ = (id) => document.getElementById(id);

function show(el, cls, text) {
  if (!el) return;
  el.className = 'status ' + cls;
  el.textContent = text;
}

async function fetchBytes(path) {
  const r = await fetch('/' + path, { cache: path === 'checkpoint' ? 'no-store' : 'default' });
  if (!r.ok) throw new Error(`GET /${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const fetchTile = (path) => fetchBytes(path);

// fragment reads #vkey=…&witness=…&quorum=K (values percent-encoded or
// not; '+' is a literal plus, as in vkeys). vkey may be repeated: during
// a key rotation either key verifies.
function fragment() {
  const out = { vkeys: [], witnesses: [] };
  for (const part of location.hash.slice(1).split('&')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i), v = decodeURIComponent(part.slice(i + 1));
    if (k === 'vkey') out.vkeys.push(v);
    if (k === 'witness') out.witnesses.push(v);
    if (k === 'quorum' && /^[0-9]+$/.test(v)) out.quorum = Number(v);
  }
  return out;
}

const words = (s) => (s ?? '').split(' ').filter(Boolean);
const sameSet = (a, b) => !!a && !!b && a.length === b.length && a.every((x) => b.includes(x));
const plural = (n, word) => (n === 1 ? word : word.endsWith('s') ? word + 'es' : word + 's');

// migrate moves the state that older pages kept under the log origin the
// server named (pledgelog:<log origin>:…) to this page origin's keys,
// once. If several logs were pinned here (an older page re-pinned
// silently when the server named another origin), the first pinned is
// kept: a log at this address that is not that one is an alarm.
function migrate() {
  if (localStorage.getItem(prefix + 'vkey') !== null) return;
  const old = [];
  for (let i = 0; i < localStorage.length; i++) {
    const m = /^pledgelog:(.*):vkey$/.exec(localStorage.key(i));
    if (m) old.push(m[1]);
  }
  const since = (o) => { try { return JSON.parse(localStorage.getItem(`pledgelog:${o}:vkey`)).since ?? ''; } catch { return ''; } };
  old.sort((a, b) => since(a).localeCompare(since(b)));
  if (old.length) {
    for (const k of stateKeys) {
      const v = localStorage.getItem(`pledgelog:${old[0]}:${k}`);
      if (v !== null) localStorage.setItem(prefix + k, v);
    }
  }
  for (const o of old) for (const k of stateKeys) localStorage.removeItem(`pledgelog:${o}:${k}`);
}

// parseKeys parses vkeys, so that nothing invalid is ever pinned.
async function parseKeys(vkeys) {
  const out = [];
  for (const k of vkeys) out.push(await note.parseVkey(k));
  return out;
}

// pinnedKey returns the keys and witnesses to trust and what to say
// about them. The log keys and the witness set (with the fewest of them
// that meet the quorum) are pinned on the first visit, from the link's
// fragment or else from what the server says. Once pinned, neither the
// server nor a link replaces them: a server naming another log or key is
// an alarm, and a link naming other keys or witnesses is offered (offer)
// for the reader to pin with a button, because a server can send the
// browser to a link of its choosing.
async function pinnedKey() {
  migrate();
  const frag = fragment(), served = body.dataset.vkey, announced = words(body.dataset.vkeys || served), alarms = [], notes = [];
  const now = new Date().toISOString();
  const offer = {};
  let pin = store.get('vkey');
  if (pin && !pin.vkeys) pin = { ...pin, vkeys: [pin.vkey] }; // pinned by an older page
  if (!pin) {
    const vkeys = frag.vkeys.length ? frag.vkeys : [served];
    await parseKeys(vkeys);
    pin = { vkey: vkeys[0], vkeys, since: now, from: frag.vkeys.length ? 'the link you followed' : 'this server, on your first visit' };
    store.set('vkey', pin);
  } else if (frag.vkeys.length && !sameSet(pin.vkeys, frag.vkeys)) {
    await parseKeys(frag.vkeys);
    offer.vkeys = frag.vkeys;
    notes.push(`WARNING: the link you followed names the log ${plural(frag.vkeys.length, 'key')} ${frag.vkeys.join(', ')}, not the ${plural(pin.vkeys.length, 'key')} your browser pinned; this page keeps verifying with the pinned ${plural(pin.vkeys.length, 'key')}. Pin the link's only if you got it from a source you trust (the log announced a key rotation).`);
  }
  const pinnedLog = pin.vkey.slice(0, pin.vkey.indexOf('+'));
  if (body.dataset.origin !== pinnedLog) alarms.push(`ALARM: this address served the log ${pinnedLog} when your browser pinned its key, and now says it serves the log ${body.dataset.origin}. A log does not change its name: the server or the page may be compromised, or another log was put at this address.`);
  if (!announced.some((k) => pin.vkeys.includes(k))) alarms.push(`ALARM: the server now presents another log key (${served}) than the one your browser pinned. A log does not change its key silently: the server or the page may be compromised.`);
  else if (announced.some((k) => !pin.vkeys.includes(k))) notes.push(`The server also presents the log key ${announced.filter((k) => !pin.vkeys.includes(k)).join(', ')} (a key rotation?). This page still trusts only the pinned key: pin the new one from a link you trust.`);
  const keys = await parseKeys(pin.vkeys);

  let wpin = store.get('witnesses');
  if (Array.isArray(wpin)) wpin = { vkeys: wpin, quorum: 1, from: 'the link you followed', since: '' }; // pinned by an older page
  const servedW = words(body.dataset.witnesses), servedQ = Number(body.dataset.witnessQuorum || 0);
  if (frag.witnesses.length) {
    const fw = { vkeys: frag.witnesses, quorum: Math.min(frag.quorum ?? 1, frag.witnesses.length), from: 'the link you followed', since: now };
    await parseKeys(fw.vkeys);
    if (!wpin) {
      wpin = fw;
      store.set('witnesses', wpin);
    } else if (!sameSet(wpin.vkeys, fw.vkeys) || wpin.quorum !== fw.quorum) {
      offer.witnesses = fw;
      notes.push(`WARNING: the link you followed names other witnesses (${fw.vkeys.map((w) => w.split('+')[0]).join(', ')}, quorum ${fw.quorum}) than the ones your browser pinned; this page keeps checking the pinned ones.`);
    }
  } else if (!wpin && servedW.length) {
    await parseKeys(servedW);
    wpin = { vkeys: servedW, quorum: servedQ, from: 'this server, on your first visit', since: now };
    store.set('witnesses', wpin);
  }
  if (wpin && servedW.length && !sameSet(wpin.vkeys, servedW)) notes.push('WARNING: the server now names other witnesses than the ones your browser pinned: this page keeps checking the pinned ones.');
  const witnesses = await parseKeys(wpin?.vkeys ?? []);
  return { pin, keys, key: keys[0], witnesses, wpin, alarms, notes, offer: offer.vkeys || offer.witnesses ? offer : null };
}

// witnessed judges the pinned witnesses' cosignatures on a verified note
// and lists each pinned witness with what became of it in #trust-witnesses.
// A bad cosignature is an alarm, and so is a checkpoint that fewer pinned
// witnesses cosigned than the pinned quorum; a pinned witness's missing
// cosignature with the quorum still met is a warning (the witness may be
// down, or the log may be hiding this checkpoint from it).
async function witnessed(n, trust, said) {
  const cosigs = await note.cosignatures(n, trust.witnesses);
  const bad = cosigs.filter((c) => c.ok === false), good = cosigs.filter((c) => c.ok === true);
  const unverifiable = cosigs.filter((c) => c.ok === null);
  const missing = trust.witnesses.filter((w) => !cosigs.some((c) => c.name === w.name && c.id === w.id));
  showWitnesses(trust.witnesses, cosigs);
  if (bad.length) said.push(`ALARM: the cosignature of ${bad.map((c) => c.name).join(', ')} does not verify.`);
  if (unverifiable.length) said.push(`The ML-DSA-44 cosignature of ${unverifiable.map((c) => c.name).join(', ')} is there but this page cannot verify ML-DSA-44: check it with pledge-verify.`);
  const q = trust.wpin?.quorum ?? 0;
  if (trust.witnesses.length && good.length < q) {
    const of = `only ${good.length} of the ${trust.witnesses.length} pinned witnesses cosigned this checkpoint verifiably, fewer than the pinned quorum of ${q}` + (missing.length ? ` (missing: ${missing.map((w) => w.name).join(', ')})` : '');
    said.push(good.length + unverifiable.length >= q ? `WARNING: ${of}, unless the ML-DSA-44 ones count.` : `ALARM: ${of}.`);
  } else if (missing.length) {
    said.push(`WARNING: the pinned ${plural(missing.length, 'witness')} ${missing.map((w) => w.name).join(', ')} did not cosign this checkpoint; the quorum of ${q} holds without ${missing.length === 1 ? 'it' : 'them'}. A witness may be down, or the log may be hiding this checkpoint from it.`);
  }
  return good.map((c) => `${c.name} at ${c.time.toISOString()}`);
}

// showWitnesses lists the pinned witnesses: each one's cosignature of the
// verified checkpoint and its time, or why there is none.
function showWitnesses(witnesses, cosigs) {
  const ul = $('trust-witnesses');
  if (!ul) return;
  ul.replaceChildren();
  for (const w of witnesses) {
    const c = cosigs.find((x) => x.name === w.name && x.id === w.id), li = document.createElement('li');
    li.dataset.witness = w.name;
    if (!c) [li.className, li.textContent] = ['alarm-text', `${w.name}: MISSING, no cosignature on this checkpoint`];
    else if (c.ok === false) [li.className, li.textContent] = ['alarm-text', `${w.name}: BAD, its cosignature does not verify`];
    else if (c.ok === null) li.textContent = `${w.name}: ML-DSA-44 cosignature dated ${c.time.toISOString()}, not verifiable in this page`;
    else li.textContent = `${w.name}: cosigned at ${c.time.toISOString()}, verified`;
    ul.append(li);
  }
  ul.hidden = witnesses.length === 0;
}

// showKey says which keys are pinned, in #trust-key. On a narrow screen
// (style.css) only its brief line shows, the first key's fingerprint,
// with a button that shows the rest; the rest shows by itself when a
// link offers other keys.
async function showKey(pin, wpin, offer) {
  const el = $('trust-key');
  const fps = [], brief = document.createElement('span'), toggle = document.createElement('button'), more = document.createElement('span');
  for (const k of pin.vkeys) fps.push(`${k}, fingerprint ${await note.fingerprint(k)}`);
  brief.className = 'key-brief';
  brief.textContent = `Pinned key, fingerprint ${await note.fingerprint(pin.vkeys[0])}${fps.length > 1 ? ` and ${fps.length - 1} more` : ''}. `;
  toggle.type = 'button';
  toggle.className = 'key-toggle';
  toggle.textContent = 'Details';
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-controls', 'trust-key-more');
  toggle.addEventListener('click', () => toggle.setAttribute('aria-expanded', String(el.classList.toggle('open'))));
  more.className = 'key-more';
  more.id = 'trust-key-more';
  more.textContent = `Pinned log key${fps.length > 1 ? 's' : ''} ${fps.join('; ')}, from ${pin.from} (${pin.since.slice(0, 10)}). Compare the fingerprint with one you got elsewhere. ` +
    (wpin?.vkeys.length ? `Pinned witnesses (quorum ${wpin.quorum} of ${wpin.vkeys.length}, from ${wpin.from}): ${wpin.vkeys.map((w) => w.split('+')[0]).join(', ')}. ` : '');
  const open = !!offer || el.classList.contains('open'); // the home page shows the key again every 15 s
  el.classList.toggle('open', open);
  toggle.setAttribute('aria-expanded', String(open));
  el.replaceChildren(brief, toggle, more);
  const button = (id, text, click) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.id = id;
    b.textContent = text;
    b.addEventListener('click', click);
    more.append(b, ' ');
  };
  if (offer) button('pin-link', 'Pin the keys of the link you followed instead', () => { pinOffer(offer); location.reload(); });
  button('forget', 'Forget the pinned key and checkpoint', () => { store.clear(); location.reload(); });
}

// pinOffer pins what the reader chose to trust from a link. The last
// verified checkpoint is kept if the log keeps its name (a rotated key
// must sign the same tree), and forgotten for another log.
function pinOffer(offer) {
  const since = new Date().toISOString(), from = 'a link you followed and chose to pin';
  const name = (k) => k.slice(0, k.indexOf('+'));
  if (offer.vkeys) {
    if (name(offer.vkeys[0]) !== name(store.get('vkey')?.vkey ?? '')) ['checkpoint', 'evidence'].forEach((k) => store.set(k, null));
    store.set('vkey', { vkey: offer.vkeys[0], vkeys: offer.vkeys, since, from });
  }
  if (offer.witnesses) store.set('witnesses', { ...offer.witnesses, since, from });
}

// consistency proves that the stored checkpoint is a prefix of cp, or cp
// of it. It returns a sentence, or throws an Error that is an alarm.
async function consistency(last, cp) {
  if (!last) return 'This is the first checkpoint your browser verified for this log: later visits prove that the log only grew since.';
  const lastRoot = tlog.fromBase64(last.root);
  if (last.size === cp.size) {
    if (!tlog.equal(lastRoot, cp.root)) throw new Error(`ALARM: split view. The log signed two different trees of size ${cp.size}: root ${last.root} (seen ${last.seen}) and now ${tlog.toBase64(cp.root)}.`);
    return `Same tree as on your last visit (size ${cp.size}).`;
  }
  const [small, big, smallRoot, bigRoot] = last.size < cp.size ? [last.size, cp.size, lastRoot, cp.root] : [cp.size, last.size, cp.root, lastRoot];
  const tiles = new tlog.Tiles(big, fetchTile);
  try {
    await tlog.verifyConsistency(small, big, await tiles.consistency(small), smallRoot, bigRoot);
  } catch (e) {
    if (e instanceof tlog.ProofError) throw new Error(`ALARM: the log's tree of size ${cp.size} is not consistent with the tree of size ${last.size} your browser verified on ${last.seen}: ${e.message}. The log forked or rewrote history.`);
    throw new Error(`ALARM: the log's tree of size ${cp.size} could not be proven consistent with the tree of size ${last.size} your browser verified on ${last.seen}: ${e.message}. A log serves the tiles of every tree it signed.`);
  }
  if (last.size > cp.size) return `WARNING: the server shows an older tree (size ${cp.size}) than the one you saw (size ${last.size}); they are consistent (a cache may be behind).`;
  return `Consistent with the tree of size ${last.size} your browser verified on ${last.seen.slice(0, 10)}: proven from ${tiles.fetched.length} tiles.`;
}

// showEvidence shows what contradicts: the checkpoint verified before
// and the signed checkpoint the server serves now. Keep them: both are
// signed by the log, so together they prove that it misbehaved.
function showEvidence(ev) {
  const d = document.createElement('details'), s = document.createElement('summary'), pre = document.createElement('pre');
  d.id = 'evidence';
  s.textContent = 'Evidence (also kept in this browser\'s storage)';
  pre.className = 'note';
  pre.textContent = `Verified before, on ${ev.pinned.seen}: tree size ${ev.pinned.size}, root ${ev.pinned.root}\n\nServed now, at ${ev.at}:\n${ev.served}`;
  d.append(s, pre);
  $('evidence')?.remove();
  $('trust-key').after(d);
}

// checkLog verifies the published checkpoint and its consistency with the
// last one verified here, and shows the result. It returns the verified
// checkpoint, or null.
async function checkLog() {
  const status = $('trust-status');
  if (!await note.hasEd25519()) {
    show(status, 'warn', 'This browser\'s WebCrypto cannot verify Ed25519 signatures, so this page cannot check the log. Use pledge-verify (see Verify it yourself) or a current browser.');
    return null;
  }
  let trust;
  try {
    trust = await pinnedKey();
  } catch (e) {
    show(status, 'alarm', `ALARM: the log key to pin is not valid: ${e.message}.`);
    return null;
  }
  await showKey(trust.pin, trust.wpin, trust.offer);
  const text = new TextDecoder().decode(await fetchBytes('checkpoint'));
  let n, cp;
  try {
    n = await note.openNote(text, trust.keys);
    cp = note.parseCheckpoint(n.text);
    if (cp.origin !== trust.key.name) throw new Error(`it names the origin ${cp.origin}, not ${trust.key.name}`);
  } catch (e) {
    show(status, 'alarm', [...trust.alarms, `ALARM: the log's checkpoint does not verify with the pinned key: ${e.message}.`, ...trust.notes].join(' '));
    return null;
  }
  const said = [...trust.alarms, ...trust.notes];
  const good = await witnessed(n, trust, said);
  const last = store.get('checkpoint');
  let alarm = said.some((s) => s.startsWith('ALARM'));
  try {
    said.push(await consistency(last, cp));
  } catch (e) {
    said.push(e.message);
    alarm = true;
    const evidence = { pinned: last, served: text, at: new Date().toISOString() };
    store.set('evidence', evidence);
    showEvidence(evidence);
  }
  const head = `Verified: the log's checkpoint of size ${cp.size} is signed by the pinned key` +
    (good.length ? ` and cosigned by ${good.join(', ')}.` : (trust.witnesses.length ? '; no pinned witness cosigned it.' : '; no witness keys pinned.'));
  if (alarm) {
    show(status, 'alarm', [...said, head].join(' '));
    return null;
  }
  if (!last || cp.size >= last.size) store.set('checkpoint', { size: cp.size, root: tlog.toBase64(cp.root), seen: new Date().toISOString() });
  show(status, said.some((s) => s.startsWith('WARNING')) ? 'warn' : 'ok', [head, ...said].join(' '));
  return { cp, key: n.signedBy[0], keys: trust.keys, text };
}

// proveEntry proves the entry of an entry page in the verified checkpoint.
async function proveEntry(v) {
  const sec = $('proof'), result = $('proof-result'), steps = $('proof-steps');
  if (!sec || !result) return;
  if (!v) {
    show(result, 'alarm', 'Not proven: the log\'s checkpoint could not be verified (see above).');
    return;
  }
  const step = (cls, text) => { const li = document.createElement('li'); li.className = cls; li.textContent = text; steps.append(li); };
  const index = Number(sec.dataset.index), leaf = tlog.fromBase64(sec.dataset.leaf);
  if (index >= v.cp.size) {
    show(result, 'warn', `Not proven yet: the verified checkpoint (size ${v.cp.size}) does not include entry #${index}. Reload in a moment.`);
    return;
  }
  const lh = await tlog.leafHash(leaf);
  step('ok', `The entry shown below hashes to leaf ${tlog.toBase64(lh)}.`);
  step('ok', `The checkpoint of size ${v.cp.size}, root ${tlog.toBase64(v.cp.root)}, is signed by the pinned key ${v.key.name}+${v.key.id.toString(16).padStart(8, '0')}.`);
  const tiles = new tlog.Tiles(v.cp.size, fetchTile);
  try {
    const proof = await tiles.inclusion(index);
    step('ok', `Fetched ${tiles.fetched.join(', ')}; the audit path has ${proof.length} hashes.`);
    await tlog.verifyInclusion(lh, index, v.cp.size, proof, v.cp.root);
  } catch (e) {
    step('bad', e.message);
    show(result, 'alarm', `FAILED: entry #${index} is not proven in the log's signed tree of size ${v.cp.size}: ${e.message}. The server sent tiles or an entry that do not match its signed checkpoint.`);
    return;
  }
  show(result, 'ok', `Proven: entry #${index} (leaf hash ${tlog.toBase64(lh)}) is in the log's tree of size ${v.cp.size}, whose root the pinned log key signed. The path was recomputed in your browser with SHA-256.`);
  checkStatement(leaf);
  await checkSignatures(leaf);
}

// checkSignatures verifies the proven entry's DSSE signatures with the
// keys the page names (each proven by its own registry entry's page).
async function checkSignatures(leaf) {
  const el = $('sig-check'), keys = new Map();
  for (const li of document.querySelectorAll('li[data-keyid]')) keys.set(li.dataset.keyid, { type: li.dataset.type, spki: li.dataset.spki });
  try {
    const env = JSON.parse(new TextDecoder().decode(leaf));
    const ids = await dsse.verifyEnvelope(env, keys);
    el.className = 'small';
    el.textContent = `Signatures verified in your browser: ${ids.map((id) => id.slice(0, 16) + '…').join(' and ')} signed PAE(payloadType, payload) of the proven entry. Whether a key belonged to its signatory at this index is what its registry entry (linked) and pledge-verify audit prove.`;
  } catch (e) {
    el.className = 'alarm';
    el.textContent = `ALARM: a signature of the proven entry does not verify: ${e.message}.`;
  }
}

// checkStatement says whether the statement shown is the proven entry's.
function checkStatement(leaf) {
  const el = $('statement-check'), pre = $('statement');
  try {
    const env = JSON.parse(new TextDecoder().decode(leaf));
    const payload = new TextDecoder().decode(tlog.fromBase64(env.payload));
    const mine = JSON.stringify(JSON.parse(payload), null, 2);
    if (mine === pre.textContent) {
      el.textContent = 'The statement shown is the payload of the proven entry (checked in your browser).';
    } else {
      el.className = 'alarm';
      el.textContent = 'ALARM: the statement the server showed is not the payload of the proven entry; the proven payload is shown instead.';
      pre.textContent = mine;
    }
  } catch (e) {
    el.className = 'alarm';
    el.textContent = `The proven entry could not be decoded: ${e.message}`;
  }
}

// checkConsistency proves the consistency of two checkpoints of the
// history table, on the checkpoints page.
async function checkConsistency(v, ev) {
  ev.preventDefault();
  const result = $('consistency-result');
  if (!v) return show(result, 'alarm', 'Not checked: the log\'s checkpoint could not be verified (see above).');
  const a = Number($('c-from').value), b = Number($('c-to').value), [m, n] = a <= b ? [a, b] : [b, a];
  show(result, 'pending', `Checking ${m} → ${n}…`);
  try {
    const [cm, cn] = await Promise.all([m, n].map(async (size) => {
      const text = document.querySelector(`tr[data-size="${size}"] pre[data-note]`).textContent;
      return note.parseCheckpoint((await note.openNote(text, v.keys)).text);
    }));
    const tiles = new tlog.Tiles(n, fetchTile);
    const proof = await tiles.consistency(m);
    await tlog.verifyConsistency(m, n, proof, cm.root, cn.root);
    show(result, 'ok', `Proven: the tree of size ${m} is a prefix of the tree of size ${n}. Both checkpoints verify with the pinned key; the ${proof.length}-hash proof was computed from ${tiles.fetched.length} tiles and checked in your browser.`);
  } catch (e) {
    show(result, 'alarm', `ALARM: no consistency between sizes ${m} and ${n}: ${e.message}`);
  }
}

// mapLookup asks /api/v1/map for one leaf and proves the answer from the
// pinned key alone: its checkpoint verifies with the pinned key, is the
// verified one or consistent with it, commits to the map root the proof
// leads to, and the label is the one recomputed here. It returns the
// leaf's value (null if proven absent) and the checkpoint's size.
async function mapLookup(v, query, label) {
  const r = await fetch('/api/v1/map?' + new URLSearchParams(query), { cache: 'no-store' });
  if (!r.ok) throw new Error(`GET /api/v1/map: HTTP ${r.status}`);
  const a = await r.json();
  const { cp, root } = await mapCheckpoint(v, a.checkpoint ?? '');
  const value = a.value == null ? null : tlog.fromBase64(a.value);
  const proof = vmap.parseProof(a.proof);
  if (value) await vmap.verifyMembership(label, value, proof, root);
  else await vmap.verifyNonMembership(label, proof, root);
  return { value, size: cp.size };
}

// mapCheckpoints memoizes mapCheckpoint by checkpoint text: a page's
// lookups are answered against one checkpoint, checked once.
const mapCheckpoints = new Map();

// mapCheckpoint checks the checkpoint of a /api/v1/map answer: signed by
// the pinned key, for the verified checkpoint's origin, the verified one
// or consistent with it; it returns it with the map root it commits to.
function mapCheckpoint(v, text) {
  if (!mapCheckpoints.has(text)) {
    mapCheckpoints.set(text, (async () => {
      const n = await note.openNote(text, v.keys);
      const cp = note.parseCheckpoint(n.text);
      if (cp.origin !== v.cp.origin) throw new vmap.MapError(`its checkpoint names the origin ${cp.origin}`);
      if (cp.size === v.cp.size) {
        if (!tlog.equal(cp.root, v.cp.root)) throw new vmap.MapError(`split view: its checkpoint of size ${cp.size} has another root than the verified one`);
      } else {
        const [m, big] = cp.size < v.cp.size ? [cp, v.cp] : [v.cp, cp];
        const proof = await new tlog.Tiles(big.size, fetchTile).consistency(m.size);
        await tlog.verifyConsistency(m.size, big.size, proof, m.root, big.root);
      }
      const root = vmap.mapRoot(n.text);
      if (!root) throw new vmap.MapError(`its checkpoint of size ${cp.size} commits to no map`);
      return { cp, root };
    })());
  }
  return mapCheckpoints.get(text);
}

// proveSignatory proves the signatory page's registry record from the
// map: the signatory's leaf (where it registered, how many keys it has
// had) and each key's (added, revoked, void from), against what the page
// shows.
async function proveSignatory(v) {
  const el = $('map-proof');
  if (!el) return;
  if (!v) return show(el, 'alarm', 'Not proven: the log\'s checkpoint could not be verified (see above).');
  const id = el.dataset.signatory, keys = JSON.parse(el.dataset.keys);
  const wrong = [];
  let size;
  try {
    const p = await mapLookup(v, { signatory: id }, await vmap.mapLabel(vmap.PRINCIPAL, id));
    size = p.size;
    if (!p.value) throw new vmap.MapError(`the map proves that ${id} is not registered`);
    const st = vmap.parsePrincipal(p.value);
    if (st.registered !== Number(el.dataset.registered)) wrong.push(`registered at #${st.registered}, not #${el.dataset.registered}`);
    if (st.keys !== keys.length) wrong.push(`${st.keys} ${plural(st.keys, 'key')} in the map, ${keys.length} shown`);
    for (const k of keys) {
      const q = await mapLookup(v, { signatory: id, keyid: k.id }, await vmap.mapLabel(vmap.KEY, id, k.id));
      if (!q.value) { wrong.push(`key ${k.id.slice(0, 16)}… is not in the map`); continue; }
      const ks = vmap.parseKey(q.value);
      const says = (x) => (x == null ? 'none' : '#' + x);
      if (ks.added !== k.added || ks.revoked !== k.revoked || ks.voidFrom !== k.voidFrom) {
        wrong.push(`key ${k.id.slice(0, 16)}…: the map says added ${says(ks.added)}, revoked ${says(ks.revoked)}, void from ${says(ks.voidFrom)}`);
      }
    }
  } catch (e) {
    return show(el, 'alarm', `ALARM: the registry map does not prove this signatory's record: ${e.message}.`);
  }
  if (wrong.length) return show(el, 'alarm', `ALARM: the page contradicts the registry map the signed checkpoint of size ${size} commits to: ${wrong.join('; ')}.`);
  show(el, 'ok', `Proven in your browser: the registry map that the signed checkpoint of size ${size} commits to holds this signatory, registered at #${el.dataset.registered}, and its ${keys.length} ${plural(keys.length, 'key')} in the states shown (membership proofs recomputed with SHA-256).`);
}

// proveAccord proves the accord page's entry index and digest from the
// map's leaf of the accord.
async function proveAccord(v) {
  const el = $('map-proof');
  if (!el) return;
  if (!v) return show(el, 'alarm', 'Not proven: the log\'s checkpoint could not be verified (see above).');
  const id = el.dataset.accord;
  try {
    const p = await mapLookup(v, { accord: id }, await vmap.mapLabel(vmap.ACCORD, id));
    if (!p.value) throw new vmap.MapError(`the map proves that the log holds no accord ${id}`);
    const a = vmap.parseAccord(p.value);
    if (a.index !== Number(el.dataset.index) || tlog.toHex(a.digest) !== el.dataset.digest) {
      return show(el, 'alarm', `ALARM: the page contradicts the registry map the signed checkpoint of size ${p.size} commits to: the accord is entry #${a.index} with digest ${tlog.toHex(a.digest)}.`);
    }
    show(el, 'ok', `Proven in your browser: the registry map that the signed checkpoint of size ${p.size} commits to holds this accord, logged at #${a.index}, with the digest shown.`);
  } catch (e) {
    show(el, 'alarm', `ALARM: the registry map does not prove this accord: ${e.message}.`);
  }
}

async function main() {
  let v = null;
  try {
    v = await checkLog();
  } catch (e) {
    show($('trust-status'), 'alarm', `Could not check the log: ${e.message}.`);
  }
  if (body.dataset.page === 'entry') await proveEntry(v);
  if (body.dataset.page === 'signatory') await proveSignatory(v);
  if (body.dataset.page === 'accord') await proveAccord(v);
  if (body.dataset.page === 'checkpoints') {
    $('consistency-form').addEventListener('submit', (ev) => checkConsistency(v, ev));
    const to = $('c-from');
    if (to.options.length > 1) to.selectedIndex = to.options.length - 1;
  }
  if (body.dataset.page === 'home') setInterval(refresh, 15000);
  // A link that changes only the fragment (#vkey=…) loads no page: check it.
  window.addEventListener('hashchange', () => location.reload());
  body.dataset.checked = v ? 'ok' : 'alarm';
}

// refresh re-verifies the log and updates the size shown (the home page).
async function refresh() {
  const v = await checkLog().catch(() => null);
  if (v && $('log-size')) $('log-size').textContent = String(v.cp.size);
}

main();
