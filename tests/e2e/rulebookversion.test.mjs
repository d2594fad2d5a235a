// A new rulebook does not strand offline work. A Uji Petik draft is made under
// the server's rulebook; the server then publishes a new one (`tepat rulebook add`
// against the running server's database); after the device re-syncs, new forms use the
// new rulebook, while the draft still opens under its own version (fetched again with
// `GET /rulebook?version=` after the device lost it, with a notice while offline), is
// queued under it and pushed under it; then the old rulebook leaves the device.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, phone, api, signIn, openHousehold } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "864217";
const AREA = "#f-housing-floor_area_m2";
const BIN = process.env.TEPAT_BIN;
const DATABASE_URL = process.env.TEPAT_DATABASE_URL;

/** The device's rulebook shelf (IndexedDB `tepat-cache`, `kv/rulebooks`): current and versions. */
async function shelf(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-cache"); r.onsuccess = () => res(r.result); });
    const v = await new Promise((res) => { const r = db.transaction("kv").objectStore("kv").get("rulebooks"); r.onsuccess = () => res(r.result); });
    db.close();
    if (!v) return { current: null, versions: [] };
    const versions = v.json instanceof Map ? [...v.json.keys()] : Object.keys(v.json);
    return { current: v.current ?? null, versions: versions.sort() };
  });
}

/** Removes `version` from the device's shelf (as if it had never been downloaded). */
async function forget(page, version) {
  await page.evaluate(async (version) => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-cache"); r.onsuccess = () => res(r.result); });
    const tx = db.transaction("kv", "readwrite");
    const store = tx.objectStore("kv");
    const v = await new Promise((res) => { const r = store.get("rulebooks"); r.onsuccess = () => res(r.result); });
    if (v.json instanceof Map) v.json.delete(version); else delete v.json[version];
    store.put(v, "rulebooks");
    await new Promise((res) => { tx.oncomplete = res; });
    db.close();
  }, version);
}

async function waitForShelf(page, check) {
  for (let i = 0; i < 100; i++) {
    const s = await shelf(page);
    if (check(s)) return s;
    await page.waitForTimeout(200);
  }
  return assert.fail(`the device's rulebooks did not reach the expected state: ${JSON.stringify(await shelf(page))}`);
}

async function openUjiPetik(page, kk) {
  await openHousehold(page, kk, { fromTab: true });
  await page.locator('[data-field="uji-petik"]').click();
}

const skip = !BIN || !DATABASE_URL ? "TEPAT_BIN and TEPAT_DATABASE_URL are set by `cargo xtask e2e`" : false;

test("a draft keeps its rulebook: the server publishes a new one, the draft still opens and is sent under its own", { skip }, async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const old = pull.rulebook_version;
  // Families with a head, from the middle of the list (other tests take the ends and
  // the merge takes the middle two).
  const list = pull.households.filter(
    (h) => (h.keluarga.status ?? "active") === "active" && h.keluarga.anggota.some((a) => a.relationship === 1),
  );
  const middle = Math.floor(list.length / 2);
  const [drafted, fresh] = [list[middle + 3], list[middle + 4]];
  assert.ok(drafted && fresh, "two households of pendamping1");
  await waitForShelf(page, (s) => s.current === old);

  // A draft under the server's rulebook.
  await openUjiPetik(page, drafted.no_kk);
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  const version = page.locator('[data-field="rulebook-version"]');
  assert.equal(await version.getAttribute("data-version"), old);
  const area = (drafted.keluarga.housing?.floor_area_m2 ?? 36) + 7;
  await page.locator(AREA).fill(String(area));
  await page.locator('[data-field="draft-status"][data-saved="true"]').getByText("Draf tersimpan di perangkat").waitFor();

  // The server publishes a new rulebook: the same rules, the floor-area question relabelled.
  const rulebook = await api(page, "pendamping1", "/api/v1/rulebook");
  assert.equal(rulebook.version, old);
  const next = `${old}-e2e${Date.now()}`;
  rulebook.version = next;
  const q302 = rulebook.variables.find((v) => v.field === "housing.floor_area_m2");
  q302.label.id += " (versi baru)";
  q302.label.en += " (new version)";
  const dir = mkdtempSync(join(tmpdir(), "tepat-rulebook-"));
  try {
    const file = join(dir, "rulebook.json");
    writeFileSync(file, JSON.stringify(rulebook, null, 1));
    execFileSync(BIN, ["rulebook", "add", file, "--database-url", DATABASE_URL], { stdio: "pipe" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const after = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=1");
  assert.equal(after.rulebook_version, next, "the server serves the new rulebook");

  // The device re-syncs: the new rulebook is current, the draft's is kept.
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.getByRole("button", { name: "Perbarui daftar" }).click();
  const both = await waitForShelf(page, (s) => s.current === next);
  assert.deepEqual(both.versions, [old, next].sort(), "the draft's rulebook stays on the device");

  // A new form uses the new rulebook.
  await openUjiPetik(page, fresh.no_kk);
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  assert.equal(await version.getAttribute("data-version"), next);
  await page.locator(`label[for="${AREA.slice(1)}"]`).getByText("(versi baru)").waitFor();

  // The draft opens under its own version, with its answer, and says so.
  await openUjiPetik(page, drafted.no_kk);
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  assert.equal(await version.getAttribute("data-version"), old);
  await version.getByText("versi saat draf dibuat").waitFor();
  await page.waitForFunction(([sel, v]) => document.querySelector(sel)?.value === v, [AREA, String(area)]);
  assert.equal(await page.locator(`label[for="${AREA.slice(1)}"]`).getByText("(versi baru)").count(), 0);

  // Without its rulebook on the device and offline: a clear notice, nothing lost.
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await forget(page, old);
  await context.setOffline(true);
  await openUjiPetik(page, drafted.no_kk);
  const missing = page.locator('[data-field="rulebook-missing"]');
  await missing.waitFor();
  assert.match(await missing.innerText(), new RegExp(`Draf ini dibuat dengan aturan isian versi ${old}, yang belum ada di perangkat`));
  // Online again, it is fetched by version and the draft opens.
  await context.setOffline(false);
  await page.getByRole("button", { name: "Coba lagi" }).click();
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  assert.equal(await version.getAttribute("data-version"), old);
  await page.waitForFunction(([sel, v]) => document.querySelector(sel)?.value === v, [AREA, String(area)]);
  assert.deepEqual((await shelf(page)).versions, [old, next].sort());

  // Sent offline: queued under the draft's version.
  await context.setOffline(true);
  await page.getByLabel("Alasan perubahan").fill("uji e2e: aturan isian lama");
  const sendButton = page.getByRole("button", { name: "Kirim koreksi ke Kotak Keluar" });
  await sendButton.click();
  const sent = page.getByText("Uji petik dikirim ke Kotak Keluar.");
  const confirm = page.getByLabel("Saya sudah memeriksa semua peringatan dan datanya benar.");
  await Promise.race([sent.waitFor(), confirm.waitFor()]);
  if (!(await sent.isVisible())) {
    await confirm.check();
    await sendButton.click();
    await sent.waitFor();
  }
  await page.getByRole("link", { name: "Kotak Keluar" }).click();
  await page.locator('[data-field="rulebook"]').getByText(`Aturan isian versi ${old}`).waitFor();

  // Online: pushed under the draft's version, accepted, and the old rulebook leaves the device.
  // (Coming online syncs by itself; the button may find nothing left to send.)
  const pushed = page.waitForResponse((r) => r.url().includes("/api/v1/sync/push") && r.request().method() === "POST");
  await context.setOffline(false);
  await page.getByRole("button", { name: "Sinkronkan sekarang" }).click();
  const response = await pushed;
  const body = response.request().postDataJSON();
  assert.equal(body.rulebook_version, old);
  assert.deepEqual(body.items.map((i) => i.no_kk), [drafted.no_kk]);
  // The server checked it under the device's version and the current one; valid under both.
  const [result] = (await response.json()).results;
  assert.equal(result.outcome, "accepted", JSON.stringify(result));
  assert.deepEqual(
    [result.rulebooks.device.version, result.rulebooks.device.outcome, result.rulebooks.current.version, result.rulebooks.current.outcome],
    [old, "valid", next, "valid"],
  );
  await page.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor({ timeout: 45000 });
  // Stored: applied to the family, or waiting for the supervisor (confirmed warnings).
  const queue = await api(page, "koordinator1", "/api/v1/review?limit=1000");
  const waiting = queue.items.filter((i) => i.no_kk === drafted.no_kk && i.kind === "variable_correction");
  if (waiting.length) {
    const fix = waiting[0].request.event.corrections.find((c) => c.field === "housing.floor_area_m2");
    assert.equal(fix.value, area);
  } else {
    const now = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
    const h = now.households.find((x) => x.no_kk === drafted.no_kk);
    assert.equal(h.keluarga.housing.floor_area_m2, area, "the correction is applied");
  }
  const left = await waitForShelf(page, (s) => s.versions.length === 1);
  assert.deepEqual(left, { current: next, versions: [next] });
  await context.close();
});
