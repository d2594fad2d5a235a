// The first screen: index.html paints a static "Memuat Tepat…" screen, the loader in
// Trunk.toml fetches the wasm only after it, the app replaces it when it mounts, and a
// failed load says so on it instead of loading forever.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, bare } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});


test("the static first screen paints before the wasm is fetched, and the app replaces it", async () => {
  const context = await bare(browser);
  const page = await context.newPage();
  // Hold the wasm until the test has seen the first screen.
  let release;
  const held = new Promise((r) => (release = r));
  let lcpAtRequest = null;
  await page.route(/_bg\.wasm$/, async (route) => {
    lcpAtRequest = await page.evaluate(() => window.__lcp.slice());
    await held;
    await route.continue();
  });
  const painted = [];
  await page.addInitScript(() => {
    window.__lcp = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) window.__lcp.push(e.element?.closest("#boot") ? "boot" : e.element?.tagName);
    }).observe({ type: "largest-contentful-paint", buffered: true });
  });
  await page.goto("/masuk");
  await page.getByRole("heading", { name: "Memuat Tepat…" }).waitFor();
  assert.ok(await page.locator("#boot").isVisible(), "the first screen is visible");
  // The loader asks for the wasm only after the first screen was presented.
  await page.waitForFunction(() => window.__lcp.length > 0);
  painted.push(...(await page.evaluate(() => window.__lcp)));
  assert.equal(painted[0], "boot", `the first largest paint is the first screen: ${painted}`);
  for (let i = 0; i < 50 && lcpAtRequest === null; i++) await page.waitForTimeout(100);
  assert.deepEqual(lcpAtRequest, ["boot"], "the wasm was requested only after the first screen had painted");
  release();
  await page.getByLabel("Nama pengguna").waitFor();
  assert.equal(await page.locator("#boot").count(), 0, "the app removed the first screen");
  assert.equal(await page.locator("header.bar").count(), 1, "one header bar, the app's");
  await context.close();
});

test("a wasm that cannot load says so on the first screen, in Indonesian first", async () => {
  const context = await bare(browser);
  const page = await context.newPage();
  await page.route(/_bg\.wasm$/, (route) => route.abort("internetdisconnected"));
  await page.goto("/masuk");
  await page.getByRole("heading", { name: /Tepat gagal dimuat\. Periksa sinyal/ }).waitFor();
  assert.equal(await page.getByLabel("Nama pengguna").count(), 0, "no app was mounted");
  await context.close();
});
