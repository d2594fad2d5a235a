// First-screen accessibility: on the sign-in and worklist screens every input has an
// accessible name and text contrast meets WCAG 2 AA, checked by axe-core in the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { launch, phone, signIn } from "./browser.mjs";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const PIN = "531864";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Runs axe's label and contrast rules on the page; returns the violations. */
async function audit(page) {
  // Evaluated in the page through the debugger protocol (no script tag needed).
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: "rule", values: ["label", "select-name", "color-contrast", "button-name", "link-name", "aria-input-field-name"] },
      resultTypes: ["violations", "passes"],
    });
    return {
      violations: r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ") + " — " + n.failureSummary) })),
      passed: r.passes.map((p) => p.id),
    };
  });
}

/** Every input, select and textarea has a non-empty accessible name (Playwright's own check). */
async function everyInputNamed(page) {
  const fields = page.locator("input:not([type=hidden]), select, textarea");
  const n = await fields.count();
  assert.ok(n > 0, "the screen has inputs");
  for (let i = 0; i < n; i++) {
    const f = fields.nth(i);
    const id = await f.getAttribute("id");
    const label = id ? await page.locator(`label[for="${id}"]`).count() : 0;
    const aria = (await f.getAttribute("aria-label")) || (await f.getAttribute("aria-labelledby"));
    const wrapped = await f.evaluate((el) => !!el.closest("label"));
    assert.ok(label > 0 || aria || wrapped, `input #${id} has no label`);
  }
  return n;
}

function assertClean(result, screen) {
  assert.deepEqual(result.violations, [], `${screen}: ${JSON.stringify(result.violations, null, 1)}`);
  // The rules really ran (a page without text would pass contrast trivially).
  assert.ok(result.passed.includes("color-contrast"), `${screen}: contrast was checked`);
  assert.ok(result.passed.includes("label"), `${screen}: labels were checked`);
}

test("sign-in and worklist screens: labelled inputs and AA contrast", async () => {
  const context = await phone(browser);
  const page = await context.newPage();

  await page.goto("/masuk");
  await page.getByLabel("Nama pengguna").waitFor();
  assert.ok((await everyInputNamed(page)) >= 2);
  assertClean(await audit(page), "sign-in");

  await signIn(page, { pin: PIN });
  await page.locator("a.row").first().waitFor();
  assert.ok((await everyInputNamed(page)) >= 2);
  assertClean(await audit(page), "worklist");
  await context.close();
});

test("household (score preview) and Uji Petik (with a finding shown): no WCAG 2 A/AA violation", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  await page.locator("a.row").first().click();
  await page.locator('[data-field="desil"]').waitFor();
  const wcag = async () => {
    await page.evaluate(AXE);
    return page.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
      return r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) }));
    });
  };
  assert.deepEqual(await wcag(), [], "household");
  await page.locator('[data-field="uji-petik"]').click();
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  await page.locator("#f-housing-floor_area_m2").fill("0");
  await page.locator('#f-housing-floor_area_m2-msg [data-rule="variable.range"]').waitFor();
  assert.ok((await everyInputNamed(page)) > 20);
  assert.deepEqual(await wcag(), [], "uji petik");
  await context.close();
});

test("the active tab is marked, focus rings are not clipped, and the title names the screen", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await page.goto("/masuk");
  await page.waitForFunction(() => document.title === "Masuk — Tepat");
  await signIn(page, { pin: PIN, worklist: false });
  assert.equal(await page.title(), "Beranda — Tepat");
  assert.equal(await page.locator('nav.tabs a[aria-current="page"]').count(), 0, "no tab is the home screen");

  const current = () => page.locator('nav.tabs a[aria-current="page"]').allInnerTexts();
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.waitForFunction(() => document.title === "Daftar Tugas — Tepat");
  assert.deepEqual(await current(), ["Tugas"]);
  await page.getByRole("link", { name: "Kotak Keluar", exact: true }).click();
  await page.waitForFunction(() => document.title === "Kotak Keluar — Tepat");
  assert.deepEqual(await current(), ["Kotak Keluar"]);
  await page.getByRole("link", { name: "Cek NIK", exact: true }).click();
  await page.waitForFunction(() => document.title === "Cek NIK — Tepat");
  assert.deepEqual(await current(), ["Cek NIK"]);

  // A tapped tab shows no focus ring (no stray bar); from the keyboard the ring is drawn
  // inside the tab, so the scrolling tab bar cannot clip it.
  const ring = () => page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { tag: document.activeElement.tagName, style: s.outlineStyle, offset: s.outlineOffset };
  });
  const tapped = await ring();
  assert.equal(tapped.tag, "A");
  assert.equal(tapped.style, "none", "no focus ring after a tap");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Tab");
  const keyed = await ring();
  assert.equal(keyed.tag, "A");
  assert.notEqual(keyed.style, "none", "a focus ring from the keyboard");
  assert.ok(parseFloat(keyed.offset) < 0, `ring inside the tab (offset ${keyed.offset})`);

  // A family's screens.
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.locator("a.row").first().click();
  await page.waitForFunction(() => document.title === "Keluarga — Tepat");
  await page.locator('[data-field="uji-petik"]').click();
  await page.waitForFunction(() => document.title === "Uji Petik — Tepat");

  // Locked, every screen is the unlock screen.
  await page.reload();
  await page.getByRole("heading", { name: "Buka Tepat" }).waitFor();
  await page.waitForFunction(() => document.title === "Buka Tepat — Tepat");
  await context.close();
});
