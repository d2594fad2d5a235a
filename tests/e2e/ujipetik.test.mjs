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

/** Whether the element is on screen (inside the 360×640 viewport). */
async function onScreen(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
  });
}

test("uji petik: the key variables by default, each sesuai or corrected; the whole form one tap away; blocks, sticky desil, first error focused", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  // A household with several members, not one the tests above send.
  const target = pull.households
    .filter((h) => h.keluarga.anggota.filter((a) => [1, 5].includes(a.presence ?? 1)).length >= 3)
    .at(0);
  assert.ok(target, "a household of three or more");
  const kk = target.no_kk;
  await openHousehold(page, kk);
  // Amounts in Rupiah are formatted once: "Rp2.555.989", never "RpRp".
  const spending = page.locator(".score p").filter({ hasText: "per kapita per bulan" });
  await spending.waitFor();
  assert.match(await spending.innerText(), /: Rp\d{1,3}(\.\d{3})*$/);
  assert.equal(await page.getByText(/RpRp|IDR Rp/).count(), 0);
  await page.locator('[data-field="uji-petik"]').click();
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();

  // By default only the rulebook's key variables are asked (and the GPS evidence).
  const rulebook = await api(page, "pendamping1", "/api/v1/rulebook");
  const keys = new Set(rulebook.variables.filter((v) => v.key).map((v) => v.id));
  assert.equal(keys.size, 36, "36 key variables in the rulebook");
  const shown = () => page.locator(".field[data-var]").evaluateAll((els) => els.filter((e) => e.offsetParent !== null).map((e) => e.dataset.var));
  const keyOnly = await shown();
  assert.ok(keyOnly.length > 10, `key questions shown: ${keyOnly.length}`);
  for (const id of keyOnly) assert.ok(keys.has(id) || id === "gps", `${id} shown but not key`);
  assert.ok(keyOnly.includes("302") && !keyOnly.includes("501a") && !keyOnly.includes("430"));
  // Each key question is prefilled with the record's answer.
  assert.equal(await page.locator("#f-housing-floor_area_m2").inputValue(), String(target.keluarga.housing.floor_area_m2));

  // The whole questionnaire is one tap away, and back.
  await page.getByRole("button", { name: "Tampilkan seluruh kuesioner" }).click();
  await page.locator('.field[data-var="501a"]').waitFor();
  const all = await shown();
  assert.ok(all.length > keyOnly.length * 1.3, `${all.length} questions in the whole form, ${keyOnly.length} key`);
  await page.getByRole("button", { name: "Tampilkan variabel kunci saja" }).click();
  await page.locator('.field[data-var="501a"]').waitFor({ state: "hidden" });

  // "Sesuai" keeps the recorded answer; a changed answer is a correction.
  const progress = page.locator('[data-field="key-progress"]');
  const [, done0, asked] = (await progress.innerText()).match(/(\d+)\/(\d+) kunci diperiksa/).map(Number);
  assert.equal(done0, 0);
  assert.ok(asked >= keyOnly.length - 1, `${asked} key answers asked`);
  await page.locator("#f-housing-floor_area_m2-ok").click();
  assert.equal(await page.locator("#f-housing-floor_area_m2-ok").getAttribute("aria-pressed"), "true");
  await page.locator("#f-housing-floor_area_m2-state").getByText("Sesuai").waitFor();
  await progress.getByText(`1/${asked} kunci diperiksa`).waitFor();
  const wall = page.locator("#f-housing-wall");
  const other = target.keluarga.housing.wall === 1 ? "3" : "1";
  await wall.selectOption(other);
  await page.locator("#f-housing-wall-state").getByText("Dikoreksi").waitFor();
  await progress.getByText(`2/${asked} kunci diperiksa`).waitFor();
  // Sesuai on a corrected answer takes the correction back.
  await page.locator("#f-housing-wall-ok").click();
  await page.locator("#f-housing-wall-state").getByText("Sesuai").waitFor();
  assert.equal(await wall.inputValue(), String(target.keluarga.housing.wall));

  // The desil preview stays on screen while answering, deep in the members' block.
  const sticky = page.locator('[data-field="sticky-summary"]');
  await page.locator("#sec-IV").scrollIntoViewIfNeeded();
  await page.mouse.wheel(0, 900);
  assert.ok(await onScreen(sticky), "the summary bar is on screen");
  assert.match(await sticky.locator('[data-field="sticky-desil"]').innerText(), /^Desil ([1-9]|10)$/);

  // Block navigation with each block's findings: an impossible floor area counts in III.
  const area = page.locator("#f-housing-floor_area_m2");
  await area.fill("0");
  await page.locator('#f-housing-floor_area_m2-msg [data-rule="variable.range"]').waitFor();
  const blockIII = sticky.locator('.blocks a[data-block="III"]');
  await page.waitForFunction(() => Number(document.querySelector('.blocks a[data-block="III"]').dataset.count) >= 1);
  assert.match(await blockIII.getAttribute("aria-label"), /Blok III\. Keterangan perumahan \(\d+\)/);
  for (const b of ["I", "III", "IV", "V"]) await sticky.locator(`.blocks a[data-block="${b}"]`).waitFor();
  await sticky.locator('.blocks a[data-block="V"]').click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "sec-V");

  // Sending from the bottom with the error far above: the first error is focused, on screen.
  await page.locator("#submit-uji-petik").scrollIntoViewIfNeeded();
  assert.ok(!(await onScreen(area)), "the error is off screen before sending");
  await page.getByLabel("Alasan perubahan").fill("uji e2e: lompat ke kesalahan");
  await page.locator("#submit-uji-petik").click();
  await page.getByText("Belum dapat dikirim: perbaiki kesalahan yang ditandai. Layar sudah dipindah ke kesalahan pertama.").waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "f-housing-floor_area_m2");
  assert.ok(await onScreen(area), "the first error is on screen");
  await context.close();
});
