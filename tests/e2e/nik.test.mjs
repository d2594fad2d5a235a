// The NIK screen validates live through tepat-core, in Indonesian by
// default, and keeps working offline after one visit (service worker + IndexedDB).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, swReady } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const VALID_FEMALE = "1171015506850123"; // Banda Aceh / Baiturrahman, 15 June 1985, day+40
const BAD_PROVINCE = "9901010101900001";

async function typeNik(page, nik) {
  const field = page.locator("#nik");
  await field.fill("");
  await field.pressSequentially(nik);
}

async function checkScreen(page) {
  const field = page.getByLabel("NIK (16 digit)");
  assert.equal(await field.getAttribute("inputmode"), "numeric");
  const box = await field.boundingBox();
  assert.ok(box && box.height >= 44, `touch target too small: ${box && box.height}px`);

  // Too short while typing: the length rule, in Indonesian.
  await typeNik(page, "11710155");
  await page.locator('[data-rule="nik.length"]').waitFor();
  assert.match(await page.locator('[data-rule="nik.length"]').innerText(), /NIK harus 16 digit; yang diisi 8 karakter/);

  // Unknown province.
  await typeNik(page, BAD_PROVINCE);
  const prov = page.locator('[data-rule="nik.province"]');
  await prov.waitFor();
  assert.match(await prov.innerText(), /Kode provinsi 99 pada NIK tidak dikenal/);
  assert.equal(await field.getAttribute("aria-invalid"), "true");

  // Valid: no findings, and the decoded parts.
  await typeNik(page, VALID_FEMALE);
  // A well-formed NIK is not said to be "sah" (nobody may read it as registered).
  await page.getByText("Format NIK benar (ini tidak berarti NIK terdaftar di Dukcapil).").waitFor();
  assert.equal(await page.getByText(/NIK sah/).count(), 0);
  assert.equal(await page.locator(".finding").count(), 0);
  assert.equal(await page.locator('[data-field="birth_date"]').innerText(), "15 Juni 1985");
  assert.equal(await page.locator('[data-field="sex"]').innerText(), "perempuan");
  assert.match(await page.locator('[data-field="district"]').innerText(), /Baiturrahman, Aceh \(11\.71\.01\)/);
  assert.equal(await field.getAttribute("aria-invalid"), "false");
}

test("NIK screen validates live in Bahasa Indonesia, switches to English", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await page.goto("/cek-nik");
  await checkScreen(page);

  await page.getByRole("button", { name: /English/ }).click();
  await page.getByLabel("NIK (16 digits)").waitFor();
  await page.getByText("The NIK is well formed (this does not mean it is registered with Dukcapil).").waitFor();
  assert.equal(await page.locator('[data-field="birth_date"]').innerText(), "15 June 1985");
  assert.equal(await page.locator("html").getAttribute("lang"), "en");
  await typeNik(page, BAD_PROVINCE);
  assert.match(await page.locator('[data-rule="nik.province"]').innerText(), /Province code 99 in the NIK is unknown/);
  await context.close();
});

test("after one visit the app loads and validates offline", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await page.goto("/cek-nik");
  await swReady(page);
  // The region table is in IndexedDB once a valid NIK decodes from the network copy.
  await typeNik(page, VALID_FEMALE);
  await page.getByText(/^Format NIK benar/).waitFor();
  await page.waitForFunction(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open("tepat-cache");
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    if (!db.objectStoreNames.contains("kv")) return false;
    const v = await new Promise((res) => {
      const r = db.transaction("kv").objectStore("kv").get("regions");
      r.onsuccess = () => res(r.result);
      r.onerror = () => res(undefined);
    });
    db.close();
    return Boolean(v && v.csv && v.csv.length > 1000);
  });

  await context.setOffline(true);
  await page.reload();
  await page.getByRole("heading", { name: "Cek NIK" }).waitFor();
  await checkScreen(page);
  // Another route also loads offline (client-side routing through the cached index.html).
  await page.goto("/");
  await page.getByRole("heading", { name: "Selamat datang di Tepat" }).waitFor();
  await context.close();
});
