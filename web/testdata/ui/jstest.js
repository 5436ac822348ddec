// The browser tests of tlog.js and note.js, against known vectors. The Go
// test (web/uijs_test.go) loads /jstest.html and reads #results once
// body[data-done] is set. Vectors: RFC 6962 leaves and roots from
// transparency-dev/merkle testonly/constants.go (Apache-2.0); the signed
// note from c2sp.org/signed-note; the cosigned checkpoint of verify/cosignature_test.go (fixed seeds,
// checked there with transparency-dev/formats).
import * as tlog from '/static/tlog.js';
import * as note from '/static/note.js';
import * as dsse from '/static/dsse.js';

const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const roots = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const c2spVkey = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const c2spNote = 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
const sofaVkey = 'example.com/behind-the-sofa+785a0da4+AaxMR+jgU7jquHw1bVYLFlbKP1dMJpUPvz2B2VXlckTA';
const sofaWitness = 'witness.example.com/w1+261afb8b+BJDv2HnWEc4IFq3bpKSLT9dcie6/ToZYVGqODIfVebBC';
const sofaNote = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
  '\u2014 example.com/behind-the-sofa eFoNpCmkJXUlTGQ6hUJ3IhXSb/d/0fjUZVhnDc4A+XCGqJNwpJb+vME+PQnY+APfhH0JTcDCQScMvX1rLoA9gfUZkQU=\n' +
  '\u2014 witness.example.com/w1 Jhr7iwAAAABkGFDLbtAmaFn7GRqIFfQKf5U3ThEUjCbV6mY559WM5GA9VJfwcLT4SUVi1hnOy+0h4YEfeNXxD3FgSih8U71j/nxyCw==\n';

const failures = [];
let checks = 0;
function check(ok, what) {
  checks++;
  if (!ok) failures.push(what);
}
async function throws(p) {
  try { await p; return false; } catch { return true; }
}

// tilesOf serves the tiles of a tree of leaf hashes at size.
async function tilesOf(hashes, size) {
  const files = new Map();
  let level = hashes.slice(0, size);
  for (let l = 0; level.length > 0; l++) {
    for (let n = 0; n * 256 < level.length; n++) {
      const part = level.slice(n * 256, n * 256 + 256);
      const b = new Uint8Array(32 * part.length);
      part.forEach((h, i) => b.set(h, 32 * i));
      files.set(tlog.tilePath(l, n, part.length), b);
    }
    const up = [];
    for (let n = 0; (n + 1) * 256 <= level.length; n++) up.push(await tlog.rootOf(level.slice(n * 256, n * 256 + 256)));
    level = up;
  }
  return new tlog.Tiles(size, async (p) => {
    if (!files.has(p)) throw new Error('no tile ' + p);
    return files.get(p);
  });
}

async function testRoots() {
  const hashes = await Promise.all(leaves.map((l) => tlog.leafHash(tlog.fromHex(l))));
  for (let n = 0; n <= 8; n++) {
    const r = tlog.toHex(await tlog.rootOf(hashes.slice(0, n)));
    check(r === roots[n], `rootOf(${n}) = ${r}, want ${roots[n]}`);
  }
  for (let n = 1; n <= 8; n++) {
    const t = await tilesOf(hashes, n);
    check(tlog.toHex(await t.subtree(0, n)) === roots[n], `Tiles(${n}).subtree = wrong root`);
    for (let i = 0; i < n; i++) {
      const p = await t.inclusion(i);
      check(!await throws(tlog.verifyInclusion(hashes[i], i, n, p, tlog.fromHex(roots[n]))), `inclusion(${i}, ${n}) fails`);
      check(await throws(tlog.verifyInclusion(hashes[(i + 1) % n], i, n, p, tlog.fromHex(roots[n]))) || n === 1, `inclusion(${i}, ${n}) accepts another leaf`);
    }
    for (let m = 1; m < n; m++) {
      const p = await t.consistency(m);
      const ok = !await throws(tlog.verifyConsistency(m, n, p, tlog.fromHex(roots[m]), tlog.fromHex(roots[n])));
      check(ok, `consistency(${m}, ${n}) fails`);
      check(await throws(tlog.verifyConsistency(m, n, p, tlog.fromHex(roots[m - 1]), tlog.fromHex(roots[n]))), `consistency(${m}, ${n}) accepts a wrong old root`);
    }
  }
}

// testBigTree checks proofs across tiles against rootOf, and that a
// flipped hash in a tile breaks them.
async function testBigTree() {
  const hashes = [];
  for (let i = 0; i < 600; i++) hashes.push(await tlog.leafHash(new TextEncoder().encode('entry ' + i)));
  for (const n of [256, 257, 511, 600]) {
    const root = await tlog.rootOf(hashes.slice(0, n)), t = await tilesOf(hashes, n);
    check(tlog.equal(await t.subtree(0, n), root), `Tiles(${n}) root differs from rootOf`);
    for (const i of [0, 1, 255, n - 1]) {
      const p = await t.inclusion(i);
      check(!await throws(tlog.verifyInclusion(hashes[i], i, n, p, root)), `inclusion(${i}, ${n}) fails`);
    }
    for (const m of [1, 7, 256, n - 1]) {
      const p = await t.consistency(m), r1 = await tlog.rootOf(hashes.slice(0, m));
      check(!await throws(tlog.verifyConsistency(m, n, p, r1, root)), `consistency(${m}, ${n}) fails`);
      if (p.length > 0) {
        p[0] = p[0].slice();
        p[0][0] ^= 1;
        check(await throws(tlog.verifyConsistency(m, n, p, r1, root)), `consistency(${m}, ${n}) accepts a flipped hash`);
      }
    }
  }
}

function testTilePaths() {
  const cases = [[0, 0, 256, 'tile/0/000'], [0, 999, 3, 'tile/0/999.p/3'], [1, 1000, 256, 'tile/1/x001/000'],
    [3, 1234067, 1, 'tile/3/x001/x234/067.p/1'], ['entries', 1000000, 256, 'tile/entries/x001/x000/000']];
  for (const [l, n, w, want] of cases) {
    const got = tlog.tilePath(l, n, w);
    check(got === want, `tilePath(${l}, ${n}, ${w}) = ${got}, want ${want}`);
  }
  check(tlog.tileWidth(0, 273, 70000) === 112 && tlog.tileWidth(1, 1, 70000) === 17 && tlog.tileWidth(2, 0, 70000) === 1, 'tileWidth(70000)');
  const b = tlog.parseBundle(tlog.fromHex('00036f6e65000374776f00057468726565'));
  check(b.length === 3 && new TextDecoder().decode(b[2]) === 'three', 'parseBundle');
}

async function testNotes() {
  const vk = await note.parseVkey(c2spVkey);
  check(!await throws(note.openNote(c2spNote, vk)), 'the C2SP example note does not verify');
  check(await throws(note.openNote(c2spNote.replace('example', 'exbmple'), vk)), 'a changed C2SP note verifies');
  check(await throws(note.parseVkey(c2spVkey.replace('530d903a', '530d903b'))), 'a vkey with a wrong key ID parses');
  const logKey = await note.parseVkey(sofaVkey), w = await note.parseVkey(sofaWitness);
  const n = await note.openNote(sofaNote, logKey);
  const cp = note.parseCheckpoint(n.text);
  check(cp.size === 20852163 && tlog.toBase64(cp.root) === 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'parseCheckpoint(sofa)');
  const cs = await note.cosignatures(n, [w]);
  check(cs.length === 1 && cs[0].ok && cs[0].time.getTime() === 1679315147000, `cosignatures(sofa) = ${JSON.stringify(cs)}`);
  const bad = note.parseNote(sofaNote.replace('20852163', '20852164'));
  check(!(await note.cosignatures(bad, [w]))[0].ok, 'a cosignature over a changed checkpoint verifies');
  check(await throws(note.openNote(sofaNote, w)), 'the log note verifies with the witness key');
  check(note.parseVkey !== undefined && (await note.fingerprint(sofaVkey)).length === 39, 'fingerprint');
}

// testDSSE checks PAE against the DSSE spec's example, and signatures
// made by Go's crypto in the test (/jstest-vectors.json).
async function testDSSE() {
  const p = new TextDecoder().decode(dsse.pae('http://example.com/HelloWorld', new TextEncoder().encode('hello world')));
  check(p === 'DSSEv1 29 http://example.com/HelloWorld 11 hello world', `pae = ${p}`);
  const vectors = await (await fetch('/jstest-vectors.json')).json();
  check(vectors.length === 2, 'two DSSE vectors');
  for (const v of vectors) {
    const keys = new Map([[v.keyid, { type: v.type, spki: v.spki }]]);
    const env = { payloadType: v.payloadType, payload: v.payload, signatures: [{ keyid: v.keyid, sig: v.sig }] };
    check(!await throws(dsse.verifyEnvelope(env, keys)), `${v.type} DSSE signature does not verify`);
    const bad = { ...env, payload: btoa('{"hello":"World"}') };
    check(await throws(dsse.verifyEnvelope(bad, keys)), `${v.type} DSSE signature verifies another payload`);
    const other = new Map([[v.keyid, { type: v.type, spki: vectors.find((x) => x !== v).spki }]]);
    check(await throws(dsse.verifyEnvelope(env, other)), `${v.type}: a key that does not hash to the key id is used`);
  }
}

async function main() {
  const out = document.getElementById('results');
  try {
    check(await note.hasEd25519(), 'this browser has no WebCrypto Ed25519');
    await testRoots();
    testTilePaths();
    await testBigTree();
    await testNotes();
    await testDSSE();
  } catch (e) {
    failures.push('exception: ' + e.stack);
  }
  out.textContent = failures.length === 0 ? `PASS ${checks} checks` : `FAIL ${failures.length} of ${checks}\n` + failures.join('\n');
  document.body.dataset.done = failures.length === 0 ? 'pass' : 'fail';
}
main();
