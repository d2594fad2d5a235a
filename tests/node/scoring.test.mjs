// Tests the scoring exports of the built npm package (target/npm/tepat-wasm, from
// `cargo xtask dist`, or TEPAT_WASM_PKG): the scoring vectors that the Rust core
// passes natively and in Chromium must give the same bits through the package.
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

const doc = JSON.parse(fs.readFileSync(path.join(root, 'tests/vectors/scoring/households.json'), 'utf8'));
const modelText = fs.readFileSync(path.join(root, 'crates/core/model/pmt-ilustratif.json'), 'utf8');
const rulesText = fs.readFileSync(path.join(root, 'crates/core/model/programs-2025.json'), 'utf8');

/** IEEE-754 bits of a double as 16 hex digits, as the Rust vectors write them. */
function bits(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

/** The same projection as `scoring_vectors` in crates/core/tests/vectors.rs. */
function run(model, rules, input, today) {
  let score;
  try {
    const s = pkg.score(model, input.keluarga, today);
    score = {
      model_version: s.model_version,
      group: s.group,
      members: s.members,
      log_per_capita: bits(s.log_per_capita),
      per_capita: bits(s.per_capita),
      baseline: bits(s.baseline),
      per_capita_rounded: Math.round(s.per_capita),
      desil: s.desil,
      desil_province: s.desil_province ?? null,
      desil_regency: s.desil_regency ?? null,
      top_factors: s.factors.slice(0, 5).map((f) => ({
        variable: f.variable, contribution: bits(f.contribution), effect_percent: f.effect_percent,
      })),
      summary: s.summary,
    };
  } catch (e) {
    assert.ok(e instanceof RangeError && e.code === 'no_active_members', String(e));
    score = { error: 'no_active_members' };
  }
  const desil = input.desil ?? score.desil;
  if (desil === undefined) return { score };
  const e = pkg.eligibility(rules, input.keluarga, desil, today);
  const g = pkg.graduation(rules, input.keluarga, desil, today);
  return {
    score,
    eligibility: e.programs.map((p) => ({
      program: p.program, eligible: p.eligible, annual_benefit: p.annual_benefit,
      rules: p.reasons.map((r) => r.rule),
    })),
    graduation: {
      graduate: g.graduate,
      programs: g.programs.map((p) => ({ program: p.program, kind: p.kind ?? null })),
      indicators_met: g.indicators_met,
    },
  };
}

test('the built-in model is labelled illustrative and equals the model file', () => {
  const builtin = pkg.Model.builtin();
  const loaded = pkg.loadModel(modelText);
  assert.equal(builtin.version, loaded.version);
  assert.equal(builtin.official, false);
  assert.match(builtin.label.id, /bukan koefisien resmi BPS/);
  assert.equal(builtin.effectiveDate, '2026-01-01');
});

test('scoring vectors give the native bits, desil, eligibility and graduation', () => {
  const model = pkg.loadModel(modelText);
  const rules = pkg.loadProgramRules(rulesText);
  assert.ok(doc.cases.length >= 8);
  for (const c of doc.cases) {
    assert.deepEqual(run(model, rules, c.input, doc.today), c.expected, c.name);
  }
});

test('bad model and rules files throw RangeErrors naming the problem', () => {
  const bad = JSON.parse(modelText);
  bad.variables[11].expr = 'housing.flor in {1..4}';
  assert.throws(() => pkg.loadModel(JSON.stringify(bad)),
    (e) => e instanceof RangeError && e.code === 'model' && /variables\[11\]\.expr \(floor_modern\)/.test(e.message));
  assert.throws(() => pkg.loadModel('{'), (e) => e instanceof RangeError && e.code === 'model');
  const rules = JSON.parse(rulesText);
  rules.programs[0].desil.max = 11;
  assert.throws(() => pkg.loadProgramRules(JSON.stringify(rules)),
    (e) => e instanceof RangeError && e.code === 'program_rules' && /pkh/.test(e.message));
});

test('bad input throws typed errors with a code', () => {
  const model = pkg.Model.builtin();
  const rules = pkg.ProgramRules.builtin();
  const k = doc.cases[0].input.keluarga;
  assert.throws(() => pkg.score(model, { no_kk: 42 }, doc.today),
    (e) => e instanceof TypeError && e.code === 'invalid_input');
  assert.throws(() => pkg.score(model, k, '2026-13-01'),
    (e) => e instanceof TypeError && e.code === 'invalid_date');
  assert.throws(() => pkg.eligibility(rules, k, 11, doc.today),
    (e) => e instanceof RangeError && e.code === 'invalid_desil');
});
