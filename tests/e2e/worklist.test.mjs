// Issue 7, worklist and household: pulled from /api/v1/sync/pull, sealed in IndexedDB,
// searchable, opened offline; a facilitator sees only the assigned villages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, swReady, signIn } from "./browser.mjs";

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
      body: JSON.stringify({ username, password: "demo12345" }),
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
  await page.getByRole("cell", { name: new RegExp(head.name) }).first().waitFor();
  await page.getByRole("cell", { name: "Kepala keluarga" }).first().waitFor();
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
  await page.getByText("Keluarga ini tidak ada di daftar tugas perangkat ini.").waitFor();
  await context.close();
});
