// The quarterly ranking reaches the device: the demo has a published run, so the
// household page shows the family's official desil with its quarter beside the
// preview; the admin runs and publishes the next quarter in the console (Peringkat, on
// a phone: the refusal of a published quarter, the progress bar to its end, the
// confirmation), the analyst reads the runs at laptop width without the admin's
// controls, and the facilitator's next pull shows the new quarter's official desil.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, api, signIn, openHousehold, BASE, DEMO_PASSWORD } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** `METHOD path` with a JSON body as `username` (demo password), from the page. */
async function call(page, username, method, path, body) {
  return page.evaluate(async ([username, method, path, body]) => {
    const login = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: DEMO_PASSWORD }),
    }).then((r) => r.json());
    const r = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${login.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: await r.json().catch(() => null) };
  }, [username, method, path, body]);
}

test("the official desil of the published run shows on the household page, and a new run reaches the next pull", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { username: "pendamping1", pin: "135792" });
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  assert.ok(pull.ranking, "the demo has a published ranking run");
  const h = pull.households.find((x) => x.official);
  assert.ok(h, "families carry their official desil");
  await openHousehold(page, h.no_kk);
  await page.getByText(`Desil resmi (triwulan ${pull.ranking.period})`).waitFor();
  assert.equal(await page.locator('[data-field="official-desil"]').textContent(), String(h.official.desil));
  await page.getByText("Desil pratinjau (dihitung di perangkat, bukan hasil resmi)").waitFor();

  // The admin runs and publishes the next quarter.
  const next = pull.ranking.period.endsWith("Q4")
    ? `${Number(pull.ranking.period.slice(0, 4)) + 1}Q1`
    : `${pull.ranking.period.slice(0, 5)}${Number(pull.ranking.period[5]) + 1}`;
  const office = await phone(browser);
  const a = await office.newPage();
  await signIn(a, { username: "admin", pin: "246810", worklist: false });
  await a.getByRole("link", { name: "Peringkat", exact: true }).click();
  await a.getByRole("heading", { name: "Pemeringkatan triwulanan" }).waitFor();
  assert.equal(await a.title(), "Pemeringkatan triwulanan — Tepat");
  const period = a.getByLabel("Periode (tahun dan triwulan, mis. 2026Q4)");
  // The form offers the current quarter, which the demo published: the server refuses
  // it, in its own words.
  await a.locator('li[data-published="true"]').first().waitFor();
  const { current_period: current } = await api(a, "admin", "/api/v1/ranking/runs");
  assert.equal(await period.inputValue(), current);
  await a.getByRole("button", { name: "Jalankan peringkat" }).click();
  await a.locator('[data-field="ranking-error"]').getByText(`Periode ${current} sudah diterbitkan`).waitFor();
  await period.fill(next);
  await a.getByRole("button", { name: "Jalankan peringkat" }).click();
  const status = a.locator('[data-field="ranking-status"]');
  await status.waitFor();
  assert.equal(await a.locator('[data-field="ranking-error"]').count(), 0);
  await a.locator('[data-field="ranking-status"][data-status="done"]').waitFor({ timeout: 60_000 });
  assert.match(await status.innerText(), new RegExp(`Pemeringkatan ${next}`));
  const bar = a.locator('[data-field="ranking-progress"]');
  assert.equal(await bar.getAttribute("value"), await bar.getAttribute("max"), "the progress bar is at its end");
  const row = a.locator('li[data-status="done"][data-published="false"]').filter({ hasText: next });
  await row.waitFor();
  assert.match(await row.locator('[data-field="run-counts"]').innerText(), /keluarga/);
  assert.match(await row.innerText(), /oleh admin/);
  await row.locator('[data-field="run-timings"] summary').click();
  assert.match(await row.locator('[data-field="run-timings"]').innerText(), /Menilai/);
  // Publishing asks first; cancelling publishes nothing.
  await row.getByRole("button", { name: "Terbitkan", exact: true }).click();
  await row.locator('[data-field="publish-confirm"]').getByText(`Terbitkan peringkat ${next}?`).waitFor();
  await row.getByRole("button", { name: "Batal" }).click();
  assert.equal(await row.locator('[data-field="publish-confirm"]').count(), 0);
  await row.getByRole("button", { name: "Terbitkan", exact: true }).click();
  await row.getByRole("button", { name: "Ya, terbitkan" }).click();
  const done = a.locator('li[data-published="true"]').filter({ hasText: next });
  await done.waitFor();
  assert.match(await done.locator('[data-field="run-status"]').innerText(), /Selesai, diterbitkan/);
  assert.equal(await done.getByRole("button", { name: "Terbitkan", exact: true }).count(), 0);
  const wide = await a.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
  assert.equal(wide, false, "no sideways scrolling at 360 px");
  await office.close();

  // The analyst reads the runs at laptop width: no form, no publish button.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE });
  const an = await desk.newPage();
  await signIn(an, { username: "analis1", pin: "975310", worklist: false });
  await an.getByRole("link", { name: "Peringkat", exact: true }).click();
  await an.locator('li[data-published="true"]').filter({ hasText: next }).waitFor();
  assert.equal(await an.locator('[data-field="ranking-form"]').count(), 0);
  assert.equal(await an.getByRole("button", { name: "Terbitkan", exact: true }).count(), 0);
  await desk.close();

  // A facilitator cannot start one.
  const refused = await call(page, "pendamping1", "POST", "/api/v1/ranking/runs", { period: "2099Q1" });
  assert.equal(refused.status, 403);

  const after = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const again = after.households.find((x) => x.no_kk === h.no_kk);
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.getByRole("button", { name: "Perbarui daftar" }).click();
  await openHousehold(page, h.no_kk);
  await page.getByText(`Desil resmi (triwulan ${next})`).waitFor();
  assert.equal(await page.locator('[data-field="official-desil"]').textContent(), String(again.official.desil));
  await context.close();
});
