// Worklist and household: pulled from /api/v1/sync/pull, sealed in IndexedDB,
// searchable, opened offline; a facilitator sees only the assigned villages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, swReady, signIn, DEMO_PASSWORD } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "135790";

/** The households the server gives this user, straight from the API. */
async function serverScope(page, username) {
  return page.evaluate(async (username) => {
    const login = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: DEMO_PASSWORD }),
    }).then((r) => r.json());
    const out = [];
    let cursor = "0";
    for (;;) {
      const page = await fetch(`/api/v1/sync/pull?cursor=${cursor}&limit=500`, {
        headers: { Authorization: `Bearer ${login.token}` },
      }).then((r) => r.json());
      out.push(...page.households.map((h) => ({ kk: h.no_kk, village: h.village, keluarga: h.keluarga })));
      if (!page.has_more) break;
      cursor = page.next_cursor;
    }
    return { villages: login.user.villages, households: out };
  }, username);
}

async function openWorklist(page) {
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.getByRole("heading", { name: "Daftar Tugas" }).waitFor();
  await page.getByText("Terakhir diperbarui:").waitFor();
}

async function shownKks(page) {
  const n = Number((await page.locator('[data-field="count"]').innerText()).split(" ")[0]);
  return n;
}

test("facilitator sees exactly the assigned villages' households, searches and opens one offline", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { username: "pendamping1", pin: PIN, worklist: false });
  const scope = await serverScope(page, "pendamping1");
  assert.ok(scope.households.length > 10, "demo data has households for pendamping1");
  await openWorklist(page);

  assert.equal(await shownKks(page), scope.households.length);
  const villages = await page.locator(".worklist a.row").evaluateAll((as) => as.map((a) => a.dataset.village));
  assert.ok(villages.length > 0);
  for (const v of villages) assert.ok(scope.villages.includes(v), `village ${v} outside scope`);

  // Search by a member's name (the head of the first household) and by a NIK.
  const target = scope.households[0];
  const head = target.keluarga.anggota.find((a) => a.relationship === 1) || target.keluarga.anggota[0];
  await page.getByLabel("Cari nama, NIK, No. KK atau alamat").fill(head.name);
  await page.locator(`a.row[data-kk="${target.kk}"]`).waitFor();
  assert.ok((await shownKks(page)) < scope.households.length);
  await page.getByLabel("Cari nama, NIK, No. KK atau alamat").fill(head.nik);
  await page.waitForFunction(() => document.querySelectorAll(".worklist a.row").length === 1);
  await page.getByLabel("Cari nama, NIK, No. KK atau alamat").fill("zzzz-tidak-ada");
  await page.getByText("0 keluarga").waitFor();

  // Names are sealed at rest.
  const raw = await page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-cache"); r.onsuccess = () => res(r.result); });
    const all = await new Promise((res) => { const r = db.transaction("kv").objectStore("kv").getAll(); r.onsuccess = () => res(r.result); });
    db.close();
    return JSON.stringify(all, (k, v) => (v instanceof Uint8Array ? new TextDecoder("latin1").decode(v) : v));
  });
  assert.ok(!raw.includes(head.name), "a member name is stored in clear");
  assert.ok(!raw.includes(head.nik), "a NIK is stored in clear");

  // Offline: reload, unlock, open the household.
  await swReady(page);
  await context.setOffline(true);
  await page.goto(`/keluarga/${target.kk}`);
  await page.getByLabel("PIN").fill(PIN);
  await page.getByRole("button", { name: "Buka" }).click();
  await page.locator('[data-field="no_kk"]').getByText(target.kk).waitFor();
  const rows = page.locator(".members tbody tr");
  assert.equal(await rows.count(), target.keluarga.anggota.length);
  await rows.filter({ hasText: head.name }).first().getByText("Kepala keluarga").waitFor();
  await context.close();
});

test("a facilitator of village A cannot see village B's households", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { username: "pendamping2", pin: PIN, worklist: false });
  const own = await serverScope(page, "pendamping2");
  const other = await serverScope(page, "pendamping1");
  await openWorklist(page);
  assert.equal(await shownKks(page), own.households.length);
  const kks = new Set(await page.locator(".worklist a.row").evaluateAll((as) => as.map((a) => a.dataset.kk)));
  for (const h of other.households) assert.ok(!kks.has(h.kk), `pendamping2 sees ${h.village}`);
  // A deep link to village A's household shows nothing of it.
  await page.goto(`/keluarga/${other.households[0].kk}`);
  await page.getByLabel("PIN").fill(PIN);
  await page.getByRole("button", { name: "Buka" }).click();
  await page.getByRole("heading", { name: "Keluarga tidak ditemukan" }).waitFor();
  assert.equal(await page.locator('[data-field="uji-petik"]').count(), 0);
  await context.close();
});

/** The device's `tepat-cache` records: sealed ones as their IV (hex), others as they are. */
async function cacheRecords(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-cache"); r.onsuccess = () => res(r.result); });
    const store = db.transaction("kv").objectStore("kv");
    const ask = (req) => new Promise((res) => { req.onsuccess = () => res(req.result); });
    const [keys, values] = await Promise.all([ask(store.getAllKeys()), ask(store.getAll())]);
    db.close();
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return Object.fromEntries(keys.map((k, i) => [k, values[i]?.iv ? `sealed:${hex(values[i].iv)}` : values[i]]));
  });
}

async function deleteCacheKeys(page, keys) {
  await page.evaluate(async (keys) => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-cache"); r.onsuccess = () => res(r.result); });
    const tx = db.transaction("kv", "readwrite");
    for (const k of keys) tx.objectStore("kv").delete(k);
    await new Promise((res) => { tx.oncomplete = res; });
    db.close();
  }, keys);
}

test("the list's sealed rows: a pull with nothing new writes nothing sealed; an older device layout gets them on unlock", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { username: "pendamping1", pin: PIN });
  const total = await shownKks(page);
  assert.ok(total > 10);
  const before = await cacheRecords(page);
  assert.match(before.worklist, /^sealed:/);
  assert.match(before.worklist_rows, /^sealed:/);
  assert.equal(typeof before.worklist_synced_at, "string");

  // Nothing new on the server: only the sync time changes.
  await page.waitForTimeout(1100);
  await page.getByRole("button", { name: "Perbarui daftar" }).click();
  // The time is shown to the minute: wait for the stored one instead.
  await page.waitForFunction(async (old) => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-cache"); r.onsuccess = () => res(r.result); });
    const v = await new Promise((res) => { const r = db.transaction("kv").objectStore("kv").get("worklist_synced_at"); r.onsuccess = () => res(r.result); });
    db.close();
    return v !== old;
  }, before.worklist_synced_at);
  await page.locator('[data-field="synced"]').getByText(/^Terakhir diperbarui: \d{1,2} \w{3} \d{4} \d{2}\.\d{2} WIB/).waitFor();
  const after = await cacheRecords(page);
  assert.notEqual(after.worklist_synced_at, before.worklist_synced_at);
  assert.equal(after.worklist, before.worklist, "the unchanged worklist was sealed again");
  assert.equal(after.worklist_rows, before.worklist_rows, "the unchanged rows were sealed again");

  // A device of the older layout (one sealed worklist holding the sync time), offline:
  // unlocking shows the whole list and writes the rows.
  await deleteCacheKeys(page, ["worklist_rows", "worklist_synced_at"]);
  await swReady(page);
  await context.setOffline(true);
  await page.goto("/tugas");
  await page.getByLabel("PIN").fill(PIN);
  await page.getByRole("button", { name: "Buka" }).click();
  await page.getByText(`${total} keluarga`).waitFor();
  await page.getByText("Terakhir diperbarui:").waitFor();
  await page.waitForFunction(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-cache"); r.onsuccess = () => res(r.result); });
    const v = await new Promise((res) => { const r = db.transaction("kv").objectStore("kv").get("worklist_rows"); r.onsuccess = () => res(r.result); });
    db.close();
    return v !== undefined;
  });
  const migrated = await cacheRecords(page);
  assert.equal(migrated.worklist, before.worklist, "the families were not rewritten");
  // The rows the device wrote open the list the next time, the same as before.
  await page.goto("/tugas");
  await page.getByLabel("PIN").fill(PIN);
  await page.getByRole("button", { name: "Buka" }).click();
  await page.getByText(`${total} keluarga`).waitFor();
  assert.equal(await page.locator(".worklist a.row").count(), Math.min(total, 100));
  await context.close();
});
