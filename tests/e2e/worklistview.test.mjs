// The worklist and the household page as a facilitator uses them on a 360×640 phone:
// a family on the first screen, village names (not codes), a village filter and a
// sort, the search and filter kept through Back; the members as cards with no word
// split across lines, every tap target at least 44 px; and an unknown No. KK says
// "keluarga tidak ditemukan" and offers nothing to act on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, api, signIn } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "357913";
const CODE = /\b\d{2}\.\d{2}\.\d{2}\.\d{4}\b/;

/** Tap targets under 44 × 44 px among the visible links, buttons and fields. */
async function smallTargets(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("a, button, select, input, textarea, summary")]
      .filter((el) => !["checkbox", "radio", "hidden"].includes(el.type))
      .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
      .map((el) => ({ el, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.height < 44 || r.width < 44)
      .map(({ el, r }) => `${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute("aria-label") || "").trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`),
  );
}

/** Words of `selector`'s text that the layout breaks across two lines. */
async function splitWords(page, selector) {
  return page.evaluate((selector) => {
    const out = [];
    const root = document.querySelector(selector);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (const m of n.data.matchAll(/\S+/g)) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
        if (lines.size > 1) out.push(m[0]);
      }
    }
    return out;
  }, selector);
}

test("the worklist: a family on the first screen, village names, a village filter and a sort, kept through Back", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { username: "pendamping1", pin: PIN });
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const first = page.locator(".worklist a.row").first();
  await first.waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await first.boundingBox();
  assert.ok(box.y + box.height <= 640, `the first family ends at ${Math.round(box.y + box.height)} px, below the 640 px screen`);
  assert.deepEqual(await smallTargets(page), [], "worklist tap targets");

  // Villages by name, in the rows and in the filter.
  await page.getByText("Saring dan urutkan").click();
  const villages = [...new Set(pull.households.map((h) => h.village))];
  assert.ok(villages.length >= 2, "pendamping1 covers two villages");
  const options = await page.locator("#village option").evaluateAll((os) => os.map((o) => ({ value: o.value, text: o.textContent })));
  assert.deepEqual(options.slice(1).map((o) => o.value).sort(), villages.sort());
  for (const o of options) assert.doesNotMatch(o.text, CODE, "a village option shows a code");
  await page.locator(".worklist a.row").first().waitFor();
  for (const text of await page.locator(".worklist a.row").evaluateAll((as) => as.slice(0, 20).map((a) => a.innerText))) {
    assert.doesNotMatch(text, CODE, "a row shows a village code");
  }

  // The village filter.
  const village = villages[1];
  const inVillage = pull.households.filter((h) => h.village === village).length;
  await page.getByLabel("Desa/kelurahan").selectOption(village);
  await page.locator('[data-field="count"]').getByText(`${inVillage} keluarga`).waitFor();
  const shown = await page.locator(".worklist a.row").evaluateAll((as) => as.map((a) => a.dataset.village));
  assert.ok(shown.length > 0 && shown.every((v) => v === village));

  // The sort by last visit: never visited first, then the oldest visit.
  await page.getByLabel("Urutkan").selectOption({ label: "Kunjungan terakhir (terlama dulu)" });
  const visits = await page.locator(".worklist a.row").evaluateAll((as) => as.map((a) => a.dataset.visited));
  assert.deepEqual(visits, [...visits].sort());
  await page.getByLabel("Urutkan").selectOption({ label: "Nama" });

  // Search, filter and village survive opening a family and coming Back.
  const target = pull.households.find((h) => h.village === village);
  const head = target.keluarga.anggota.find((a) => a.relationship === 1) ?? target.keluarga.anggota[0];
  const word = head.name.split(" ")[0];
  await page.getByLabel("Cari nama, NIK, No. KK atau alamat").fill(word);
  await page.getByLabel("Status", { exact: true }).selectOption({ label: "Belum dikunjungi" });
  const count = await page.locator('[data-field="count"]').innerText();
  await page.locator(`.worklist a.row[data-kk="${target.no_kk}"]`).click();
  await page.locator('[data-field="no_kk"]').getByText(target.no_kk).waitFor();
  await page.goBack();
  await page.getByRole("heading", { name: "Daftar Tugas" }).waitFor();
  assert.equal(await page.getByLabel("Cari nama, NIK, No. KK atau alamat").inputValue(), word);
  assert.equal(await page.getByLabel("Status", { exact: true }).inputValue(), "not_visited");
  assert.equal(await page.getByLabel("Desa/kelurahan").inputValue(), village);
  assert.equal(await page.locator('[data-field="count"]').innerText(), count);
  await page.locator(`.worklist a.row[data-kk="${target.no_kk}"]`).waitFor();
  await context.close();
});

test("the household at 360 px: members as cards with no split word, tap targets of 44 px; an unknown No. KK is not found", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { username: "pendamping1", pin: PIN });
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  // The family with the most members.
  const big = [...pull.households].sort((a, b) => b.keluarga.anggota.length - a.keluarga.anggota.length)[0];
  assert.ok(big.keluarga.anggota.length >= 3);
  await page.goto(`/keluarga/${big.no_kk}`);
  await page.getByLabel("PIN").fill(PIN);
  await page.getByRole("button", { name: "Buka" }).click();
  await page.locator('[data-field="no_kk"]').getByText(big.no_kk).waitFor();
  await page.locator(".members tbody tr").first().waitFor();
  assert.deepEqual(await splitWords(page, ".members tbody"), [], "words split across lines in the members list");
  // Each member is a card: its relation is labelled beside it.
  const card = page.locator(".members tbody tr").first();
  assert.equal(await card.evaluate((tr) => getComputedStyle(tr).display), "block", "a member is a card");
  assert.equal(await card.locator('td[data-label="Hubungan"]').count(), 1);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page is ${width} px wide`);
  assert.deepEqual(await smallTargets(page), [], "household tap targets");

  // An unknown No. KK: not found, nothing to act on, no "no connection".
  await page.goto("/keluarga/3201999999999999");
  await page.getByLabel("PIN").fill(PIN);
  await page.getByRole("button", { name: "Buka" }).click();
  await page.getByRole("heading", { name: "Keluarga tidak ditemukan" }).waitFor();
  await page.waitForTimeout(500);
  const text = await page.locator("main").innerText();
  assert.match(text, /keluarga tidak ditemukan/i);
  assert.doesNotMatch(text, /Tidak ada sambungan/);
  assert.equal(await page.locator('[data-field="uji-petik"]').count(), 0);
  assert.equal(await page.getByLabel("Jenis peristiwa").count(), 0);
  await context.close();
});
