// Public participation end to end: a citizen files a sanggah on the public page at
// 360 px without an account (house photo and GPS required), gets a ticket; the village
// operator (operator_desa1) puts it to the deliberation, asks a facilitator to visit,
// records the berita acara and agrees; Dinsos (dinsos1) starts the verification and
// verifies; the citizen's status page then shows every step, and nothing of a family.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, api, phone, signIn, BASE } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "642975";
// The smallest valid PNG (1×1): the photo the device shrinks and sends as JPEG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

/** Two families of the operator's village: the filer's and the one objected to. */
async function villageFamilies(page) {
  const me = await api(page, "operator_desa1", "/api/v1/me");
  const village = me.villages[0];
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const families = pull.households
    .filter((h) => h.village === village)
    .map((h) => ({ no_kk: h.no_kk, keluarga: JSON.parse(JSON.stringify(h.keluarga)) }))
    .filter((h) => h.keluarga.anggota.some((a) => [1, 5].includes(a.presence ?? 1)));
  assert.ok(families.length >= 7, `the demo village has families (${families.length})`);
  // The demo's own filings use the first families; these are later ones.
  return { village, filer: families[5], target: families[6] };
}

test("a sanggah filed publicly goes through the village and Dinsos, and the filer sees every step", async () => {
  const citizen = await phone(browser);
  await citizen.grantPermissions(["geolocation"]);
  await citizen.setGeolocation({ latitude: -6.914744, longitude: 107.60981, accuracy: 8 });
  const page = await citizen.newPage();
  await page.goto("/partisipasi");
  await page.getByRole("heading", { name: "Partisipasi masyarakat" }).waitFor();
  const { filer, target } = await villageFamilies(page);
  const member = filer.keluarga.anggota.find((a) => [1, 5].includes(a.presence ?? 1));

  // The page works without an account: no sign-in, no PIN.
  await page.getByRole("button", { name: "Sanggah", exact: true }).click();
  const form = page.locator('form[data-form="sanggah"]');
  await form.getByLabel("NIK pelapor (16 digit)").fill(member.nik);
  await form.getByLabel("No. KK pelapor (16 digit)").fill(filer.no_kk);
  await form.getByLabel("Nama pelapor").fill(member.name);
  await form.getByLabel("Nomor HP pelapor").fill("081234567890");
  await form.getByLabel("No. KK keluarga yang disanggah").fill(target.no_kk);
  // The reason codes are the core's sanggah list.
  await form.getByLabel("Keluarga tergolong mampu").check();
  await form.getByRole("textbox", { name: "Keterangan", exact: true }).fill("Keluarga ini memiliki dua mobil dan rumah kedua.");

  // Without the photo and GPS the server refuses, with its message.
  await form.getByRole("button", { name: "Kirim sanggahan" }).click();
  await form.locator('[data-field="filing-error"]').getByText(/\(422\)/).waitFor();

  await form.getByLabel("Foto rumah (wajib)").setInputFiles({ name: "rumah.png", mimeType: "image/png", buffer: PNG });
  await form.locator('[data-field="sanggah-photo-preview"]').waitFor();
  await form.getByRole("button", { name: "Ambil lokasi GPS rumah" }).click();
  await form.locator('[data-field="sanggah-gps-point"]').getByText("-6.914744, 107.609810 ± 8 m").waitFor();
  await form.getByRole("button", { name: "Kirim sanggahan" }).click();
  const receipt = form.locator('[data-field="receipt"]');
  await receipt.waitFor();
  const ticket = await receipt.locator('[data-field="ticket"]').innerText();
  assert.match(ticket, /^\d{4}-\d{6}$/);
  // The receipt names nothing of the family objected to.
  const receiptText = await receipt.innerText();
  assert.ok(!receiptText.includes(target.no_kk), "the receipt does not repeat the No. KK");
  for (const a of target.keluarga.anggota) {
    if (a.name) assert.ok(!receiptText.includes(a.name), "no member's name");
  }
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page fits 360 px (${width})`);

  // The village operator: open the case, put it to the deliberation, ask a visit.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE });
  const op = await desk.newPage();
  await signIn(op, { username: "operator_desa1", pin: PIN, worklist: false });
  await op.getByRole("link", { name: "Buka usul dan sanggah" }).click();
  await op.getByRole("heading", { name: "Usul dan sanggah" }).waitFor();
  await op.locator(`li[data-ticket="${ticket}"] a.row`).click();
  const card = op.locator(`[data-field="case"][data-ticket="${ticket}"]`);
  await card.waitFor();
  await card.locator('[data-field="reasons"]').getByText("Keluarga tergolong mampu").waitFor();
  await card.locator('[data-file="house_photo"]').waitFor();

  const decision = op.locator('form[data-form="decision"]');
  await decision.getByLabel("Langkah berikutnya").selectOption("open_deliberation");
  await decision.getByRole("button", { name: "Simpan langkah" }).click();
  await op.locator(`[data-field="case"][data-state="deliberation"]`).waitFor();

  await decision.getByLabel("Langkah berikutnya").selectOption("request_visit");
  await decision.getByLabel("Nama pengguna pendamping desa ini").fill("pendamping1");
  await decision.getByRole("button", { name: "Simpan langkah" }).click();
  await op.locator('[data-field="visit"]').getByText("pendamping1").waitFor();

  // Agreeing needs the deliberation's record: refused without one, then recorded.
  await decision.getByLabel("Langkah berikutnya").selectOption("agree");
  await decision.getByLabel("No. catatan musyawarah (berita acara/SPTJM)").fill("999999");
  await decision.getByRole("button", { name: "Simpan langkah" }).click();
  await decision.locator('[data-field="decision-error"]').waitFor();

  const delib = op.locator('form[data-form="deliberation"]');
  const today = new Date().toISOString().slice(0, 10);
  await delib.getByLabel("Tanggal musyawarah").fill(today);
  await delib.getByLabel("Jumlah peserta").fill("31");
  await delib.getByLabel("Foto atau PDF dokumen").setInputFiles({ name: "berita-acara.png", mimeType: "image/png", buffer: PNG });
  await delib.getByRole("button", { name: "Simpan catatan musyawarah" }).click();
  const saved = delib.locator('[data-field="deliberation-id"]');
  await saved.waitFor();
  const recordId = await saved.getAttribute("data-id");
  assert.equal(
    await decision.getByLabel("No. catatan musyawarah (berita acara/SPTJM)").inputValue(),
    recordId,
    "the record just saved goes with the decision",
  );
  await decision.getByRole("button", { name: "Simpan langkah" }).click();
  await op.locator(`[data-field="case"][data-state="agreed"]`).waitFor();
  const steps = op.locator('[data-field="steps"] li');
  await steps.filter({ hasText: "Disetujui musyawarah" }).locator('[data-field="step-who"]').getByText(/operator_desa1/).waitFor();

  // Dinsos starts the verification and verifies.
  const dinsosDesk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE });
  const d1 = await dinsosDesk.newPage();
  await signIn(d1, { username: "dinsos1", pin: PIN, worklist: false });
  await d1.getByRole("link", { name: "Buka usul dan sanggah" }).click();
  await d1.locator(`li[data-ticket="${ticket}"] a.row`).click();
  const dDecision = d1.locator('form[data-form="decision"]');
  await dDecision.getByLabel("Langkah berikutnya").selectOption("start_verification");
  await dDecision.getByRole("button", { name: "Simpan langkah" }).click();
  await d1.locator(`[data-field="case"][data-state="verification"]`).waitFor();
  await d1.locator('[data-field="deadline"]').waitFor();
  await dDecision.getByLabel("Langkah berikutnya").selectOption("verify");
  await dDecision.getByRole("button", { name: "Simpan langkah" }).click();
  await d1.locator(`[data-field="case"][data-state="verified"]`).waitFor();

  // The citizen's status page: every step, no official's name, no family.
  await page.getByRole("button", { name: "Cek tiket" }).click();
  const check = page.locator('form[data-form="tiket"]');
  await check.getByLabel("Nomor tiket (contoh 2026-000001)").fill(ticket);
  await check.getByLabel("NIK pelapor").fill(member.nik);
  await check.getByRole("button", { name: "Cek status" }).click();
  const status = page.locator('[data-field="ticket-status"][data-state="verified"]');
  await status.waitFor();
  const actions = await status.locator('[data-field="ticket-steps"] li').evaluateAll((els) => els.map((e) => e.dataset.action));
  assert.deepEqual(actions, ["file", "check", "open_deliberation", "request_visit", "agree", "start_verification", "verify"]);
  const statusText = await status.innerText();
  assert.ok(!statusText.includes("operator_desa1") && !statusText.includes("dinsos1"), "no official's name");
  assert.ok(!statusText.includes(target.no_kk), "no No. KK");

  // A wrong NIK gets the same answer as an unknown ticket.
  await check.getByLabel("NIK pelapor").fill("3273010101900001");
  await check.getByRole("button", { name: "Cek status" }).click();
  await page.locator('[data-field="ticket-error"]').getByText(/\(404\)/).waitFor();

  await citizen.close();
  await desk.close();
  await dinsosDesk.close();
});

test("an usul names a real village picked from the region table and reaches that village's operator", async () => {
  const citizen = await phone(browser);
  const page = await citizen.newPage();
  await page.goto("/partisipasi");
  await page.getByRole("heading", { name: "Partisipasi masyarakat" }).waitFor();
  const { village, filer } = await villageFamilies(page);
  const member = filer.keluarga.anggota.find((a) => [1, 5].includes(a.presence ?? 1));
  const [p, r, d] = village.split(".");
  const form = page.locator('form[data-form="usul"]');
  await form.getByLabel("NIK pelapor (16 digit)").fill(member.nik);
  await form.getByLabel("No. KK pelapor (16 digit)").fill(filer.no_kk);
  await form.getByLabel("Nama pelapor").fill(member.name);
  await form.getByLabel("Nomor HP pelapor").fill("081234567890");
  // Province, regency and district from the table on the device, the villages from the server.
  await form.getByLabel("Provinsi").selectOption(p);
  await form.getByLabel("Kabupaten/kota").selectOption(`${p}.${r}`);
  await form.getByLabel("Kecamatan").selectOption(`${p}.${r}.${d}`);
  await form.locator(`#usul-village option[value="${village}"]`).waitFor({ state: "attached" });
  await form.getByLabel("Desa/kelurahan").selectOption(village);
  await form.getByLabel("Alamat (jalan, RT/RW)").fill("Gang Melati RT 04 RW 02");
  await form.getByLabel("Nama anggota 1").fill("Sumarni");
  await form.getByRole("button", { name: "Tambah anggota" }).click();
  await form.getByLabel("Nama anggota 2").fill("Dedi");
  await form.getByLabel("Lansia hidup sendiri").check();
  await form.getByRole("textbox", { name: "Keterangan", exact: true }).fill("Tinggal di rumah bambu, belum pernah didata.");
  await form.getByRole("button", { name: "Kirim usul" }).click();
  const ticket = await form.locator('[data-field="receipt"] [data-field="ticket"]').innerText();
  assert.match(ticket, /^\d{4}-\d{6}$/);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page fits 360 px (${width})`);

  const list = await api(page, "operator_desa1", "/api/v1/participation?status=open");
  const c = list.cases.find((x) => x.ticket === ticket);
  assert.ok(c, "the operator of the village sees the usul");
  assert.equal(c.village, village);
  assert.equal(c.target, "new_family");
  assert.deepEqual(c.filing.members.map((m) => m.name), ["Sumarni", "Dedi"]);
  assert.deepEqual(c.filing.reasons, ["lansia_sendiri"]);
  await citizen.close();
});
