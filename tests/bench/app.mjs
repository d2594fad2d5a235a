// The PWA's performance budgets, measured in Debian's Chromium against a running
// release `tepat serve --demo` at TEPAT_URL (`cargo xtask bench app` builds, seeds and
// starts it). Nothing here asserts a speed: it prints figures for docs/benchmarks.md.
//
//   1. Lighthouse (mobile preset, simulated throttling), performance category: the sign-in
//      page on a fresh profile, and the first screen of a device that is signed in (the
//      PIN screen at /tugas, served by the service worker).
//   2. The worklist of BENCH_USER (>= 1,000 households) from IndexedDB to rendered, under
//      a 4x CPU throttle: from the app's `tepat:load:start` mark (sync::load starts
//      reading IndexedDB) until the list is in the DOM, laid out, and a frame has passed.
//   3. The Uji Petik form of the household with the most members: a change of the floor
//      area to its validation message beside the field, under the same throttle,
//      alternating invalid (0: `variable.range`) and valid values.
//   4. Only when named (`chaos`): the offline chaos run (tests/e2e/chaos.mjs) with
//      BENCH_CHAOS cycles (default 200): the browser killed mid-save and mid-push, reloads, tabs closed during a sync, offline flips;
//      every change checked on the server, 0 lost and 0 duplicated (it throws otherwise).
//
// Usage: TEPAT_URL=http://127.0.0.1:PORT BENCH_USER=name node tests/bench/app.mjs [lighthouse|worklist|form|chaos ...]
// Env: CHROMIUM (default /usr/bin/chromium), BENCH_RUNS (worklist loads, default 10),
// BENCH_CHANGES (form changes, default 40), BENCH_TRACE=dir (Chrome traces of one run each).
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";

const BASE = process.env.TEPAT_URL;
const USER = process.env.BENCH_USER;
if (!BASE || !USER) {
  console.error("usage: TEPAT_URL=http://127.0.0.1:PORT BENCH_USER=facilitator node tests/bench/app.mjs [lighthouse|worklist|form ...]");
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const RUNS = Number(process.env.BENCH_RUNS || 10);
const CHANGES = Number(process.env.BENCH_CHANGES || 40);
const TRACE = process.env.BENCH_TRACE;
const CHAOS = Number(process.env.BENCH_CHAOS || 200);
const PASSWORD = "tepat-demo-2026";
const PIN = "482913";
const THROTTLE = 4;
// The network is closed: nothing in the background may try to reach it.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);

/** Median and p95 (nearest rank) of a list of numbers, and its extremes. */
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { n: s.length, min: s[0], median: rank(50), p95: rank(95), max: s.at(-1) };
}
const ms = (x) => `${x.toFixed(1)} ms`;
const line = (label, st) =>
  `  ${label.padEnd(44)} median ${ms(st.median).padStart(9)}  p95 ${ms(st.p95).padStart(9)}  min ${ms(st.min).padStart(9)}  max ${ms(st.max).padStart(9)}  (n=${st.n})`;

async function launch(extra = {}) {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, ...extra });
}

const PHONE = {
  viewport: { width: 360, height: 640 },
  deviceScaleFactor: 2,
  hasTouch: true,
  isMobile: true,
  locale: "id-ID",
  baseURL: BASE,
};

/** Signs in as BENCH_USER, sets the PIN, opens the worklist and waits for the pull. */
async function signIn(page) {
  await page.goto("/masuk");
  await page.getByLabel("Nama pengguna").fill(USER);
  await page.getByLabel("Kata sandi").fill(PASSWORD);
  await page.getByRole("button", { name: "Masuk" }).click();
  await page.getByLabel("PIN baru (min. 6 angka)").fill(PIN);
  await page.getByLabel("Ulangi PIN").fill(PIN);
  await page.getByRole("button", { name: "Simpan PIN" }).click();
  await page.getByRole("heading", { name: "Beranda" }).waitFor();
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.getByText("Terakhir diperbarui:").waitFor({ timeout: 120_000 });
}

/** Every household BENCH_USER's device gets, page by page from the API, from the page. */
async function households(page) {
  return page.evaluate(async ([username, password]) => {
    const login = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    }).then((r) => r.json());
    const out = [];
    let cursor = "0";
    for (;;) {
      const page = await fetch(`/api/v1/sync/pull?cursor=${cursor}&limit=500`, {
        headers: { Authorization: `Bearer ${login.token}` },
      }).then((r) => r.json());
      out.push(...page.households);
      if (!page.has_more) return out;
      cursor = page.next_cursor;
    }
  }, [USER, PASSWORD]);
}

/** Waits until the service worker controls the page. */
async function swReady(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
    }
  });
}

// ---------------------------------------------------------------------------------------
// 1. Lighthouse

async function runLighthouse(url, userDataDir, disableStorageReset) {
  const chrome = await chromeLauncher.launch({
    chromePath: CHROMIUM,
    chromeFlags: FLAGS,
    userDataDir,
    logLevel: "silent",
  });
  try {
    const result = await lighthouse(
      url,
      { port: chrome.port, output: "json", logLevel: "error", onlyCategories: ["performance"], disableStorageReset },
      undefined,
    );
    const lhr = result.lhr;
    if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
    const a = (id) => lhr.audits[id]?.numericValue;
    return {
      score: Math.round(lhr.categories.performance.score * 100),
      fcp: a("first-contentful-paint"),
      lcp: a("largest-contentful-paint"),
      tbt: a("total-blocking-time"),
      si: a("speed-index"),
      cls: a("cumulative-layout-shift"),
      bytes: a("total-byte-weight"),
      lcpElement: lcpElement(lhr),
      warnings: lhr.runWarnings,
      version: lhr.lighthouseVersion,
      chrome: lhr.environment?.hostUserAgent?.match(/Chrome\/[\d.]+/)?.[0],
    };
  } finally {
    await chrome.kill();
  }
}

/** The LCP element's HTML snippet, as Lighthouse 12 reports it. */
function lcpElement(lhr) {
  const items = lhr.audits["largest-contentful-paint-element"]?.details?.items ?? [];
  for (const table of items) {
    for (const row of table.items ?? []) {
      if (row.node?.snippet) return row.node.snippet;
    }
  }
  return undefined;
}

function printLighthouse(label, r) {
  console.log(
    `  ${label.padEnd(44)} performance ${String(r.score).padStart(3)}  LCP ${ms(r.lcp).padStart(9)}  TBT ${ms(r.tbt).padStart(8)}  FCP ${ms(r.fcp).padStart(9)}  SI ${ms(r.si).padStart(9)}  CLS ${r.cls.toFixed(3)}  total ${(r.bytes / 1024).toFixed(1)} KB`,
  );
  if (r.lcpElement) console.log(`    LCP element: ${r.lcpElement}`);
  for (const w of r.warnings ?? []) console.log(`    warning: ${w}`);
}

async function benchLighthouse() {
  console.log("Lighthouse (mobile preset, simulated throttling; performance only)");
  // The sign-in page on a fresh profile: what a new device downloads and shows first.
  const fresh = mkdtempSync(path.join(tmpdir(), "tepat-lh-"));
  const signedIn = mkdtempSync(path.join(tmpdir(), "tepat-lh-"));
  try {
    const r1 = await runLighthouse(`${BASE}/masuk`, fresh, false);
    console.log(`  (Lighthouse ${r1.version}, ${r1.chrome})`);
    printLighthouse("/masuk, fresh profile", r1);
    // A signed-in device: sign in with Playwright in a profile, then Lighthouse opens
    // /tugas in that profile without clearing storage: the service worker serves the
    // shell and the app asks for the PIN (the key lives only in memory).
    const ctx = await chromium.launchPersistentContext(signedIn, { executablePath: CHROMIUM, args: FLAGS, ...PHONE });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await signIn(page);
    await swReady(page);
    await ctx.close();
    const r2 = await runLighthouse(`${BASE}/tugas`, signedIn, true);
    printLighthouse("/tugas, signed-in device (PIN screen)", r2);
    return { masuk: r1, tugas: r2 };
  } finally {
    rmSync(fresh, { recursive: true, force: true });
    rmSync(signedIn, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// 2. Worklist from IndexedDB to rendered

/** In the page: resolves when the worklist shows `total` households and its rows, laid out, one frame later. */
function watchWorklist(total) {
  window.__bench = new Promise((resolve) => {
    const done = () => {
      const count = document.querySelector('[data-field="count"]');
      const rows = document.querySelectorAll("ul.worklist a.row").length;
      return count && count.textContent.trim() === `${total} keluarga` && rows > 0 ? rows : 0;
    };
    const obs = new MutationObserver(() => {
      const rows = done();
      if (!rows) return;
      obs.disconnect();
      // Style and layout of the new rows, synchronously, then the next frame.
      document.body.getBoundingClientRect();
      performance.mark("bench:worklist:laid-out");
      requestAnimationFrame(() => {
        performance.mark("bench:worklist:frame");
        resolve(rows);
      });
    });
    obs.observe(document.body, { childList: true, subtree: true, characterData: true });
  });
}

async function benchWorklist(browser) {
  const ctx = await browser.newContext(PHONE);
  const page = await ctx.newPage();
  await signIn(page);
  const total = (await households(page)).length;
  await page.locator('[data-field="count"]').getByText(`${total} keluarga`).waitFor();
  console.log(`Worklist of ${USER}: ${total} households, from IndexedDB to rendered, CPU throttled ${THROTTLE}x`);
  const cdp = await ctx.newCDPSession(page);
  const runs = [];
  for (let i = 0; i < RUNS + 1; i++) {
    // A fresh page load leaves the session locked: unlock with the PIN, which loads the worklist.
    await page.goto("/tugas");
    await page.getByLabel("PIN", { exact: true }).fill(PIN);
    await page.evaluate(watchWorklist, total);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: THROTTLE });
    const tracing = TRACE && i === RUNS;
    if (tracing) await browser.startTracing(page, { path: path.join(TRACE, "worklist.json"), screenshots: false });
    await page.getByRole("button", { name: "Buka" }).click();
    const rows = await page.evaluate(() => window.__bench);
    if (tracing) await browser.stopTracing();
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    const m = await page.evaluate(() => {
      const t = (n) => performance.getEntriesByName(n).at(0)?.startTime ?? NaN;
      return {
        start: t("tepat:load:start"),
        read: t("tepat:load:read"),
        opened: t("tepat:load:opened"),
        end: t("tepat:load:end"),
        rowsBuilt: t("tepat:worklist:rows"),
        laidOut: t("bench:worklist:laid-out"),
        frame: t("bench:worklist:frame"),
      };
    });
    if (Number.isNaN(m.start)) throw new Error("the app set no tepat:load:start mark");
    // The first load warms the caches (wasm compile, IndexedDB); it is not counted.
    if (i > 0) runs.push({ ...m, rows });
  }
  await ctx.close();
  const d = (a, b) => runs.map((r) => r[b] - r[a]);
  console.log(`  rows in the DOM: ${runs[0].rows} (the list shows ${total} households, the first page of rows)`);
  console.log(line("worklist read from IndexedDB", stats(d("start", "read"))));
  console.log(line("decrypted and parsed", stats(d("read", "opened"))));
  console.log(line("list selected, first rows' views built", stats(d("opened", "rowsBuilt"))));
  console.log(line("rows in DOM, laid out", stats(d("rowsBuilt", "laidOut"))));
  console.log(line("IndexedDB → rows in DOM, laid out", stats(d("start", "laidOut"))));
  console.log(line("IndexedDB → next frame (budget 200 ms)", stats(d("start", "frame"))));
  return { total, rows: runs[0].rows, frame: stats(d("start", "frame")), laidOut: stats(d("start", "laidOut")) };
}

// ---------------------------------------------------------------------------------------
// 3. Uji Petik: field change to validation message

/** In the page: `n` changes of the floor area, alternating invalid and valid; times each. */
async function changeFloorArea(n) {
  const input = document.querySelector("#f-housing-floor_area_m2");
  const msg = document.querySelector("#f-housing-floor_area_m2-msg");
  const out = [];
  for (let i = 0; i < n; i++) {
    const invalid = i % 2 === 0;
    // A facilitator types far slower than this: let the previous change's draft save settle.
    await new Promise((r) => setTimeout(r, 150));
    const shown = () => (msg.querySelector('[data-rule="variable.range"]') !== null) === invalid;
    const seen = new Promise((resolve) => {
      const obs = new MutationObserver(() => {
        if (!shown()) return;
        const dom = performance.now();
        obs.disconnect();
        document.body.getBoundingClientRect();
        const layout = performance.now();
        requestAnimationFrame(() => resolve({ dom, layout, frame: performance.now() }));
      });
      obs.observe(msg, { childList: true, subtree: true });
    });
    input.value = invalid ? "0" : String(40 + i);
    const t0 = performance.now();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    const t = await seen;
    out.push({ invalid, dom: t.dom - t0, layout: t.layout - t0, frame: t.frame - t0 });
  }
  return out;
}

async function benchForm(browser) {
  const ctx = await browser.newContext(PHONE);
  const page = await ctx.newPage();
  await signIn(page);
  const size = (h) => h.keluarga.anggota.length;
  const target = (await households(page)).reduce((best, h) => (size(h) > size(best) ? h : best));
  const kk = target.no_kk;
  await page.getByLabel("Cari nama, NIK, No. KK atau alamat").fill(kk);
  await page.locator(`a.row[data-kk="${kk}"]`).click();
  await page.locator('[data-field="uji-petik"]').click();
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  await page.locator("#f-housing-floor_area_m2").waitFor();
  const members = target.keluarga.anggota.length;
  console.log(`Uji Petik form of a household with ${members} members: floor area change → message beside the field, CPU throttled ${THROTTLE}x`);
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: THROTTLE });
  // Two warm-up changes (first compile of the code paths), not counted.
  await page.evaluate(changeFloorArea, 2);
  if (TRACE) await browser.startTracing(page, { path: path.join(TRACE, "form.json"), screenshots: false });
  const out = await page.evaluate(changeFloorArea, CHANGES);
  if (TRACE) await browser.stopTracing();
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
  await ctx.close();
  const pick = (k, f = () => true) => stats(out.filter(f).map((r) => r[k]));
  console.log(line("input → message in DOM (budget 16 ms)", pick("dom")));
  console.log(line("  invalid value (message appears)", pick("dom", (r) => r.invalid)));
  console.log(line("  valid value (message goes)", pick("dom", (r) => !r.invalid)));
  console.log(line("input → message laid out", pick("layout")));
  console.log(line("input → next frame (incl. wait for vsync)", pick("frame")));
  return { members, dom: pick("dom"), layout: pick("layout"), frame: pick("frame") };
}

// ---------------------------------------------------------------------------------------

if (TRACE) mkdirSync(TRACE, { recursive: true });
const results = {};
if (want("lighthouse")) results.lighthouse = await benchLighthouse();
if (want("worklist") || want("form")) {
  const browser = await launch();
  try {
    if (want("worklist")) results.worklist = await benchWorklist(browser);
    if (want("form")) results.form = await benchForm(browser);
  } finally {
    await browser.close();
  }
}
if (only.includes("chaos")) {
  // Imported here: tests/e2e/browser.mjs reads TEPAT_URL when loaded.
  const { chaos } = await import("../e2e/chaos.mjs");
  console.log(`Offline chaos: ${CHAOS} cycles as ${USER}`);
  const r = await chaos({ username: USER, cycles: CHAOS, budgetMs: 40 * 60_000 });
  console.log(
    `  ${r.cycles} cycles in ${r.seconds} s: ${r.crashes} crashes, ${r.reloads} reloads, ${r.closed_tabs} tabs closed mid-sync, ` +
      `${r.offline_flips} offline flips, ${r.resent} drafts sent again; ${r.changes} changes, ${r.on_server} on the server: ` +
      `${r.lost} lost, ${r.duplicated} duplicated`,
  );
  results.chaos = r;
}
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
