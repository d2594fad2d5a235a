// Life events and the outbox: a death is checked by tepat-core before it is
// queued (Indonesian finding, then fixed), queued in IndexedDB, kept across an offline
// reload, and synced exactly once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, swReady, api, signIn, openHousehold } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "975310";

/** Households of pendamping1 with a living spouse (409 = 2) besides the head. */
async function candidates(page) {
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  return pull.households
    .map((h) => ({ kk: h.no_kk, spouse: h.keluarga.anggota.find((a) => a.relationship === 2 && (a.presence ?? 1) === 1) }))
    .filter((h) => h.spouse);
}

async function deathsInQueue(page, kk) {
  const q = await api(page, "koordinator1", "/api/v1/review?limit=500");
  return q.items.filter((i) => i.no_kk === kk && i.kind === "member_died").length;
}

async function recordDeath(page, name, date) {
  if (!(await page.getByLabel("Anggota yang meninggal").isVisible())) {
    await page.getByLabel("Jenis peristiwa").selectOption({ label: "Kematian" });
  }
  await page.getByLabel("Anggota yang meninggal").selectOption({ label: name });
  await page.getByLabel("Tanggal meninggal").fill(date);
  await page.getByLabel("Keterangan").fill("uji e2e");
  await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
}

test("a death with a future date is refused in Indonesian, fixed, queued and synced once", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  const [target] = await candidates(page);
  assert.ok(target, "a household with a spouse");
  const before = await deathsInQueue(page, target.kk);

  await openHousehold(page, target.kk);
  await recordDeath(page, target.spouse.name, "2099-01-01");
  const finding = page.locator('[data-rule="event.date_future"]');
  await finding.waitFor();
  assert.match(await finding.innerText(), /Tanggal peristiwa \(2099-01-01\) ada di masa depan/);

  await page.getByLabel("Tanggal meninggal").fill("2026-11-01");
  await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  await page.getByText("Kematian dicatat dan menunggu di Kotak Keluar.").waitFor();
  assert.equal(await finding.count(), 0);

  await page.getByRole("link", { name: "Kotak Keluar" }).click();
  await page.getByRole("heading", { name: "Kotak Keluar" }).waitFor();
  await page.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor();
  assert.equal(await deathsInQueue(page, target.kk), before + 1);
  await context.close();
});

test("offline: three deaths queue, survive a reload, then sync exactly once each", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  const targets = (await candidates(page)).slice(1, 4);
  assert.equal(targets.length, 3);
  const before = [];
  for (const t of targets) before.push(await deathsInQueue(page, t.kk));
  await swReady(page);

  await context.setOffline(true);
  for (const t of targets) {
    await page.getByRole("link", { name: "Tugas", exact: true }).click();
    await openHousehold(page, t.kk);
    await recordDeath(page, t.spouse.name, "2026-11-02");
    await page.getByText("Kematian dicatat dan menunggu di Kotak Keluar.").waitFor();
  }
  await page.getByRole("link", { name: "Kotak Keluar" }).click();
  await page.locator('[data-field="pending"]').getByText("3 perubahan menunggu").waitFor();

  // Reload while offline: the app opens, and the queued changes are still there.
  await page.reload();
  await page.getByLabel("PIN").fill(PIN);
  await page.getByRole("button", { name: "Buka" }).click();
  await page.locator('[data-field="pending"]').getByText("3 perubahan menunggu").waitFor();
  // The outbox lives in its own database, sealed: no name in clear.
  const raw = await page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-outbox"); r.onsuccess = () => res(r.result); });
    const all = await new Promise((res) => { const r = db.transaction("items").objectStore("items").getAll(); r.onsuccess = () => res(r.result); });
    db.close();
    return { n: all.length, text: JSON.stringify(all, (k, v) => (v instanceof Uint8Array ? new TextDecoder("latin1").decode(v) : v)) };
  });
  assert.equal(raw.n, 3);
  for (const t of targets) assert.ok(!raw.text.includes(t.spouse.nik), "a NIK in clear in the outbox");

  // Back online: the app syncs by itself (online event), without a tap.
  await context.setOffline(false);
  await page.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor({ timeout: 45000 });
  // A second sync sends nothing again.
  await page.getByRole("button", { name: "Sinkronkan sekarang" }).click();
  await page.locator('[data-field="last-sync"]').getByText("Sinkron terakhir:").waitFor();
  for (const [i, t] of targets.entries()) {
    assert.equal(await deathsInQueue(page, t.kk), before[i] + 1, `household ${i} holds the death exactly once`);
  }
  await context.close();
});
