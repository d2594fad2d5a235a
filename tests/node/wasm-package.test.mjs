// Tests the built npm package (target/npm/tepat-wasm, from `cargo xtask dist` or
// `cargo xtask test`) as a JavaScript user would: the golden vectors that the Rust
// core passes natively must give the same output through the package.
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

test('package.json points at the module and its types', () => {
  const meta = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  assert.equal(meta.name, 'tepat-wasm');
  for (const f of [meta.main, meta.types]) assert.ok(fs.existsSync(path.join(pkgDir, f)), f);
});

test('region table loads all Kemendagri regions', () => {
  assert.equal(regions.size, 91599);
  assert.equal(regions.name('11.01.01'), 'Bakongan');
  assert.equal(regions.name('99.99'), undefined);
});

test('NIK vectors give the native results', () => {
  const doc = JSON.parse(fs.readFileSync(path.join(root, 'tests/vectors/nik.json'), 'utf8'));
  assert.ok(doc.cases.length >= 10);
  for (const c of doc.cases) {
    assert.deepEqual(pkg.validateNik(regions, c.input, doc.today), c.expected, c.name);
  }
});

test('bad input throws typed errors with a code', () => {
  assert.throws(() => pkg.validateNik(regions, { nik: 42 }, '2026-11-23'),
    (e) => e instanceof TypeError && e.code === 'invalid_input');
  assert.throws(() => pkg.validateNik(regions, { nik: '1101010101900001' }, '2026-02-30'),
    (e) => e instanceof TypeError && e.code === 'invalid_date');
  assert.throws(() => pkg.Regions.fromCsv('11,Aceh\n11.01.01,Orphan\n'),
    (e) => e instanceof RangeError && e.code === 'region_table' && /no parent/.test(e.message));
});
