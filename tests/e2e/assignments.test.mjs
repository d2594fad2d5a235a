// A village moves from pendamping1 to pendamping2 while pendamping1 has a death in its
// outbox for a family of that village: the admin moves it from the accounts screens
// (region pickers by name, the worklist sizes follow); pendamping1's late push is
// refused plainly and discarded, nothing of it is stored; pendamping2's next pull
// brings the family and pendamping1's takes it away. The assignments are put back at
// the end for the files that follow.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, swReady, api, signIn, openHousehold, BASE, DEMO_PASSWORD } from "./browser.mjs";

let browser;
/** The two facilitators' villages before the test, to put back. */
let original = null;

/** `METHOD path` with a JSON body as `username` (demo password), from Node. */
async function call(username, method, path, body) {
  const login = await fetch(`${BASE}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: DEMO_PASSWORD }),
  }).then((r) => r.json());
  const r = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${login.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}

before(async () => {
  browser = await launch();
});
after(async () => {
  if (original) {
    for (const [username, regions] of Object.entries(original)) {
      const r = await call("admin", "PUT", `/api/v1/accounts/${username}/assignments`, { regions });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
  }
  await browser?.close();
});

const PIN = "864213";

function laptop(browser) {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE });
}

async function noHorizontalScroll(page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `page is ${scroll} px wide in a ${width} px window`);
}

async function accounts() {
  const r = await call("admin", "GET", "/api/v1/accounts");
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return Object.fromEntries(r.json.accounts.map((a) => [a.username, a]));
}

/** Searches the worklist for a No. KK after pulling; the number of rows found. */
async function rowsAfterPull(page, kk) {
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.getByRole("heading", { name: "Daftar Tugas" }).waitFor();
  await page.getByRole("button", { name: "Perbarui daftar" }).click();
  await page.getByRole("button", { name: "Perbarui daftar" }).and(page.locator(":enabled")).waitFor();
  await page.getByLabel("Cari nama, NIK, No. KK atau alamat").fill(kk);
  // The list settles after the search.
  await page.waitForTimeout(300);
  return page.locator(`a.row[data-kk="${kk}"]`).count();
}

test("a village moved between facilitators with a death in flight: the late push is refused plainly and discarded, the family moves on the next pulls, nothing is lost", async () => {
  const before = await accounts();
  original = { pendamping1: before.pendamping1.regions, pendamping2: before.pendamping2.regions };
  const village = before.pendamping1.regions[before.pendamping1.regions.length - 1];
  const villageName = before.pendamping1.assignments.find((a) => a.code === village).name;
  const families = before.pendamping1.assignments.find((a) => a.code === village).families;
  assert.ok(families > 0, "the village has families");

  // pendamping2's device has its worklist (and its cursor) before the move.
  const field2 = await phone(browser);
  const p2 = await field2.newPage();
  await signIn(p2, { username: "pendamping2", pin: PIN });

  // pendamping1, offline, records a death for a family of the village.
  const field = await phone(browser);
  const p1 = await field.newPage();
  await signIn(p1, { pin: PIN });
  const pull = await api(p1, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const fam = pull.households
    .filter((h) => h.village === village && (h.keluarga.status ?? "active") === "active")
    .map((h) => ({ kk: h.no_kk, spouse: h.keluarga.anggota.find((a) => a.relationship === 2 && (a.presence ?? 1) === 1) }))
    .filter((h) => h.spouse)
    .pop();
  assert.ok(fam, "a family with a spouse in the village");
  await swReady(p1);
  await field.setOffline(true);
  await openHousehold(p1, fam.kk);
  await p1.getByLabel("Jenis peristiwa").selectOption({ label: "Kematian" });
  await p1.getByLabel("Anggota yang meninggal").selectOption({ label: fam.spouse.name });
  await p1.getByLabel("Tanggal meninggal").fill("2026-11-02");
  await p1.getByLabel("Keterangan").fill("uji e2e penugasan: dicatat sebelum desa dipindahkan");
  await p1.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  await p1.getByText("Kematian dicatat dan menunggu di Kotak Keluar.").waitFor();
  await p1.getByRole("link", { name: "Kotak Keluar" }).click();
  await p1.locator('[data-field="pending"]').getByText("1 perubahan menunggu").waitFor();

  // The admin lands on the accounts, with each facilitator's worklist size.
  const desk = await laptop(browser);
  const ad = await desk.newPage();
  await signIn(ad, { username: "admin", pin: PIN, worklist: false });
  const row2 = ad.locator('[data-field="accounts"] tr[data-username="pendamping2"]');
  await row2.locator('[data-field="worklist"]').getByText(String(before.pendamping2.worklist), { exact: true }).waitFor();
  await noHorizontalScroll(ad);

  // pendamping2 gets the village, picked by name from the province down.
  await row2.getByRole("link", { name: "pendamping2" }).click();
  await ad.locator('[data-field="edit-assignments"]').click();
  const pick = ad.locator('[data-field="region-pick"]');
  for (const code of [village.slice(0, 2), village.slice(0, 5), village.slice(0, 8)]) {
    await pick.locator(`option[value="${code}"]`).waitFor({ state: "attached" });
    await pick.selectOption(code);
  }
  await ad.locator('[data-field="region-pick"][data-level="pick"]').waitFor();
  await pick.selectOption({ label: `${villageName} (${village})` });
  await ad.locator('[data-field="region-add"]').click();
  await ad.locator(`[data-field="editing"] li[data-code="${village}"]`).waitFor();
  await ad.locator('[data-field="save-assignments"]').click();
  await ad.locator('[data-field="account-message"]').getByText("Penugasan disimpan.").waitFor();
  await ad.locator(`[data-field="assignments"] li[data-code="${village}"]`).getByText(villageName).waitFor();
  await ad.locator('[data-field="worklist"]').getByText(`${before.pendamping2.worklist + families} keluarga`).waitFor();

  // … and pendamping1 loses it.
  await ad.getByRole("link", { name: "← Semua akun" }).click();
  await ad.locator('[data-field="accounts"] tr[data-username="pendamping1"]').getByRole("link", { name: "pendamping1" }).click();
  await ad.locator('[data-field="edit-assignments"]').click();
  await ad.locator(`[data-field="editing"] li[data-code="${village}"]`).getByRole("button", { name: "Lepaskan" }).click();
  assert.equal(await ad.locator(`[data-field="editing"] li[data-code="${village}"]`).count(), 0);
  await ad.locator('[data-field="save-assignments"]').click();
  await ad.locator('[data-field="account-message"]').getByText("Penugasan disimpan.").waitFor();
  await ad.locator('[data-field="worklist"]').getByText(`${before.pendamping1.worklist - families} keluarga`).waitFor();
  const now = await accounts();
  assert.deepEqual(now.pendamping1.regions, before.pendamping1.regions.filter((r) => r !== village));
  assert.equal(now.pendamping2.worklist, before.pendamping2.worklist + families);

  // The move is in pendamping1's history.
  await ad.getByRole("link", { name: "Riwayat akun" }).click();
  await ad.locator('[data-field="entries"] tr[data-action="assign"]').first().locator('[data-field="who"]').getByText("admin").waitFor();

  // pendamping1 back online: the late push is refused, plainly, and can be discarded.
  await field.setOffline(false);
  await p1.getByRole("button", { name: "Sinkronkan sekarang" }).click();
  const refused = p1.locator('li[data-state="refused"]');
  await refused.getByText("Ditolak: keluarga ini di luar wilayah tugas akun ini (desanya mungkin dipindahkan ke pendamping lain). Buang item ini.").waitFor({ timeout: 30000 });
  await refused.getByRole("button", { name: "Buang" }).click();
  await p1.getByRole("button", { name: "Ya, buang" }).click();
  await p1.locator('li[data-state="refused"]').waitFor({ state: "detached" });
  // Nothing of it reached the server.
  const q = await call("koordinator1", "GET", "/api/v1/review?limit=1000");
  assert.equal(q.json.items.filter((i) => i.no_kk === fam.kk && i.submitted_by === "pendamping1" && i.kind === "member_died" && i.request.event.nik === fam.spouse.nik).length, 0);

  // The next pulls: pendamping1's no longer has the family, pendamping2's has it.
  assert.equal(await rowsAfterPull(p1, fam.kk), 0, "gone from pendamping1's worklist");
  assert.equal(await rowsAfterPull(p2, fam.kk), 1, "on pendamping2's worklist");
  await openHousehold(p2, fam.kk);
  await Promise.all([field.close(), field2.close(), desk.close()]);
});

test("the admin moves a village back in one step from the account page: one request, both worklists follow, the move is in both histories", async () => {
  const before = await accounts();
  // After the test above pendamping2 has the village that was pendamping1's.
  const village = original.pendamping1.find((r) => !before.pendamping1.regions.includes(r));
  assert.ok(village && before.pendamping2.regions.includes(village), "the moved village is pendamping2's");
  const families = before.pendamping2.assignments.find((a) => a.code === village).families;

  const desk = await laptop(browser);
  const ad = await desk.newPage();
  await signIn(ad, { username: "admin", pin: PIN, worklist: false });
  await ad.locator('[data-field="accounts"] tr[data-username="pendamping2"]').getByRole("link", { name: "pendamping2" }).click();
  const row = ad.locator(`[data-field="assignments"] li[data-code="${village}"]`);
  const puts = [];
  ad.on("request", (r) => {
    if (r.method() === "PUT") puts.push(new URL(r.url()).pathname);
  });
  await row.getByLabel(`Pindahkan desa ${village}`).selectOption("pendamping1");
  await row.getByRole("button", { name: "Pindahkan", exact: true }).click();
  await ad.locator('[data-field="account-message"]').getByText("Desa dipindahkan ke pendamping lain.").waitFor();
  await ad.locator(`[data-field="assignments"] li[data-code="${village}"]`).waitFor({ state: "detached" });
  await ad.locator('[data-field="worklist"]').getByText(`${before.pendamping2.worklist - families} keluarga`).waitFor();
  assert.deepEqual(puts, [`/api/v1/assignments/village/${village}`], "one request");
  await noHorizontalScroll(ad);

  const now = await accounts();
  assert.ok(now.pendamping1.regions.includes(village));
  assert.ok(!now.pendamping2.regions.includes(village));
  assert.equal(now.pendamping1.worklist, before.pendamping1.worklist + families);
  for (const who of ["pendamping1", "pendamping2"]) {
    const h = await call("admin", "GET", `/api/v1/audit?user=${who}`);
    const move = h.json.entries.find((e) => e.action === "village_move");
    assert.ok(move, `${who}'s history has the move`);
    assert.deepEqual(move.details, { village, from: ["pendamping2"], to: "pendamping1" });
  }
  await ad.getByRole("link", { name: "Riwayat akun" }).click();
  await ad.locator('[data-field="entries"] tr[data-action="village_move"]').first().waitFor();
  await desk.close();
});
