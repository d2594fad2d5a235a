// Before/after for the wasm side of the ratio (issue 5) on a shared machine: several
// builds of crates/ratio's wasm32 module in one Node process, their timed rounds
// interleaved (A B B A …), each timed by the main thread's CPU time. Prints the best and
// the median ns per family and the checksum of each module and kernel. Interleaving
// exposes the builds to the same load, but at load 5–9 two identical builds still
// differed by up to 8 % in one run: repeat with the order reversed, and trust only
// differences that hold in every run.
// Usage: node tests/bench/ratio-ab.mjs rounds a.wasm b.wasm …
import { readFileSync } from 'node:fs';

const cpuNs = () => BigInt(readFileSync('/proc/thread-self/schedstat', 'utf8').split(/\s+/)[0]);
const [roundsArg, ...paths] = process.argv.slice(2);
if (!roundsArg || paths.length === 0) {
  console.error('usage: node ratio-ab.mjs rounds a.wasm b.wasm …');
  process.exit(2);
}
const rounds = Number(roundsArg);
const mods = [];
for (const path of paths) {
  const { instance } = await WebAssembly.instantiate(readFileSync(path), {});
  const families = instance.exports.setup(2000);
  mods.push({
    path, ex: instance.exports, families, ns: { validate: [], score: [], predict: [], decide: [] }, sum: {},
  });
}
// The same repetitions as crates/ratio/src/main.rs without `--serve`.
// `predict` and `decide` are `score`'s two halves, timed apart.
const kernels = [['validate', 200], ['score', 1000], ['predict', 1000], ['decide', 1000]];
for (const [kernel, reps] of kernels) {
  const run = (m) => m.ex[`run_${kernel}`];
  for (const m of mods) {
    run(m)(1); // warm-up, lets V8 tier up
    run(m)(1);
  }
  for (let r = 0; r < rounds; r++) {
    for (const m of r % 2 ? [...mods].reverse() : mods) {
      const c = cpuNs();
      const sum = run(m)(reps);
      const ns = Number(cpuNs() - c) / (m.families * reps);
      m.ns[kernel].push(ns);
      m.sum[kernel] = BigInt.asUintN(64, sum).toString(16).padStart(16, '0');
    }
  }
}
for (const [kernel] of kernels) {
  for (const m of mods) {
    const a = [...m.ns[kernel]].sort((x, y) => x - y);
    console.log(JSON.stringify({
      module: m.path, kernel, best: Number(a[0].toFixed(1)),
      median: Number(a[a.length >> 1].toFixed(1)), checksum: m.sum[kernel],
    }));
  }
}
