// The other life events: a birth and a move out, each first refused by
// tepat-core with an Indonesian finding beside the field (English when switched), then
// fixed, queued, synced and stored by the server (the supervisor's review queue); the
// household page shows the server's version history (also offline, from the sealed
// cache) and this device's changes; the outbox page shows the storage estimate; a new
// app version waits behind a banner on a form page and activates by itself elsewhere.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { launch, phone, swReady, api, signIn, openHousehold } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "864213";

const active = (a) => [1, 5].includes(a.presence ?? 1);

/** pendamping1's households with a head and another active member, last first
 * (events.test.mjs takes the first ones). */
async function households(page) {
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  return pull.households
    .filter((h) => (h.keluarga.status ?? "active") === "active")
    .map((h) => ({ kk: h.no_kk, keluarga: h.keluarga, members: h.keluarga.anggota.filter(active) }))
    .filter((h) => h.members.length >= 2 && h.members.some((a) => a.relationship === 1))
    .reverse();
}

async function queued(page, kk, kind) {
  const q = await api(page, "koordinator1", "/api/v1/review?limit=1000");
  return q.items.filter((i) => i.no_kk === kk && i.kind === kind);
}

/** `YYYY-MM-DD` of the device's date `days` ago. */
function daysAgo(days) {
  const d = new Date(Date.now() - days * 86400000);
  const p = (n) => String(n).padStart(2, "0");
  return { iso: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`, d };
}

/** Answers every rulebook question the form shows with its first code. */
async function answerQuestions(form) {
  const fields = form.locator("[data-var]");
  const n = await fields.count();
  assert.ok(n > 0, "the rulebook asks questions of a new member");
  for (let i = 0; i < n; i++) {
    const field = fields.nth(i);
    const select = field.locator("select");
    if (await select.count()) {
      const value = await select.locator("option").nth(1).getAttribute("value");
      await select.selectOption(value);
      continue;
    }
    const box = field.locator('input[type="checkbox"]');
    if (await box.count()) {
      await box.first().check();
      continue;
    }
    await field.locator("input").fill("1");
  }
  // Answers can ask further questions (skip logic): answer those too.
  if ((await fields.count()) > n) await answerQuestions(form);
}

/** Saves; ticks the warning confirmation when the core asks for it. */
async function save(page, done) {
  await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  const ok = page.getByText(done);
  const confirm = page.getByLabel("Saya sudah memeriksa semua peringatan dan datanya benar.");
  await Promise.race([ok.waitFor(), confirm.waitFor()]);
  if (!(await ok.isVisible())) {
    await confirm.check();
    await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
    await ok.waitFor();
  }
}

test("a birth: refused for its relationship in Indonesian, fixed, synced to the review queue; history and storage shown", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  const [target] = await households(page);
  assert.ok(target, "a household for the birth");
  const before = (await queued(page, target.kk, "birth")).length;

  // A girl born 20 days ago in the family's district: NIK day + 40.
  const { iso, d } = daysAgo(20);
  const district = target.keluarga.address.district.replaceAll(".", "");
  const p = (n) => String(n).padStart(2, "0");
  const serial = String(5000 + Math.floor(Math.random() * 4999));
  const nik = `${district}${p(d.getDate() + 40)}${p(d.getMonth() + 1)}${p(d.getFullYear() % 100)}${serial}`;

  await openHousehold(page, target.kk, { fromTab: true });
  await page.getByLabel("Jenis peristiwa").selectOption({ label: "Kelahiran" });
  const form = page.locator("form").filter({ has: page.getByRole("heading", { name: "Catat kelahiran" }) });
  assert.equal(await page.locator("#birth-nik").getAttribute("inputmode"), "numeric");
  await page.locator("#birth-nik").fill(nik);
  await page.getByLabel("Nama lengkap").fill("Bayi Uji Tepat");
  await page.getByLabel("Jenis kelamin").selectOption("2");
  await page.getByLabel("Tanggal lahir").fill(iso);
  // Recorded as the head's spouse: the core refuses a newborn in that relationship.
  await page.getByLabel("Hubungan dengan kepala keluarga").selectOption("2");
  await answerQuestions(form);
  // A newborn is not asked about chronic illness (the rulebook's relevance); the
  // health insurance (JKN) is asked.
  assert.equal(await form.locator('[data-var="430"]').count(), 0, "430 not asked of a newborn");
  assert.equal(await form.locator('[data-var="431a"]').count(), 1, "431a asked of a newborn");
  await page.getByLabel("Keterangan").fill("uji e2e kelahiran");
  await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  const finding = page.locator('#f-event-anggota-relationship-msg [data-rule="event.birth_relationship"]');
  await finding.waitFor();
  assert.match(await finding.innerText(), /Bayi yang lahir harus dicatat sebagai anak \(3\), cucu \(5\) atau lainnya \(8\)/);

  await page.getByLabel("Hubungan dengan kepala keluarga").selectOption("3");
  await save(page, "Kelahiran dicatat dan menunggu di Kotak Keluar.");
  assert.equal(await finding.count(), 0);

  // Synced: the outbox is empty, the server holds the birth for the supervisor.
  await page.getByRole("link", { name: "Kotak Keluar" }).click();
  await page.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor();
  const births = await queued(page, target.kk, "birth");
  assert.equal(births.length, before + 1);
  const stored = births.find((b) => b.request.event.anggota.nik === nik);
  assert.ok(stored, "the review queue holds the birth with its NIK");
  assert.equal(stored.request.event.anggota.name, "Bayi Uji Tepat");
  assert.equal(stored.request.event.anggota.relationship, 3);
  // The rulebook's questions for a baby were asked and answered (427 status gizi, 431a),
  // and no chronic illness was demanded.
  for (const f of ["child_nutrition", "jkn"]) {
    assert.ok(stored.request.event.anggota[f] != null, `${f} answered`);
  }
  assert.equal(stored.request.event.anggota.chronic_illness ?? null, null, "no chronic illness for a newborn");
  assert.equal(stored.submitted_by, "pendamping1");

  // The outbox page shows the storage estimate and persistence.
  const estimate = page.locator('[data-field="storage-estimate"]');
  await estimate.getByText(/Terpakai .+ dari .+ \(\d+(,\d)? %\)/).waitFor();
  await page.locator('[data-field="storage-persisted"]').getByText(/Penyimpanan (tetap|belum tetap)/).waitFor();

  // The household page: the server's versions and this device's sent birth.
  await openHousehold(page, target.kk, { fromTab: true });
  await page.locator('[data-field="history-source"]').getByText("Riwayat terbaru dari server.").waitFor();
  const server = await api(page, "pendamping1", `/api/v1/household?no_kk=${target.kk}`);
  assert.ok(server.history.length >= 1);
  assert.equal(await page.locator('[data-field="versions"] li[data-version]').count(), server.history.length);
  await page.locator('[data-field="device-changes"] li[data-kind="birth"][data-state="in_review"]').waitFor();

  // Offline, the history comes from the sealed cache; no NIK or No. KK in clear.
  await swReady(page);
  await context.setOffline(true);
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await openHousehold(page, target.kk, { fromTab: true });
  await page.locator('[data-field="history-source"]').getByText("Tidak ada sambungan: riwayat yang tersimpan di perangkat.").waitFor();
  assert.equal(await page.locator('[data-field="versions"] li[data-version]').count(), server.history.length);
  await page.locator('[data-field="device-changes"] li[data-kind="birth"]').waitFor();
  const raw = await page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open("tepat-cache"); r.onsuccess = () => res(r.result); });
    const v = await new Promise((res) => { const r = db.transaction("kv").objectStore("kv").get("history"); r.onsuccess = () => res(r.result); });
    db.close();
    return JSON.stringify(v, (k, x) => (x instanceof Uint8Array ? new TextDecoder("latin1").decode(x) : x));
  });
  assert.ok(raw && raw.length > 20, "the history is cached");
  assert.ok(!raw.includes(target.kk), "a No. KK in clear in the history cache");
  await context.close();
});

test("a move out: the head leaving needs a new head (Indonesian, then English), fixed, synced with its destination", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  const [, target] = await households(page);
  assert.ok(target, "a second household for the move");
  const head = target.members.find((a) => a.relationship === 1);
  const heir = target.members.find((a) => a !== head && a.relationship !== 1);
  const before = (await queued(page, target.kk, "member_moved_out")).length;
  const addr = target.keluarga.address;

  await openHousehold(page, target.kk, { fromTab: true });
  await page.getByLabel("Jenis peristiwa").selectOption({ label: "Pindah keluar" });
  await page.getByLabel("Anggota yang pindah").selectOption({ label: head.name });
  await page.getByLabel("Tanggal pindah").fill(daysAgo(10).iso);
  await page.getByLabel("Provinsi tujuan").selectOption(addr.province);
  await page.getByLabel("Kabupaten/kota tujuan").selectOption(addr.regency);
  await page.getByLabel("Kecamatan tujuan").selectOption(addr.district);
  await page.getByLabel("Keterangan").fill("uji e2e pindah");
  await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  const finding = page.locator('#f-event-new-head-msg [data-rule="event.new_head_required"]');
  await finding.waitFor();
  assert.match(await finding.innerText(), /Kepala keluarga keluar dari keluarga; pilih anggota yang menjadi kepala keluarga baru\./);
  // The same finding in English when the language is switched, and back.
  await page.getByRole("button", { name: "Ganti bahasa ke English" }).click();
  await finding.getByText("The head leaves the family; choose the member who becomes the new head.").waitFor();
  await page.getByRole("button", { name: "Switch language to Bahasa Indonesia" }).click();
  await finding.getByText(/Kepala keluarga keluar dari keluarga/).waitFor();

  await page.getByLabel("Kepala keluarga baru (jika kepala pindah)").selectOption({ label: heir.name });
  await save(page, "Kepindahan dicatat dan menunggu di Kotak Keluar.");
  assert.equal(await finding.count(), 0);

  await page.getByRole("link", { name: "Kotak Keluar" }).click();
  await page.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor();
  const moves = await queued(page, target.kk, "member_moved_out");
  assert.equal(moves.length, before + 1);
  const ev = moves.at(-1).request.event;
  assert.equal(ev.nik, head.nik);
  assert.equal(ev.new_head, heir.nik);
  assert.deepEqual(ev.destination, { kind: "domestic", region: addr.district });
  await context.close();
});

test("a death: every error in one round, worded as a death, and the dead head not offered as the new head", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  // Nothing is saved here: any household with a head and another member will do.
  const [, , target] = await households(page);
  assert.ok(target, "a third household for the death");
  const head = target.members.find((a) => a.relationship === 1);
  const others = target.members.filter((a) => a !== head).map((a) => a.name);

  await openHousehold(page, target.kk, { fromTab: true });
  await page.getByLabel("Jenis peristiwa").selectOption({ label: "Kematian" });
  await page.getByLabel("Anggota yang meninggal").selectOption({ label: head.name });
  // The head who dies is no choice for the new head; every other member is.
  const choices = await page.locator("#died-head option").allInnerTexts();
  assert.ok(!choices.includes(head.name), `the dying head among ${choices}`);
  for (const name of others) assert.ok(choices.includes(name), `${name} among ${choices}`);

  // No date, no note, no new head: all three errors at once, not in two rounds.
  await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  await page.locator('#f-event-date-msg [data-rule="input.required"]').waitFor();
  await page.locator('#f-reason-msg [data-rule="input.required"]').waitFor();
  const heir = page.locator('#f-event-new-head-msg [data-rule="event.new_head_required"]');
  assert.equal(await heir.count(), 1, "the new head is asked for in the same round");
  const words = await heir.innerText();
  assert.match(words, /^Kepala keluarga meninggal; pilih anggota yang menjadi kepala keluarga baru\.$/);
  assert.doesNotMatch(words, /keluar dari keluarga/);

  // With the date and the note given, the new head is still the one thing missing.
  await page.getByLabel("Tanggal meninggal").fill(daysAgo(3).iso);
  await page.getByLabel("Keterangan").fill("uji e2e kematian");
  await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  await page.locator('#f-event-date-msg [data-rule="input.required"]').waitFor({ state: "detached" });
  await heir.waitFor();
  await context.close();
});

// The update prompt. A new service worker is made by changing the served sw.js (in
// TEPAT_DIST, `dist` by default, restored afterwards) and asking the browser to check.
const DIST = process.env.TEPAT_DIST || "dist";

async function newVersion(page, n) {
  const path = join(DIST, "sw.js");
  writeFileSync(path, `${readFileSync(path, "utf8")}\n// e2e update ${n} ${Date.now()}\n`);
  await page.evaluate(() => { window.__beforeUpdate = true; });
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
}

async function reloaded(page) {
  await page.waitForFunction(() => !window.__beforeUpdate && navigator.serviceWorker.controller, null, { timeout: 30000 });
}

test("an update waits on a form page behind a banner, and activates by itself elsewhere", async () => {
  const original = readFileSync(join(DIST, "sw.js"), "utf8");
  const context = await phone(browser);
  const page = await context.newPage();
  try {
    await signIn(page, { pin: PIN });
    await swReady(page);
    const [target] = await households(page);
    await openHousehold(page, target.kk, { fromTab: true });
    await page.getByLabel("Jenis peristiwa").selectOption({ label: "Kematian" });

    // On a form page the new version waits for the user.
    await newVersion(page, 1);
    const banner = page.locator('[data-field="update"]');
    await banner.getByText("Versi baru tersedia. Sinkronkan dulu atau perbarui sekarang.").waitFor({ timeout: 30000 });
    assert.ok(await page.evaluate(() => window.__beforeUpdate), "no reload without the user");
    assert.ok(await page.getByLabel("Anggota yang meninggal").isVisible(), "the open form stays");
    await banner.getByRole("button", { name: "Perbarui sekarang" }).click();
    await reloaded(page);
    const waiting = await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration()).waiting);
    assert.equal(waiting, false, "the new version took over");

    // Elsewhere, with nothing unsent, the next version activates without asking.
    await page.goto("/");
    await page.getByLabel("PIN").fill(PIN);
    await page.getByRole("button", { name: "Buka" }).click();
    await page.getByRole("heading", { name: "Beranda" }).waitFor();
    await swReady(page);
    await newVersion(page, 2);
    await reloaded(page);
    assert.equal(await banner.count(), 0);
  } finally {
    writeFileSync(join(DIST, "sw.js"), original);
    await context.close();
  }
});

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

test("every event form: each input named, AA contrast (axe-core), NIK and No. KK inputs numeric", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  const [, , target] = await households(page);
  await openHousehold(page, target.kk, { fromTab: true });
  await page.evaluate(AXE);
  const kinds = await page.locator("#event-kind option").evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.equal(kinds.length, 10);
  for (const kind of kinds) {
    await page.locator("#event-kind").selectOption(kind);
    // A new person's rulebook questions appear once sex and birth date are known.
    if (await page.getByLabel("Tanggal lahir").count()) {
      await page.getByLabel("Jenis kelamin").first().selectOption("2");
      await page.getByLabel("Tanggal lahir").first().fill("1990-05-01");
      await page.locator("[data-var]").first().waitFor();
    }
    // Empty save: every required field gets its finding, so findings are audited too.
    await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
    await page.locator('[data-field="events"] .finding').first().waitFor();
    const r = await page.evaluate(async () => {
      const r = await window.axe.run(document.querySelector('[data-field="events"]'), {
        runOnly: { type: "rule", values: ["label", "select-name", "color-contrast", "button-name", "aria-input-field-name", "duplicate-id"] },
        resultTypes: ["violations", "passes"],
      });
      return { violations: r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), passed: r.passes.map((p) => p.id) };
    });
    assert.deepEqual(r.violations, [], kind);
    assert.ok(r.passed.includes("label") || r.passed.includes("select-name"), `${kind}: labels were checked`);
    for (const id of ["birth-nik", "movein-nik", "partner-nik", "movein-kk", "split-kk"]) {
      const el = page.locator(`#${id}`);
      if (await el.count()) assert.equal(await el.getAttribute("inputmode"), "numeric", id);
    }
  }
  await context.close();
});

test("a household merge (Gabung KK): target found by search, two heads refused in Indonesian, fixed, synced to the review queue", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { pin: PIN });
  // Two families from the middle of the list (the other tests take the ends).
  const list = await households(page);
  const middle = Math.floor(list.length / 2);
  const [source, target] = [list[middle], list[middle + 1]];
  assert.ok(source && target, "two households of pendamping1 for the merge");
  const before = (await queued(page, source.kk, "family_merge")).length;
  const index = (a) => source.keluarga.anggota.indexOf(a);

  await openHousehold(page, source.kk, { fromTab: true });
  await page.getByLabel("Jenis peristiwa").selectOption({ label: "Gabung KK" });
  await page.getByRole("heading", { name: "Catat gabung KK" }).waitFor();
  // The target is searched among the worklist's other families; the family itself is not offered.
  await page.getByLabel("Cari keluarga tujuan (No. KK, nama kepala, alamat)").fill(source.kk);
  assert.equal(await page.locator(`#merge-into option[value="${source.kk}"]`).count(), 0);
  await page.getByLabel("Cari keluarga tujuan (No. KK, nama kepala, alamat)").fill(target.kk);
  await page.locator(`#merge-into option[value="${target.kk}"]`).waitFor({ state: "attached" });
  await page.getByLabel("Keluarga tujuan", { exact: true }).selectOption(target.kk);
  await page.getByLabel("Tanggal gabung KK").fill(daysAgo(3).iso);
  // Every active member is listed; the head is (wrongly) kept as head of the target.
  assert.equal(await page.locator('select[id^="merge-rel-"]').count(), source.members.length);
  for (const a of source.members) {
    await page.locator(`#merge-rel-${index(a)}`).selectOption(a.relationship === 1 ? "1" : "8");
  }
  await page.getByLabel("Keterangan").fill("uji e2e gabung KK");
  await page.getByRole("button", { name: "Simpan ke Kotak Keluar" }).click();
  const finding = page.locator('#f-other-msg [data-rule="household.one_head"]');
  await finding.waitFor();
  assert.match(await finding.innerText(), /Keluarga harus memiliki tepat satu kepala keluarga aktif; tercatat 2\./);

  // Fixed: the joining head becomes "lainnya" (8) in the target family.
  const head = source.members.find((a) => a.relationship === 1);
  await page.locator(`#merge-rel-${index(head)}`).selectOption("8");
  await save(page, "Gabung KK dicatat dan menunggu di Kotak Keluar.");
  assert.equal(await finding.count(), 0);

  // Synced: the supervisor sees the merge with its target and every member.
  await page.getByRole("link", { name: "Kotak Keluar" }).click();
  await page.locator('[data-field="pending"]').getByText("0 perubahan menunggu").waitFor();
  const merges = await queued(page, source.kk, "family_merge");
  assert.equal(merges.length, before + 1);
  const ev = merges.at(-1).request.event;
  assert.equal(ev.type, "family_merge");
  assert.equal(ev.into_no_kk, target.kk);
  assert.deepEqual(
    ev.members.map((m) => m.nik).sort(),
    source.members.map((a) => a.nik).sort(),
  );
  assert.ok(ev.members.every((m) => m.relationship === 8));
  assert.equal(merges.at(-1).submitted_by, "pendamping1");
  await context.close();
});
