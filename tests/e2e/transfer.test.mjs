// Import and export from the browser, and each role's own navigation: dinsos1 uploads a
// DTSEN extract with one good and two bad lines, watches the upload and the checking,
// reads the rejects by line and downloads them as CSV, then exports the regency's
// households as CSV; koordinator1 lands on the console (the queue and the district's
// progress) with the console's tabs, and its device pulls no worklist.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { launch, phone, signIn, BASE, DEMO_PASSWORD } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "642097";

/** A laptop-sized context. */
function laptop(browser) {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE, acceptDownloads: true });
}

/** `GET path` as `username` (demo password) from the page, as text. */
async function apiText(page, username, path) {
  return page.evaluate(async ([username, path]) => {
    const login = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: DEMO_PASSWORD }),
    }).then((r) => r.json());
    return fetch(path, { headers: { Authorization: `Bearer ${login.token}` } }).then((r) => r.text());
  }, [username, path]);
}

/** The tabs of the header, by name. */
async function tabs(page) {
  return page.locator("header nav.tabs a").allInnerTexts();
}

/** A number of 16 digits with its last 4 (the serial) replaced so that it is in none of `taken`. */
function fresh(number, taken, start) {
  for (let s = start; s < 10000; s++) {
    const candidate = number.slice(0, 12) + String(s).padStart(4, "0");
    if (!taken.has(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
  throw new Error("no free serial");
}

test("dinsos1 imports an extract with one good and two bad lines, sees the progress and the rejects by line, downloads them, and exports the households", async () => {
  const office = await laptop(browser);
  const d1 = await office.newPage();
  await signIn(d1, { username: "dinsos1", pin: PIN, worklist: false });
  assert.equal(new URL(d1.url()).pathname, "/konsol");
  assert.deepEqual(await tabs(d1), ["Beranda konsol", "Antrean", "Dasbor", "Peringkat", "Penetapan", "Impor/Ekspor", "Akun"]);

  // The extract: a family of the regency under a new No. KK and new NIKs (line 1), a line
  // cut short (line 2), a family with a sex code that does not exist (line 3).
  const existing = (await apiText(d1, "dinsos1", "/api/v1/export?what=households&format=jsonl"))
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const taken = new Set(existing.flatMap((k) => [k.no_kk, ...k.anggota.map((a) => a.nik)]));
  // A family as the register has it: active, every member present, no origin.
  const model = existing.find(
    (k) => (k.status ?? "active") === "active" && !k.origin_kk && k.anggota.every((a) => (a.presence ?? 1) === 1),
  );
  assert.ok(model, "an active family to copy");
  const good = structuredClone(model);
  delete good.ground_checked;
  good.version = 1;
  good.no_kk = fresh(good.no_kk, taken, 9000);
  good.anggota.forEach((a) => (a.nik = fresh(a.nik, taken, 9000)));
  const bad = structuredClone(good);
  bad.no_kk = fresh(bad.no_kk, taken, 9500);
  bad.anggota.forEach((a) => (a.nik = fresh(a.nik, taken, 9500)));
  bad.anggota[0].sex = 9;
  const text = [JSON.stringify(good), JSON.stringify(good).slice(0, 60), JSON.stringify(bad)].join("\n") + "\n";

  await d1.getByRole("link", { name: "Impor/Ekspor", exact: true }).click();
  await d1.getByRole("heading", { name: "Impor data DTSEN" }).waitFor();
  assert.equal(await d1.title(), "Impor data DTSEN — Tepat");
  assert.equal(await d1.locator('header nav.tabs a[aria-current="page"]').innerText(), "Impor/Ekspor");
  await d1.locator('[data-field="import-region"]').getByText(/^Diimpor ke: .+ \(\d\d\.\d\d\)$/).waitFor();

  // Every phase the screen shows, in order, with the progress bar's state.
  await d1.evaluate(() => {
    window.phases = [];
    const seen = () => {
      const el = document.querySelector('[data-field="import-status"]');
      const phase = el?.dataset.phase;
      if (phase && window.phases.at(-1)?.phase !== phase) {
        const bar = el.querySelector("progress");
        window.phases.push({ phase, bar: !!bar, max: bar?.max, text: el.innerText });
      }
    };
    new MutationObserver(seen).observe(document.body, { childList: true, subtree: true, attributes: true });
  });
  await d1.setInputFiles("#import-file", { name: "ekstrak.jsonl", mimeType: "application/x-ndjson", buffer: Buffer.from(text) });
  await d1.getByRole("button", { name: "Unggah dan periksa" }).click();
  await d1.locator('[data-field="import-status"][data-phase="done"]').waitFor();
  const phases = await d1.evaluate(() => window.phases);
  assert.deepEqual(phases.map((p) => p.phase), ["uploading", "checking", "done"], JSON.stringify(phases));
  assert.ok(phases[0].bar && phases[0].max === Buffer.byteLength(text), JSON.stringify(phases[0]));
  assert.match(phases[0].text, /^Mengunggah… \d+ %/);
  assert.match(phases[1].text, /^Memeriksa…/);
  assert.ok(phases[1].bar, "the checking shows its bar too");

  assert.equal(await d1.locator('[data-field="import-lines"]').innerText(), "3");
  assert.equal(await d1.locator('[data-field="import-imported"]').innerText(), "1");
  assert.equal(await d1.locator('[data-field="import-rejected"]').innerText(), "2");
  const rows = d1.locator('[data-field="rejects"] tbody tr');
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => r.dataset.line)), ["2", "3"]);
  assert.match(await rows.nth(0).locator('[data-field="message"]').innerText(), /^Baris tidak dapat dibaca: /);
  assert.match(await rows.nth(1).locator('[data-field="message"]').innerText(), /^Baris tidak dapat dibaca: .*anggota\[0\]\.sex/);
  // The reasons in English with the language switch, and back.
  await d1.getByRole("button", { name: "Ganti bahasa ke English" }).click();
  assert.match(await rows.nth(0).locator('[data-field="message"]').innerText(), /^The line cannot be read: /);
  await d1.getByRole("button", { name: "Switch language to Bahasa Indonesia" }).click();
  await rows.nth(0).locator('[data-field="message"]').getByText(/^Baris tidak dapat dibaca: /).waitFor();

  // The rejects as CSV: the line, the reason, both languages.
  const [download] = await Promise.all([
    d1.waitForEvent("download"),
    d1.getByRole("button", { name: "Unduh penolakan (CSV)" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "penolakan-impor.csv");
  const csv = (await readFile(await download.path(), "utf8")).trim().split("\n");
  assert.equal(csv[0], "baris_line,alasan_reason,keterangan,message");
  assert.equal(csv.length, 3);
  assert.match(csv[1], /^2,parse,"?Baris tidak dapat dibaca: .*The line cannot be read: /);
  assert.match(csv[2], /^3,parse,/);
  assert.ok(!csv.join("\n").includes(good.anggota[0].nik), "no NIK in the rejects");

  // The good family is in the register now.
  const now = (await apiText(d1, "dinsos1", "/api/v1/export?what=households&format=jsonl")).trim().split("\n");
  assert.equal(now.length, existing.length + 1);

  // Export the regency's households as CSV: one row per member, the new family among them.
  await d1.getByRole("link", { name: "Ekspor data wilayah" }).click();
  await d1.getByRole("heading", { name: "Ekspor data" }).waitFor();
  assert.equal(await d1.locator('header nav.tabs a[aria-current="page"]').innerText(), "Impor/Ekspor");
  await d1.getByLabel("Data", { exact: true }).selectOption("households");
  await d1.getByLabel("Format", { exact: true }).selectOption("csv");
  const [exported] = await Promise.all([d1.waitForEvent("download"), d1.getByRole("button", { name: "Unduh", exact: true }).click()]);
  assert.equal(exported.suggestedFilename(), "tepat-keluarga.csv");
  const lines = (await readFile(await exported.path(), "utf8")).trim().split("\n");
  assert.equal(lines[0], "no_kk,version,village,status,nik,name,sex,birth_date,relationship,presence");
  const members = existing.reduce((n, k) => n + k.anggota.length, 0) + good.anggota.length;
  assert.equal(lines.length - 1, members);
  assert.equal(lines.filter((l) => l.startsWith(good.no_kk + ",")).length, good.anggota.length);
  await d1.locator('[data-field="export-done"]').getByText(`Berkas diunduh: ${members} baris data.`).waitFor();
  // The export is in the audit log (read back as the admin, nationally).
  const audit = JSON.parse(await apiText(d1, "admin", "/api/v1/audit?user=dinsos1"));
  const entries = audit.entries;
  assert.ok(
    entries.some((e) => e.action === "export" && e.details?.what === "households" && e.details?.format === "csv"),
    JSON.stringify(audit).slice(0, 400),
  );
  await office.close();
});

test("koordinator1 lands on the queue and the district's progress with the console's tabs, and pulls no worklist", async () => {
  const context = await phone(browser);
  const k1 = await context.newPage();
  const pulls = [];
  k1.on("request", (r) => {
    if (r.url().includes("/api/v1/sync/")) pulls.push(r.url());
  });
  await signIn(k1, { username: "koordinator1", pin: PIN, worklist: false });
  assert.equal(new URL(k1.url()).pathname, "/konsol");
  await k1.locator('[data-field="queue-summary"]').waitFor();
  await k1.locator('[data-field="progress"]').waitFor();
  await k1.getByRole("link", { name: "Buka antrean" }).waitFor();
  assert.deepEqual(await tabs(k1), ["Beranda konsol", "Antrean", "Dasbor", "Penetapan", "Ekspor"]);
  assert.equal(await k1.locator('header nav.tabs a[aria-current="page"]').innerText(), "Beranda konsol");
  // The facilitator's Beranda and worklist are not its: /tugas goes to the console.
  assert.equal(await k1.getByRole("heading", { name: "Desa tugas" }).count(), 0);
  await k1.goto("/tugas");
  await k1.getByLabel("PIN", { exact: true }).fill(PIN);
  await k1.getByRole("button", { name: "Buka", exact: true }).click();
  await k1.waitForURL("**/konsol");
  await k1.locator('[data-field="queue-summary"]').waitFor();
  // The queue tab opens the queue.
  await k1.getByRole("link", { name: "Antrean", exact: true }).click();
  await k1.getByRole("heading", { name: "Antrean tinjauan" }).waitFor();
  // A koordinator does not import: the page says so.
  await k1.goto("/impor");
  await k1.getByLabel("PIN", { exact: true }).fill(PIN);
  await k1.getByRole("button", { name: "Buka", exact: true }).click();
  await k1.locator('[data-field="console-refused"]').waitFor();
  assert.deepEqual(pulls, [], "no worklist pulled");
  await context.close();
});
