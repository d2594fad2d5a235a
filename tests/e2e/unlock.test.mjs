// Unlock: wrong PINs are slowed, after five the account's password is checked at the
// server before the device opens, and "Lupa PIN?" signs out after a warning; through all
// of it the sealed outbox stays on the device and its work reaches the server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, api, signIn, openHousehold, DEMO_PASSWORD } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Items in the device's outbox database (IndexedDB `tepat-outbox`). */
async function outboxCount(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-outbox"); r.onsuccess = () => res(r.result); });
    if (!db.objectStoreNames.contains("items")) { db.close(); return 0; }
    const n = await new Promise((res) => { const r = db.transaction("items").objectStore("items").count(); r.onsuccess = () => res(r.result); });
    db.close();
    return n;
  });
}

/** Confirms a family as correct (data sesuai) with the device offline: one outbox item. */
async function confirmOffline(page, context, kk) {
  await openHousehold(page, kk, { fromTab: true });
  await page.locator('[data-field="uji-petik"]').click();
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  const send = page.getByRole("button", { name: "Semua data sesuai — kirim" });
  await send.waitFor();
  await context.setOffline(true);
  const confirm = page.getByLabel("Saya sudah memeriksa semua peringatan dan datanya benar.");
  if (await confirm.count()) await confirm.check();
  await send.click();
  await page.getByText("Uji petik dikirim ke Kotak Keluar.").waitFor();
  assert.equal(await outboxCount(page), 1);
}

/** The server has the confirmation of `kk`: applied (a new version) or in review. */
async function arrived(page, kk, version) {
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const now = pull.households.find((h) => h.no_kk === kk);
  if (now.version > version) return true;
  const queue = await api(page, "koordinator1", "/api/v1/review?limit=1000");
  return queue.items.some((i) => i.no_kk === kk && i.kind === "ground_check_confirmed");
}

async function waitSent(page) {
  await page.waitForFunction(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-outbox"); r.onsuccess = () => res(r.result); });
    const n = await new Promise((res) => { const r = db.transaction("items").objectStore("items").count(); r.onsuccess = () => res(r.result); });
    db.close();
    return n === 0;
  }, null, { timeout: 45000, polling: 500 });
}

async function newPin(page, pin) {
  await page.getByLabel("PIN baru (min. 6 angka)").fill(pin);
  await page.getByLabel("Ulangi PIN").fill(pin);
  await page.getByRole("button", { name: "Simpan PIN" }).click();
  await page.getByRole("heading", { name: "Beranda" }).waitFor();
}

test("wrong PINs slowed, the password after five, Lupa PIN: the sealed outbox is never wiped", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: "112233" });
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const [first, second] = pull.households
    .filter((h) => !h.keluarga.ground_checked && (h.keluarga.status ?? "active") === "active")
    .slice(-7, -5);
  assert.ok(first && second, "two households to confirm");

  // A visit's work waits in the outbox (offline), then the app is locked.
  await confirmOffline(page, context, first.no_kk);
  await context.setOffline(false);
  await page.reload();
  await page.getByRole("heading", { name: "Buka Tepat" }).waitFor();

  // Wrong PINs: counted, and from the second on the next try waits (1 s, 2 s, 4 s).
  const unlock = page.getByRole("button", { name: "Buka" });
  const wrong = async (left) => {
    await unlock.waitFor();
    await page.waitForFunction(() => !document.querySelector('button[type="submit"]')?.disabled, null, { timeout: 10000, polling: 100 });
    await page.getByLabel("PIN").fill("000000");
    const t0 = Date.now();
    await unlock.click();
    if (left > 0) {
      await page.getByText(`PIN salah. Sisa ${left} kali percobaan`).waitFor();
    }
    return t0;
  };
  await wrong(4);
  const t2 = await wrong(3);
  // The third try waits.
  assert.ok(await unlock.isDisabled(), "the next try waits after two wrong PINs");
  const t3 = await wrong(2);
  assert.ok(t3 - t2 >= 900, `the third try came ${t3 - t2} ms after the second`);
  const t4 = await wrong(1);
  assert.ok(t4 - t3 >= 1900, `the fourth try came ${t4 - t3} ms after the third`);
  await wrong(0);
  const needed = page.locator('[data-field="password-needed"]');
  await needed.getByText("PIN salah 5 kali.", { exact: false }).waitFor();
  assert.equal(await page.getByLabel("PIN", { exact: true }).count(), 0, "no PIN field any more");
  // The count survives a reload, and the sealed work is still there.
  await page.reload();
  await needed.waitFor();
  assert.equal(await page.getByLabel("PIN", { exact: true }).count(), 0);
  assert.equal(await outboxCount(page), 1);

  // The password is checked at the server: a wrong one is refused, the right one opens
  // the device's data again under a new PIN, and the waiting work is sent.
  await page.getByLabel("Nama pengguna").fill("pendamping1");
  await page.getByLabel("Kata sandi").fill("salah-sekali");
  await page.getByRole("button", { name: "Periksa di server" }).click();
  await page.getByText("Nama pengguna atau kata sandi salah.").waitFor();
  assert.equal(await outboxCount(page), 1);
  await page.getByLabel("Kata sandi").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Periksa di server" }).click();
  await newPin(page, "445566");
  await waitSent(page);
  assert.ok(await arrived(page, first.no_kk, first.version), "the first visit reached the server");

  // Lupa PIN?: a warning names the unsent work, then sign-out keeps the sealed outbox.
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.getByText("Terakhir diperbarui:").waitFor();
  await confirmOffline(page, context, second.no_kk);
  await page.getByRole("link", { name: "Tepat", exact: true }).click();
  await page.getByRole("button", { name: "Kunci" }).click();
  await page.getByRole("heading", { name: "Buka Tepat" }).waitFor();
  await page.getByRole("button", { name: "Lupa PIN?" }).click();
  const warning = page.locator('[data-field="forget-warning"]');
  await warning.getByText("1 perubahan di Kotak Keluar belum terkirim.", { exact: false }).waitFor();
  await page.getByRole("button", { name: "Keluar lalu masuk lagi" }).click();
  await page.getByRole("heading", { name: "Selamat datang di Tepat" }).waitFor();
  assert.equal(await outboxCount(page), 1, "the sealed outbox is kept");

  // The same account signs in again: the kept work opens and is sent.
  await context.setOffline(false);
  await page.goto("/masuk");
  await page.getByLabel("Nama pengguna").fill("pendamping1");
  await page.getByLabel("Kata sandi").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Masuk" }).click();
  await newPin(page, "778899");
  await waitSent(page);
  assert.ok(await arrived(page, second.no_kk, second.version), "the second visit reached the server");
  await context.close();
});
