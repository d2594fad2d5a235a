// The review queue end to end: pendamping1 records a death with a photo offline and
// syncs; koordinator1 lands on the console, finds it in the queue, opens it, sees the
// family as it is and as it would be (the changed field marked) and the photo, and
// approves; dinsos1, who had the same change open, is told it was already reviewed. The
// queue and the change's page fit a 360 px phone and use a laptop's width; a
// facilitator gets no console.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, swReady, api, signIn, openHousehold, BASE } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "531864";

/** A laptop-sized context. */
function laptop(browser) {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE });
}

/** Households of pendamping1 with a living spouse (409 = 2), in the middle of the list
 * (other suites take the first and the last ones). */
async function candidates(page) {
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const all = pull.households
    .map((h) => ({ kk: h.no_kk, keluarga: h.keluarga, spouse: h.keluarga.anggota.find((a) => a.relationship === 2 && (a.presence ?? 1) === 1) }))
    .filter((h) => h.spouse);
  return all.slice(Math.floor(all.length / 2));
}

/** Opens `path` by its address (a fresh load, so the device asks for the PIN). */
async function open(page, path) {
  await page.goto(path);
  await page.getByLabel("PIN", { exact: true }).fill(PIN);
  await page.getByRole("button", { name: "Buka", exact: true }).click();
}

async function noHorizontalScroll(page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `page is ${scroll} px wide in a ${width} px window`);
}

test("a death recorded offline with a photo is reviewed from the queue: diff, photo, approval; a second approval is told who was first", async () => {
  // 1. pendamping1, offline: the death with a photo; then back online, synced.
  const field = await phone(browser);
  const p1 = await field.newPage();
  await signIn(p1, { pin: PIN });
  const [target] = await candidates(p1);
  assert.ok(target, "a household with a spouse");
  await swReady(p1);
  await field.setOffline(true);
  await openHousehold(p1, target.kk);
  await p1.getByLabel("Jenis peristiwa").selectOption({ label: "Kematian" });
  await p1.getByLabel("Anggota yang meninggal").selectOption({ label: target.spouse.name });
  await p1.getByLabel("Tanggal meninggal").fill("2026-11-03");
  const png = await p1.evaluate(async () => {
    const c = new OffscreenCanvas(640, 480);
    const g = c.getContext("2d");
    g.fillStyle = "#35a"; g.fillRect(0, 0, 640, 480);
    const b = await c.convertToBlob({ type: "image/png" });
    return Array.from(new Uint8Array(await b.arrayBuffer()));
  });
  await p1.getByLabel("Foto bukti (tidak wajib)").setInputFiles({ name: "akta.png", mimeType: "image/png", buffer: Buffer.from(png) });
  await p1.locator('img[data-field="event-photo"]').waitFor();
  await p1.getByLabel("Keterangan").fill("uji e2e konsol: akta kematian difoto");
  await p1.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  await p1.getByText("Kematian dicatat dan menunggu di Kotak Keluar.").waitFor();
  await p1.getByRole("link", { name: "Kotak Keluar" }).click();
  await p1.locator('[data-field="pending"]').getByText("1 perubahan menunggu").waitFor();
  await field.setOffline(false);
  await p1.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor({ timeout: 45000 });

  // The change is in the queue, with its photo uploaded before it.
  const q = await api(p1, "koordinator1", "/api/v1/review?limit=1000");
  const item = q.items.find((i) => i.no_kk === target.kk && i.kind === "member_died" && i.request.event.nik === target.spouse.nik);
  assert.ok(item, "the death waits in koordinator1's queue");
  assert.equal(item.submitted_by, "pendamping1");
  assert.match(item.request.evidence[0].reference, /^device-photo:/);

  // A facilitator gets no console: the page says so, and the API refuses.
  await open(p1, "/antrean");
  await p1.locator('[data-field="console-refused"]').waitFor();
  assert.equal(await p1.locator(".queue").count(), 0);
  const refused = await api(p1, "pendamping1", "/api/v1/review");
  assert.equal(refused.code, "forbidden");

  // 2. dinsos1 opens the same change on a laptop (it will approve second).
  const office = await laptop(browser);
  const d1 = await office.newPage();
  await signIn(d1, { username: "dinsos1", pin: PIN, worklist: false });
  await open(d1, `/antrean/${item.id}`);
  await d1.locator('[data-field="status"]').getByText("Menunggu tinjauan").waitFor();

  // 3. koordinator1 lands on the console home, opens the queue and the change.
  const desk = await laptop(browser);
  const k1 = await desk.newPage();
  await signIn(k1, { username: "koordinator1", pin: PIN, worklist: false });
  assert.equal(new URL(k1.url()).pathname, "/konsol");
  await k1.locator('[data-field="role"]').getByText("Koordinator kecamatan").waitFor();
  await k1.locator('[data-field="queue-summary"]').getByText(/\d+ perubahan menunggu tinjauan; \d+ lewat batas 7 hari\./).waitFor();
  await k1.getByRole("link", { name: "Buka antrean" }).click();
  await k1.getByRole("heading", { name: "Antrean tinjauan" }).waitFor();
  // Oldest first: the demo's backdated change leads, marked overdue.
  const first = k1.locator(".queue-row").first();
  await first.waitFor();
  assert.equal(await first.getAttribute("data-overdue"), "true");
  // The kind filter keeps only deaths; the facilitator filter only pendamping1's.
  await k1.getByLabel("Jenis").selectOption("member_died");
  await k1.getByLabel("Pendamping").selectOption("pendamping1");
  // The list that answers both filters (an answer to an older filter never replaces it).
  const row = k1.locator(`ul.queue[data-kind="member_died"][data-facilitator="pendamping1"] .queue-row[data-id="${item.id}"]`);
  await row.waitFor();
  assert.equal(await k1.locator('.queue-row:not([data-kind="member_died"])').count(), 0);
  // On a laptop the row is laid out across the width.
  const box = await row.locator("a.row").boundingBox();
  assert.ok(box.width > 900, `row is ${box.width} px wide`);
  await row.locator("a.row").click();

  // The family as it is and as it would be, the changed field marked; the photo.
  const changes = k1.locator('[data-field="changes"]');
  await changes.waitFor();
  const idx = target.keluarga.anggota.findIndex((a) => a.nik === target.spouse.nik);
  const presence = changes.locator(`tr.changed[data-path="anggota[${idx}].presence"]`);
  await presence.waitFor();
  assert.deepEqual(await presence.locator("td").allInnerTexts(), [`${target.spouse.name}.presence`, "1", "2"]);
  const current = k1.locator('.side[data-side="current"]');
  const proposed = k1.locator('.side[data-side="proposed"]');
  assert.equal(await proposed.locator(`tr[data-nik-index="${idx}"] td.changed`).last().innerText(), "2");
  assert.equal(await current.locator(`tr[data-nik-index="${idx}"] td.changed`).last().innerText(), "1");
  const [a, b] = [await current.boundingBox(), await proposed.boundingBox()];
  assert.ok(b.x >= a.x + a.width, "as it is and as it would be side by side on a laptop");
  const photo = k1.locator('img[data-field="evidence-photo"]');
  await photo.waitFor();
  await k1.waitForFunction(() => {
    const img = document.querySelector('img[data-field="evidence-photo"]');
    return img && img.complete && img.naturalWidth > 0;
  });
  assert.equal(await k1.locator('[data-field="submitted-by"]').innerText(), "pendamping1");
  assert.match(await k1.locator('[data-field="hash"]').innerText(), /^[0-9a-f]{64} ✓$/);

  // At 360 px the same page fits the phone.
  await k1.setViewportSize({ width: 360, height: 640 });
  await noHorizontalScroll(k1);
  await k1.setViewportSize({ width: 1280, height: 800 });

  // Approve.
  await k1.getByRole("button", { name: "Setujui", exact: true }).click();
  await k1.locator('[data-field="decision-result"]').getByText("Keputusan disimpan.").waitFor();
  await k1.locator('[data-field="status"]').getByText("Disetujui").waitFor();
  await k1.locator('[data-field="reviewed"]').getByText(/^koordinator1, /).waitFor();

  // 4. dinsos1's approval of the same change: the clear conflict message.
  await d1.getByRole("button", { name: "Setujui", exact: true }).click();
  const msg = d1.locator('[data-field="decision-result"]');
  await msg.getByText(/^Sudah ditinjau oleh koordinator1 pada .+\.$/).waitFor();
  await d1.locator('[data-field="status"]').getByText("Disetujui").waitFor();

  // The approved death is the family's next version on the server (what the next pull
  // brings to pendamping1's phone).
  const after = await api(p1, "pendamping1", `/api/v1/household?no_kk=${target.kk}`);
  assert.equal(after.version, target.keluarga.version + 1);
  assert.equal(after.keluarga.anggota[idx].presence, 2, "died (404 = 2)");

  // The queue at 360 px: no horizontal scroll.
  await k1.setViewportSize({ width: 360, height: 640 });
  await open(k1, "/antrean");
  await k1.locator(".queue-row").first().waitFor();
  await noHorizontalScroll(k1);
  await Promise.all([field.close(), office.close(), desk.close()]);
});

test("each role lands on its own home: the koordinator on the queue and the district's progress, Dinsos on the regency's, the analyst on the national figures, the admin on the accounts", async () => {
  const homes = [
    ["koordinator1", "Koordinator kecamatan", '[data-field="progress"]'],
    ["dinsos1", "Dinas Sosial kabupaten/kota", '[data-field="progress"]'],
    ["analis1", "Analis (nasional)", '[data-field="progress"]'],
    ["admin", "Administrator", '[data-field="accounts"]'],
  ];
  for (const [username, role, part] of homes) {
    const context = await phone(browser);
    const page = await context.newPage();
    await signIn(page, { username, pin: PIN, worklist: false });
    assert.equal(new URL(page.url()).pathname, "/konsol", username);
    await page.locator('[data-field="role"]').getByText(role).waitFor();
    await page.locator(part).waitFor();
    // A regency's home is a table of its districts, not a page of 435 villages.
    await noHorizontalScroll(page);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(height < 4000, `${username}'s home is ${height} px tall`);
    if (username === "koordinator1") {
      // The district's villages with the server's figures.
      const progress = await api(page, username, "/api/v1/progress");
      assert.equal(await page.locator('[data-field="progress"] tbody tr').count(), progress.rows.length);
      for (const r of progress.rows.filter((r) => r.families > 0)) {
        const row = page.locator(`[data-field="progress"] tr[data-code="${r.code}"]`);
        assert.equal(await row.locator('[data-field="families"]').innerText(), String(r.families));
        assert.equal(await row.locator('[data-field="waiting"]').innerText(), String(r.waiting));
      }
      await page.locator('[data-field="queue-summary"]').waitFor();
    }
    if (username === "admin") {
      for (const name of ["pendamping1", "koordinator1", "dinsos1", "analis1", "admin"]) {
        await page.locator(`[data-field="accounts"] tr[data-username="${name}"]`).waitFor();
      }
    }
    if (username === "analis1") {
      // The analyst reviews nothing: the queue refuses it, on the page and at the API.
      const q = await api(page, username, "/api/v1/review");
      assert.equal(q.code, "forbidden");
      assert.equal(await page.getByRole("link", { name: "Antrean tinjauan" }).count(), 0);
    }
    await context.close();
  }
  // The facilitator still lands on the facilitator's Beranda.
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN, worklist: false });
  assert.equal(new URL(page.url()).pathname, "/");
  await page.getByRole("heading", { name: "Desa tugas" }).waitFor();
  await context.close();
});
