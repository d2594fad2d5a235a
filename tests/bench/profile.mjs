// Where the time of tests/bench/app.mjs's worklist load and form change goes: a CPU
// profile (CDP Profiler, 4x throttle) summed by function, self and total time.
// Use a dist whose wasm keeps its name section (see docs/benchmarks.md).
// Usage: TEPAT_URL=… BENCH_USER=… node tests/bench/profile.mjs worklist|form [top] [callee-regex]
// With a regex, also the heaviest callees (inclusive) under the functions it matches.
import { chromium } from "playwright-core";

const BASE = process.env.TEPAT_URL;
const USER = process.env.BENCH_USER;
const PIN = "482913";
const what = process.argv[2] || "form";
const top = Number(process.argv[3] || 40);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const ctx = await browser.newContext({ viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, hasTouch: true, isMobile: true, locale: "id-ID", baseURL: BASE });
const page = await ctx.newPage();
await page.goto("/masuk");
await page.getByLabel("Nama pengguna").fill(USER);
await page.getByLabel("Kata sandi").fill("tepat-demo-2026");
await page.getByRole("button", { name: "Masuk" }).click();
await page.getByLabel("PIN baru (min. 6 angka)").fill(PIN);
await page.getByLabel("Ulangi PIN").fill(PIN);
await page.getByRole("button", { name: "Simpan PIN" }).click();
await page.getByRole("heading", { name: "Beranda" }).waitFor();
await page.getByRole("link", { name: "Tugas", exact: true }).click();
await page.getByText("Terakhir diperbarui:").waitFor({ timeout: 120000 });
const cdp = await ctx.newCDPSession(page);
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
let profile;
if (what === "worklist") {
  await page.goto("/tugas");
  await page.getByLabel("PIN", { exact: true }).fill(PIN);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await cdp.send("Profiler.start");
  await page.getByRole("button", { name: "Buka" }).click();
  await page.locator("ul.worklist a.row").first().waitFor();
  await page.waitForTimeout(300);
  profile = (await cdp.send("Profiler.stop")).profile;
} else {
  const kk = await page.locator("ul.worklist a.row").first().getAttribute("data-kk");
  await page.locator(`a.row[data-kk="${kk}"]`).click();
  await page.locator('[data-field="uji-petik"]').click();
  await page.locator("#f-housing-floor_area_m2").waitFor();
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await cdp.send("Profiler.start");
  await page.evaluate(async () => {
    const input = document.querySelector("#f-housing-floor_area_m2");
    for (let i = 0; i < 10; i++) {
      input.value = i % 2 ? String(50 + i) : "0";
      performance.mark("p:" + i);
      input.dispatchEvent(new Event("input", { bubbles: true }));
      await new Promise((r) => setTimeout(r, 400));
    }
  });
  profile = (await cdp.send("Profiler.stop")).profile;
}
await browser.close();
// Self time per node from the samples; total time by walking parents.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
const total = new Map();
const deltas = profile.timeDeltas;
profile.samples.forEach((id, i) => {
  const dt = (deltas[i + 1] ?? 0) / 1000;
  const name = (n) => `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url ? n.callFrame.url.split("/").pop() + ":" + n.callFrame.lineNumber : ""}`;
  const n = byId.get(id);
  self.set(name(n), (self.get(name(n)) ?? 0) + dt);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const nm = name(byId.get(cur));
    if (seen.has(nm)) continue;
    seen.add(nm);
    total.set(nm, (total.get(nm) ?? 0) + dt);
  }
});
const show = (m, label) => {
  console.log(`${label}:`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${v.toFixed(1).padStart(8)} ms  ${k}`);
};
show(self, "self time");
show(total, "total time (inclusive)");
const pattern = process.argv[4] && new RegExp(process.argv[4]);
if (pattern) {
  // Inclusive time of each function below a matching frame (first match on the stack).
  const under = new Map();
  profile.samples.forEach((id, i) => {
    const dt = (deltas[i + 1] ?? 0) / 1000;
    const stack = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur).callFrame.functionName || "(anon)");
    const at = stack.findLastIndex((f) => pattern.test(f));
    if (at < 0) return;
    for (const f of new Set(stack.slice(0, at))) under.set(f, (under.get(f) ?? 0) + dt);
  });
  show(under, `below ${pattern}`);
}
