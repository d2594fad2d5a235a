// Wasm side of the wasm/native ratio (issue 5) in Chromium: the same plain wasm32 module
// of crates/ratio and the same loops as tests/bench/ratio.mjs (Node), run in a page of
// Debian's Chromium (the engine of Chrome on Android, newer than Node 20's V8).
// A round is timed by wall time (performance.now()) — the page has no per-thread CPU
// clock — so run it on a quiet machine and compare with the native side's CPU time.
// Usage: node tests/bench/ratio-chromium.mjs path/to/tepat_ratio.wasm [families] [rounds]
//    or: node tests/bench/ratio-chromium.mjs --serve path/to/tepat_ratio.wasm [families]
// `--serve` times one round per command, as `tepat-ratio --serve` does (the protocol is
// described in crates/ratio/src/main.rs); `cpu_ns` is null here (no CPU clock in a page).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const serving = args[0] === "--serve";
if (serving) args.shift();
const [wasmPath, nArg, roundsArg] = args;
if (!wasmPath) {
  console.error("usage: node ratio-chromium.mjs [--serve] tepat_ratio.wasm [families] [rounds]");
  process.exit(2);
}
const n = Number(nArg ?? 2000);
const rounds = Number(roundsArg ?? 5);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  if (serving) {
    await serve(page);
  } else {
    const lines = await page.evaluate(
      async ({ b64, n, rounds }) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const { instance } = await WebAssembly.instantiate(bytes, {});
        const { setup, run_validate, run_score, run_predict, run_decide } = instance.exports;
        const families = setup(n);
        const out = [];
        // The same repetitions as the native side (crates/ratio/src/main.rs).
        for (const [name, reps, f] of [
          ["validate", 200, run_validate],
          ["score", 1000, run_score],
          ["predict", 1000, run_predict],
          ["decide", 1000, run_decide],
        ]) {
          f(1); // warm-up (tier-up to optimized code)
          let best = Infinity;
          let checksum = 0n;
          for (let r = 0; r < rounds; r++) {
            const t = performance.now();
            checksum = BigInt.asUintN(64, f(reps));
            best = Math.min(best, performance.now() - t);
          }
          out.push({
            side: "wasm",
            kernel: name,
            families,
            clock: "wall",
            ns_per_family: Number(((best * 1e6) / (families * reps)).toFixed(1)),
            checksum: checksum.toString(16).padStart(16, "0"),
          });
        }
        return out;
      },
      { b64: readFileSync(wasmPath).toString("base64"), n, rounds },
    );
    for (const l of lines) console.log(JSON.stringify(l));
  }
} finally {
  await browser.close();
}

// The `--serve` loop: the module instantiated once in the page, then one timed round
// per command line.
async function serve(page) {
  const families = await page.evaluate(
    async ({ b64, n }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const { instance } = await WebAssembly.instantiate(bytes, {});
      globalThis.ratio = instance.exports;
      return instance.exports.setup(n);
    },
    { b64: readFileSync(wasmPath).toString("base64"), n },
  );
  console.log(JSON.stringify({ ready: true, families }));
  for await (const line of createInterface({ input: process.stdin })) {
    const [name, repsText] = line.trim().split(/\s+/);
    const reps = Number(repsText);
    if (!["validate", "score", "predict", "decide"].includes(name) || !Number.isInteger(reps) || reps < 1) {
      console.log(JSON.stringify({ error: "expected <kernel> <reps>" }));
      continue;
    }
    const r = await page.evaluate(
      ({ name, reps, families }) => {
        const f = globalThis.ratio[`run_${name}`];
        const t = performance.now();
        const checksum = BigInt.asUintN(64, f(reps));
        const wall = performance.now() - t;
        return {
          cpu_ns: null,
          wall_ns: Number(((wall * 1e6) / (families * reps)).toFixed(1)),
          checksum: checksum.toString(16).padStart(16, "0"),
        };
      },
      { name, reps, families },
    );
    console.log(JSON.stringify(r));
  }
}
