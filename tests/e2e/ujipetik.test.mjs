// The ground check (Uji Petik): live tepat-core validation in Indonesian
// beside the field and in a linked summary, the score preview, a draft that survives a
// crashed tab, GPS and a shrunk house photo, and one change request in the outbox.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, api, signIn, openHousehold } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "864209";
const AREA = "#f-housing-floor_area_m2";

/** Items in the device's outbox database (IndexedDB `tepat-outbox`). */
async function outboxCount(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-outbox"); r.onsuccess = () => res(r.result); });
    const n = await new Promise((res) => { const r = db.transaction("items").objectStore("items").count(); r.onsuccess = () => res(r.result); });
    db.close();
    return n;
  });
}

/** The stored photos' MIME types (IndexedDB `tepat-drafts`, store `photos`). */
async function photoTypes(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-drafts"); r.onsuccess = () => res(r.result); });
    const all = await new Promise((res) => { const r = db.transaction("photos").objectStore("photos").getAll(); r.onsuccess = () => res(r.result); });
    db.close();
    const out = [];
    for (const b of all) {
      const bmp = await createImageBitmap(b);
      out.push({ type: b.type, w: bmp.width, h: bmp.height });
    }
    return out;
  });
}

test("uji petik: Indonesian finding beside the field and in the summary, draft survives a crash, one outbox item", async () => {
  const context = await phone(browser);
  await context.grantPermissions(["geolocation"]);
  await context.setGeolocation({ latitude: -6.2146, longitude: 106.8451, accuracy: 8 });
  const page = await context.newPage();
  await signIn(page, { pin: PIN });

  // A household of pendamping1 without a spouse (the events suite uses those with one).
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const target = pull.households
    .filter((h) => !h.keluarga.anggota.some((a) => a.relationship === 2))
    .at(-1);
  assert.ok(target, "a household without a spouse");
  const kk = target.no_kk;

  // The household page shows the score preview with a desil.
  await openHousehold(page, kk);
  const desil = page.locator('[data-field="desil"]');
  await desil.waitFor();
  assert.match(await desil.innerText(), /Perkiraan desil\s+([1-9]|10)$/);
  await page.locator('[data-field="uji-petik"]').click();
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), "no horizontal overflow at 360 px");
  assert.equal(await page.locator("#no-kk").getAttribute("inputmode"), "numeric");
  assert.equal(await page.locator("#nik-0").getAttribute("inputmode"), "numeric");

  // An impossible floor area: the core's message, in Indonesian, beside the field and in the summary.
  await page.locator(AREA).fill("0");
  const beside = page.locator(`${AREA}-msg [data-rule="variable.range"]`);
  await beside.waitFor();
  assert.match(await beside.innerText(), /harus antara 1 dan 10000/);
  assert.equal(await page.locator(AREA).getAttribute("aria-invalid"), "true");
  const link = page.locator(`.summary [data-rule="variable.range"][data-path="housing.floor_area_m2"] a[href="${AREA}"]`);
  await link.waitFor();
  assert.equal(await link.innerText(), await beside.innerText());
  await link.click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), AREA.slice(1));

  // Fixed: gone from both places.
  await page.locator(AREA).fill("45");
  await beside.waitFor({ state: "detached" });
  assert.equal(await link.count(), 0);
  assert.equal(await page.locator(AREA).getAttribute("aria-invalid"), "false");

  // The live preview in the form shows a desil too.
  await page.locator('.score [data-field="desil"]').waitFor();

  // GPS with its accuracy, into the family's GPS field.
  await page.getByRole("button", { name: "Ambil lokasi GPS" }).click();
  await page.locator('[data-field="gps"]').getByText("-6.214600, 106.845100 ± 8 m").waitFor();

  // A big house photo is shrunk to 1280 px JPEG and stored on the device.
  const png = await page.evaluate(async () => {
    const c = new OffscreenCanvas(2000, 1500);
    const g = c.getContext("2d");
    g.fillStyle = "#7a5"; g.fillRect(0, 0, 2000, 1500);
    const b = await c.convertToBlob({ type: "image/png" });
    return Array.from(new Uint8Array(await b.arrayBuffer()));
  });
  await page.locator("#f-photo").setInputFiles({ name: "rumah.png", mimeType: "image/png", buffer: Buffer.from(png) });
  await page.locator('img[data-field="photo"]').waitFor();
  assert.deepEqual(await photoTypes(page), [{ type: "image/jpeg", w: 1280, h: 960 }]);
  // Every change saved, the photo's included: "Draf tersimpan" alone was already shown
  // by an earlier save, and a crash before the photo's save lost it (a flaky run).
  await page.locator('[data-field="draft-status"][data-saved="true"]').getByText("Draf tersimpan di perangkat").waitFor();

  // Kill the tab mid-form (no unload handlers run), reopen in a new page: the draft is there.
  const cdp = await context.newCDPSession(page);
  const crashed = page.waitForEvent("crash");
  // The call itself never answers: the renderer is gone.
  cdp.send("Page.crash").catch(() => {});
  await crashed;
  await page.close();
  const page2 = await context.newPage();
  await page2.goto(`/keluarga/${kk}/uji-petik`);
  await page2.getByLabel("PIN").fill(PIN);
  await page2.getByRole("button", { name: "Buka" }).click();
  await page2.getByRole("heading", { name: "Uji Petik" }).waitFor();
  await page2.waitForFunction((sel) => document.querySelector(sel)?.value === "45", AREA);
  await page2.locator('[data-field="gps"]').getByText("± 8 m").waitFor();
  await page2.locator('img[data-field="photo"]').waitFor();

  // The worklist shows the family as a draft.
  await page2.getByRole("link", { name: "Tugas", exact: true }).click();
  await page2.getByLabel("Cari nama, NIK, No. KK atau alamat").fill(kk);
  await page2.locator(`a.row[data-kk="${kk}"] .state.draft`).getByText("Draf").waitFor();

  // Submit offline. 1 m² for the family is in range but implausible: the core's warning
  // blocks until confirmed, then exactly one item waits in the outbox.
  await page2.locator(`a.row[data-kk="${kk}"]`).click();
  await page2.getByRole("link", { name: "Lanjutkan draf Uji Petik" }).click();
  await page2.waitForFunction((sel) => document.querySelector(sel)?.value === "45", AREA);
  assert.equal(await outboxCount(page2), 0);
  await context.setOffline(true);
  await page2.locator(AREA).fill("1");
  await page2.locator(`${AREA}-msg [data-rule="housing.floor_area_per_person"]`).waitFor();
  await page2.getByLabel("Alasan perubahan").fill("uji petik e2e: luas lantai diukur ulang");
  await page2.getByRole("button", { name: "Kirim koreksi ke Kotak Keluar" }).click();
  await page2.getByText("Ada peringatan. Periksa lalu centang konfirmasi sebelum mengirim.").waitFor();
  assert.equal(await outboxCount(page2), 0, "a warning blocks until confirmed");
  await page2.getByLabel("Saya sudah memeriksa semua peringatan dan datanya benar.").check();
  await page2.getByRole("button", { name: "Kirim koreksi ke Kotak Keluar" }).click();
  await page2.getByText("Uji petik dikirim ke Kotak Keluar.").waitFor();
  assert.equal(await outboxCount(page2), 1);
  const raw = await page2.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-outbox"); r.onsuccess = () => res(r.result); });
    const all = await new Promise((res) => { const r = db.transaction("items").objectStore("items").getAll(); r.onsuccess = () => res(r.result); });
    db.close();
    return JSON.stringify(all, (k, v) => (v instanceof Uint8Array ? new TextDecoder("latin1").decode(v) : v));
  });
  assert.ok(!raw.includes(target.keluarga.anggota[0].nik), "a NIK in clear in the outbox");

  // Back online, it reaches the server once, in the review queue with the confirmed warning.
  await context.setOffline(false);
  await page2.getByRole("link", { name: "Kotak Keluar" }).click();
  await page2.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor({ timeout: 45000 });
  const queue = await api(page2, "koordinator1", "/api/v1/review?limit=500");
  const items = queue.items.filter((i) => i.no_kk === kk && i.kind === "variable_correction");
  assert.equal(items.length, 1);
  assert.ok(items[0].reasons.includes("confirmed_warnings"), JSON.stringify(items[0].reasons));
  assert.deepEqual(items[0].request.confirmed_warnings, [
    { rule: "housing.floor_area_per_person", path: "housing.floor_area_m2" },
  ]);
  const fix = items[0].request.event.corrections.find((c) => c.field === "housing.floor_area_m2");
  assert.equal(fix.value, 1);
  // The visit date travels with the corrections (it becomes the family's ground-check date).
  assert.match(items[0].request.event.visited, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(items[0].request.evidence.some((e) => e.kind === "gps" && e.gps.accuracy_m === 8));
  assert.ok(items[0].request.evidence.some((e) => e.kind === "photo"));
  await context.close();
});

test("uji petik: a visit that finds every answer correct confirms the record (data sesuai)", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  // Another household without a spouse than the test above takes.
  const target = pull.households
    .filter((h) => !h.keluarga.anggota.some((a) => a.relationship === 2))
    .at(-2);
  assert.ok(target, "a household without a spouse");
  const kk = target.no_kk;
  assert.equal(target.keluarga.ground_checked, undefined);

  await openHousehold(page, kk);
  await page.locator('[data-field="uji-petik"]').click();
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  // Nothing changed: the button confirms, and the note is optional.
  const send = page.getByRole("button", { name: "Semua data sesuai — kirim" });
  await send.waitFor();
  await page.getByLabel("Catatan kunjungan (boleh kosong)").waitFor();
  const counts = await page.locator('[data-field="finding-count"]').innerText();
  const [, errors, warns] = counts.match(/(\d+) kesalahan, (\d+) peringatan/).map(Number);
  assert.equal(errors, 0, "demo families are valid");
  if (warns > 0) {
    await page.getByLabel("Saya sudah memeriksa semua peringatan dan datanya benar.").check();
  }
  await send.click();
  await page.getByText("Uji petik dikirim ke Kotak Keluar.").waitFor();
  await page.getByRole("link", { name: "Kotak Keluar" }).click();
  await page.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor({ timeout: 45000 });

  const after = await api(page, "pendamping1", `/api/v1/sync/pull?cursor=0&limit=2000`);
  const now = after.households.find((h) => h.no_kk === kk);
  if (warns === 0) {
    // Applied at once: the next version carries the visit date and nothing else changed.
    assert.equal(now.version, target.version + 1);
    assert.match(now.keluarga.ground_checked, /^\d{4}-\d{2}-\d{2}$/);
    // (The record also notes the rulebook version it was validated with.)
    const { ground_checked, version, rulebook_version, ...rest } = now.keluarga;
    const { version: v0, rulebook_version: r0, ...rest0 } = target.keluarga;
    assert.deepEqual(rest, rest0);
  } else {
    // Confirmed warnings go to the supervisor first.
    const queue = await api(page, "koordinator1", "/api/v1/review?limit=500");
    const items = queue.items.filter((i) => i.no_kk === kk && i.kind === "ground_check_confirmed");
    assert.equal(items.length, 1);
    assert.equal(items[0].request.reason, "Uji petik: semua data sesuai");
  }
  await context.close();
});
