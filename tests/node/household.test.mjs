// The household exports of the built npm package (validate, applyEvent, seal,
// contentHash, verifyHash, loadRulebook) against the golden vectors that tepat-core
// passes natively: tests/vectors/{rules,parse,events,events_hash}.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkgDir = process.env.TEPAT_WASM_PKG ?? path.join(root, 'target/npm/tepat-wasm');
assert.ok(fs.existsSync(path.join(pkgDir, 'package.json')),
  `no built package at ${pkgDir}: run \`cargo xtask dist\` (or set TEPAT_WASM_PKG)`);

const pkg = await import(pathToFileURL(path.join(pkgDir, 'tepat_wasm.js')).href);
await pkg.default({ module_or_path: fs.readFileSync(path.join(pkgDir, 'tepat_wasm_bg.wasm')) });
const regions = pkg.Regions.fromCsv(fs.readFileSync(path.join(root, 'data/wilayah.csv'), 'utf8'));
const rulebook = pkg.Rulebook.builtin();
const vectors = (name) => JSON.parse(fs.readFileSync(path.join(root, 'tests/vectors', name), 'utf8'));
const sample = () => vectors('households/sample.json');

// The vectors' patch: `a.b[2].c` paths; null removes a key; index == length appends.
function applyPatch(doc, patch) {
  for (const [p, value] of Object.entries(patch ?? {})) {
    const segs = [];
    for (const part of p.split('.')) {
      const [key, ...idx] = part.split('[');
      segs.push(key);
      for (const i of idx) segs.push(Number(i.replace(']', '')));
    }
    const last = segs.pop();
    let at = doc;
    for (const s of segs) {
      if (typeof s === 'string' && !(s in at)) at[s] = {};
      at = at[s];
    }
    if (typeof last === 'number') {
      if (last === at.length) at.push(value); else at[last] = value;
    } else if (value === null) {
      delete at[last];
    } else {
      at[last] = value;
    }
  }
  return doc;
}

// What the package gives for a household case, in the vectors' form.
function household(input, today) {
  const arg = input.raw !== undefined ? input.raw : JSON.stringify(applyPatch(sample(), input.patch));
  try {
    return pkg.validate(rulebook, regions, arg, today);
  } catch (e) {
    assert.ok(e instanceof TypeError && e.code === 'parse', `unexpected throw: ${e}`);
    return { parse_error: { problems: e.problems } };
  }
}

test('rulebook loads; a broken one is a RangeError naming the problem', () => {
  assert.equal(rulebook.version, 'regsosek2022-2');
  const text = fs.readFileSync(path.join(root, 'crates/core/rulebook/regsosek2022.json'), 'utf8');
  assert.equal(pkg.loadRulebook(text).version, 'regsosek2022-2');
  const broken = JSON.parse(text);
  broken.rules[0].assert = 'count(relationship == ) == 1';
  assert.throws(() => pkg.loadRulebook(JSON.stringify(broken)),
    (e) => e instanceof RangeError && e.code === 'rulebook' && e.message.includes(broken.rules[0].id));
});

for (const file of ['rules.json', 'parse.json']) {
  test(`${file}: validate gives the native reports`, () => {
    const doc = vectors(file);
    assert.ok(doc.cases.length >= 10);
    for (const c of doc.cases) {
      assert.deepEqual(household(c.input, doc.today), c.expected, c.name);
    }
  });
}

test('validate takes a plain object as well as JSON text', () => {
  const fam = sample();
  const fromText = pkg.validate(rulebook, regions, JSON.stringify(fam), '2026-06-30');
  assert.deepEqual(pkg.validate(rulebook, regions, fam, '2026-06-30'), fromText);
  assert.equal(fromText.valid, true);
  fam.anggota[0].nik = '123';
  const bad = pkg.validate(rulebook, regions, fam, '2026-06-30');
  assert.equal(bad.valid, false);
  assert.ok(bad.findings.some((f) => f.rule === 'nik.length' && f.path === 'anggota[0].nik'));
});

// The vectors' view of an applied event: every changed leaf, and a brief of findings.
function leaves(v, p, out) {
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${p}[${i}]`, out));
    else for (const [k, x] of Object.entries(v)) leaves(x, p ? `${p}.${k}` : k, out);
  } else {
    out.set(p, v);
  }
  return out;
}
function changes(before, after) {
  const b = leaves(before, '', new Map());
  const a = leaves(after, '', new Map());
  const keys = [...new Set([...b.keys(), ...a.keys()])].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : x === y ? 0 : 1));
  return keys
    .filter((k) => JSON.stringify(b.get(k)) !== JSON.stringify(a.get(k)))
    .map((k) => ({ from: b.has(k) ? b.get(k) : null, path: k, to: a.has(k) ? a.get(k) : null }));
}
const brief = (fs_) => fs_.map((f) => ({ path: f.path, rule: f.rule, severity: f.severity }));
const summary = (k) => ({
  anggota: k.anggota.map((a) => [a.number, a.nik, a.relationship, a.presence, a.marital_status ?? null]),
  member_count: k.member_count ?? null,
  merged_into: k.merged_into ?? null,
  no_kk: k.no_kk,
  origin_kk: k.origin_kk ?? null,
  status: k.status ?? 'active',
  version: k.version,
});

test('events.json: applyEvent gives the native outcomes', () => {
  const doc = vectors('events.json');
  assert.ok(doc.cases.length >= 20);
  let applied = 0;
  for (const c of doc.cases) {
    const family = applyPatch(c.input.family ?? sample(), c.input.family_patch);
    const target = c.input.target === 'sample' ? sample() : c.input.target;
    const out = pkg.applyEvent(rulebook, regions, family, c.input.request, doc.today, target);
    // Compare with the family as the core read it (defaults filled in).
    const before = pkg.parseKeluarga(JSON.stringify(family));
    const got = out.result === 'applied'
      ? {
          changes: changes(before, out.keluarga),
          findings: brief(out.findings),
          other: out.other ? summary(out.other) : null,
          result: 'applied',
        }
      : { findings: brief(out.findings), result: 'rejected' };
    if (out.result === 'applied') applied++;
    assert.deepEqual(got, c.expected, c.name);
  }
  assert.ok(applied >= 5);
});

test('events_hash.json: seal, contentHash and verifyHash agree with the core', () => {
  const doc = vectors('events_hash.json');
  for (const c of doc.cases) {
    let req = c.input.request;
    if (c.input.seal === true) req = pkg.seal(req);
    if (c.input.tamper_reason !== undefined) req = { ...req, reason: c.input.tamper_reason };
    assert.equal(req.hash ?? null, c.expected.hash, c.name);
    const want = typeof c.expected.verify === 'string' ? c.expected.verify : c.expected.verify.kind;
    assert.equal(pkg.verifyHash(req), want, c.name);
    // The hash of the content, with or without a `hash` field, is what sealing wrote.
    if (want === 'ok') assert.equal(pkg.contentHash(req), req.hash, c.name);
    else if (req.hash) assert.notEqual(pkg.contentHash(req), req.hash, c.name);
  }
});

test('parseKeluarga fills defaults and lists every problem', () => {
  const fam = sample();
  delete fam.anggota[0].presence;
  assert.equal(pkg.parseKeluarga(JSON.stringify(fam)).anggota[0].presence, 1);
  fam.anggota[1].sex = 'L';
  fam.no_kk = 11;
  assert.throws(() => pkg.parseKeluarga(JSON.stringify(fam)), (e) => {
    const paths = e.problems.map((p) => p.path).sort();
    return e instanceof TypeError && e.code === 'parse' && paths.includes('no_kk') && paths.includes('anggota[1].sex');
  });
});

test('wrong shapes throw typed errors', () => {
  assert.throws(() => pkg.applyEvent(rulebook, regions, { no_kk: 5 }, {}, '2026-06-30'),
    (e) => e instanceof TypeError && e.code === 'invalid_input');
  assert.throws(() => pkg.validate(rulebook, regions, '{"no_kk": ', '2026-06-30'),
    (e) => e instanceof TypeError && e.code === 'parse' && Array.isArray(e.problems) && e.problems.length > 0);
  assert.throws(() => pkg.seal({ id: 1 }), (e) => e instanceof TypeError && e.code === 'invalid_input');
});
