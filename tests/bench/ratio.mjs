// Wasm side of the wasm/native ratio (issue 5): loads the plain wasm32 build of
// crates/ratio in Node (V8, the engine of Chrome on Android) and times the same kernel
// loops as the native `tepat-ratio` binary, printing the same JSON lines.
// Usage: node tests/bench/ratio.mjs path/to/tepat_ratio.wasm [families] [rounds]
//    or: node tests/bench/ratio.mjs --serve path/to/tepat_ratio.wasm [families]
// `--serve` times one round per command, as `tepat-ratio --serve` does (the protocol is
// described in crates/ratio/src/main.rs): `cargo xtask bench ratio` alternates the sides.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

// A round is timed by the main thread's CPU time (/proc/thread-self/schedstat, ns), as
// on the native side, so other load on a shared machine does not count; V8's compiler
// and GC threads are not counted either. Without that file: wall time.
function threadCpuNs() {
  try {
    return BigInt(readFileSync('/proc/thread-self/schedstat', 'utf8').split(/\s+/)[0]);
  } catch {
    return null;
  }
}

const args = process.argv.slice(2);
const serving = args[0] === '--serve';
if (serving) args.shift();
const [wasmPath, nArg, roundsArg] = args;
if (!wasmPath) {
  console.error('usage: node ratio.mjs [--serve] tepat_ratio.wasm [families] [rounds]');
  process.exit(2);
}
const n = Number(nArg ?? 2000);
const rounds = Number(roundsArg ?? 5);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const { setup, run_validate, run_score, run_predict, run_decide } = instance.exports;
const families = setup(n);
const kernels = { validate: run_validate, score: run_score, predict: run_predict, decide: run_decide };

if (serving) {
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
    const c = threadCpuNs();
    const checksum = BigInt.asUintN(64, f(reps));
    const c2 = threadCpuNs();
    const wall = performance.now() - t;
    const per = families * reps;
    console.log(JSON.stringify({
      cpu_ns: c === null || c2 === null ? null : Number((Number(c2 - c) / per).toFixed(1)),
      wall_ns: Number(((wall * 1e6) / per).toFixed(1)),
      checksum: checksum.toString(16).padStart(16, '0'),
    }));
  }
  process.exit(0);
}
// The same repetitions as the native side (crates/ratio/src/main.rs, where the reason
// for rounds this long is given).
for (const [name, reps, f] of [
  ['validate', 200, run_validate],
  ['score', 1000, run_score],
  ['predict', 1000, run_predict],
  ['decide', 1000, run_decide],
]) {
  f(1); // warm-up (also lets V8 tier up to optimized code)
  let best = Infinity;
  let checksum = 0n;
  const clock = threadCpuNs() === null ? 'wall' : 'thread_cpu';
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    const c = threadCpuNs();
    checksum = BigInt.asUintN(64, f(reps));
    const c2 = threadCpuNs();
    const ms = c === null || c2 === null ? performance.now() - t : Number(c2 - c) / 1e6;
    best = Math.min(best, ms);
  }
  const ns = (best * 1e6) / (families * reps);
  console.log(JSON.stringify({
    side: 'wasm', kernel: name, families, clock, ns_per_family: Number(ns.toFixed(1)),
    checksum: checksum.toString(16).padStart(16, '0'),
  }));
}
