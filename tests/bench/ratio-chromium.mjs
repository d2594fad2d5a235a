// Wasm side of the wasm/native ratio (issue 5) in Chromium: the same plain wasm32 module
// of crates/ratio, instantiated once in a page of Debian's Chromium (the engine of Chrome
// on Android, newer than Node 20's V8), serving timed rounds in the protocol of
// `tepat-ratio --serve` (crates/ratio/src/main.rs), as tests/bench/ratio.mjs does in Node.
// Usage: node tests/bench/ratio-chromium.mjs path/to/tepat_ratio.wasm [families]
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const [wasmPath, nArg] = process.argv.slice(2);
if (!wasmPath) {
  console.error("usage: node ratio-chromium.mjs tepat_ratio.wasm [families]");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  const families = await page.evaluate(
    async ({ b64, n }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const { instance } = await WebAssembly.instantiate(bytes, {});
      globalThis.ratio = instance.exports;
      return instance.exports.setup(n);
    },
    { b64: readFileSync(wasmPath).toString("base64"), n: Number(nArg ?? 2000) },
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
          wall_ns: Number(((wall * 1e6) / (families * reps)).toFixed(1)),
          checksum: checksum.toString(16).padStart(16, "0"),
        };
      },
      { name, reps, families },
    );
    console.log(JSON.stringify(r));
  }
} finally {
  await browser.close();
}
