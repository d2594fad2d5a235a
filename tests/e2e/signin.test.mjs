// Sign in: server account, local PIN, session sealed with AES-GCM under a
// PBKDF2 key from the PIN; a wrong PIN shows nothing; the PIN unlocks offline.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, swReady, DEMO_PASSWORD } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Every value in the cache database, as text (what an attacker with the disk would see). */
async function rawCache(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open("tepat-cache");
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const all = await new Promise((res) => {
      const r = db.transaction("kv").objectStore("kv").getAll();
      r.onsuccess = () => res(r.result);
      r.onerror = () => res([]);
    });
    db.close();
    const text = (v) =>
      v instanceof Uint8Array ? new TextDecoder("latin1").decode(v)
      : Array.isArray(v) ? v.map(text).join("|")
      : v && typeof v === "object" ? Object.values(v).map(text).join("|")
      : String(v);
    return all.map(text).join("\n");
  });
}

async function signIn(page, username, password) {
  await page.goto("/masuk");
  await page.getByLabel("Nama pengguna").fill(username);
  await page.getByLabel("Kata sandi").fill(password);
  await page.getByRole("button", { name: "Masuk" }).click();
}

test("wrong password is refused in Indonesian and stores nothing", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, "pendamping1", "salah-sekali");
  await page.getByText("Nama pengguna atau kata sandi salah.").waitFor();
  assert.equal(await page.locator("#pin").count(), 0);
  await context.close();
});

test("sign in, set a PIN, lock, wrong PIN, unlock offline, sign out", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  let token;
  page.on("response", async (r) => {
    if (r.url().endsWith("/api/v1/auth/login") && r.ok()) token = (await r.json()).token;
  });
  await signIn(page, "pendamping1", DEMO_PASSWORD);

  // PIN rules: too short, then two different PINs.
  await page.getByLabel("PIN baru (min. 6 angka)").fill("123");
  await page.getByLabel("Ulangi PIN").fill("123");
  await page.getByRole("button", { name: "Simpan PIN" }).click();
  await page.getByText("PIN harus berisi paling sedikit 6 angka.").waitFor();
  await page.getByLabel("PIN baru (min. 6 angka)").fill("246810");
  await page.getByLabel("Ulangi PIN").fill("246811");
  await page.getByRole("button", { name: "Simpan PIN" }).click();
  await page.getByText("Kedua PIN tidak sama.").waitFor();
  await page.getByLabel("Ulangi PIN").fill("246810");
  await page.getByRole("button", { name: "Simpan PIN" }).click();

  await page.getByRole("heading", { name: "Beranda" }).waitFor();
  assert.equal(await page.locator('[data-field="username"]').innerText(), "pendamping1");
  // The day's work at a glance: the worklist, the visits done of it, the outbox, the
  // last update (local time, not raw UTC) and the way to the worklist.
  const pull = await page.evaluate(async (t) => {
    const r = await fetch("/api/v1/sync/pull?cursor=0&limit=2000", { headers: { Authorization: `Bearer ${t}` } });
    return r.json();
  }, token);
  const families = pull.households.length;
  await page.locator('[data-field="home-families"]').getByText(String(families), { exact: true }).waitFor();
  const visited = pull.households.filter((h) => h.keluarga.ground_checked).length;
  await page.locator('[data-field="home-visits"]').getByText(`${visited} dari ${families} keluarga`).waitFor();
  assert.equal(await page.locator('[data-field="home-outbox"]').innerText(), "0 perubahan");
  const synced = page.locator('[data-field="home-synced"]');
  await synced.getByText(/\d{4}\s.*\d{2}[.:]\d{2}/).waitFor();
  assert.doesNotMatch(await synced.innerText(), /T\d{2}:|Z$/, "not a raw ISO time");
  // The assigned villages of pendamping1, named from the region table fetched with the token.
  await page.locator('[data-code="32.01.01.1001"]').getByText("Pondok Rajeg").waitFor();
  assert.equal(await page.locator(".villages li").count(), 3);

  // At rest the token is sealed: it does not appear in IndexedDB.
  assert.ok(token && token.length > 10, "login response seen");
  const raw = await rawCache(page);
  assert.ok(raw.length > 0);
  assert.ok(!raw.includes(token), "session token stored in clear");
  assert.ok(!raw.includes("pendamping1"), "username stored in clear");

  await swReady(page);
  await context.setOffline(true);
  await page.reload();
  await page.getByRole("heading", { name: "Buka Tepat" }).waitFor();
  await page.getByLabel("PIN").fill("111111");
  await page.getByRole("button", { name: "Buka" }).click();
  await page.getByText("PIN salah.").waitFor();
  assert.equal(await page.locator('[data-field="username"]').count(), 0);
  await page.getByLabel("PIN").fill("246810");
  await page.getByRole("button", { name: "Buka" }).click();
  await page.getByRole("heading", { name: "Beranda" }).waitFor();
  assert.equal(await page.locator('[data-field="username"]').innerText(), "pendamping1");

  await page.getByRole("link", { name: "Buka Daftar Tugas" }).click();
  await page.waitForURL(/\/tugas$/);
  await page.goto("/");
  await page.getByLabel("PIN").fill("246810");
  await page.getByRole("button", { name: "Buka" }).click();
  await page.getByRole("heading", { name: "Beranda" }).waitFor();

  await context.setOffline(false);
  await page.getByRole("button", { name: "Keluar" }).click();
  await page.getByRole("heading", { name: "Selamat datang di Tepat" }).waitFor();
  // The server revoked the token.
  const status = await page.evaluate(async (t) => {
    const r = await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${t}` } });
    return r.status;
  }, token);
  assert.equal(status, 401);
  await page.reload();
  await page.getByRole("heading", { name: "Selamat datang di Tepat" }).waitFor();
  await context.close();
});

test("a Dinsos account's home: its regency's figures by district, not a list of every village", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  let villages = [];
  page.on("response", async (r) => {
    if (r.url().endsWith("/api/v1/auth/login") && r.ok()) villages = (await r.json()).user.villages;
  });
  await signIn(page, "dinsos1", DEMO_PASSWORD);
  await page.getByLabel("PIN baru (min. 6 angka)").fill("975310");
  await page.getByLabel("Ulangi PIN").fill("975310");
  await page.getByRole("button", { name: "Simpan PIN" }).click();
  await page.waitForURL(/\/konsol$/);
  await page.getByRole("heading", { name: "Beranda" }).waitFor();
  assert.ok(villages.length > 100, `a regency's villages: ${villages.length}`);
  const districts = new Set(villages.map((v) => v.split(".").slice(0, 3).join(".")));
  const progress = page.locator('[data-field="progress"]');
  await progress.waitFor();
  // One row per district of the regency, never one per village.
  const rows = await progress.locator("tbody tr").count();
  assert.ok(rows > 0 && rows <= districts.size, `${rows} rows for ${districts.size} districts`);
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(height < 640 * 6, `home is ${height} px tall`);
  await context.close();
});
