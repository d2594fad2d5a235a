// Wasm side of the wasm/native ratio (issue 5): loads the plain wasm32 build of
// crates/ratio in Node (V8, the engine of Chrome on Android) and serves timed rounds of
// its kernels, one per command, in the protocol of `tepat-ratio --serve`
// (crates/ratio/src/main.rs): a line `<kernel> <reps>` in, one JSON line out with the
// round's wall time per family and its checksum. `cargo xtask bench ratio` alternates
// these rounds with the native side's.
// Usage: node tests/bench/ratio.mjs path/to/tepat_ratio.wasm [families]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const [wasmPath, nArg] = process.argv.slice(2);
if (!wasmPath) {
  console.error('usage: node ratio.mjs tepat_ratio.wasm [families]');
  process.exit(2);
}
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const { setup, run_validate, run_score, run_predict, run_decide } = instance.exports;
const families = setup(Number(nArg ?? 2000));
const kernels = { validate: run_validate, score: run_score, predict: run_predict, decide: run_decide };

console.log(JSON.stringify({ ready: true, families }));
for await (const line of createInterface({ input: process.stdin })) {
  const [name, repsText] = line.trim().split(/\s+/);
  const f = kernels[name];
  const reps = Number(repsText);
  if (!f || !Number.isInteger(reps) || reps < 1) {
    console.log(JSON.stringify({ error: 'expected <kernel> <reps>' }));
    continue;
  }
  const t = performance.now();
  const checksum = BigInt.asUintN(64, f(reps));
  const wall = performance.now() - t;
  console.log(JSON.stringify({
    wall_ns: Number(((wall * 1e6) / (families * reps)).toFixed(1)),
    checksum: checksum.toString(16).padStart(16, '0'),
  }));
}
