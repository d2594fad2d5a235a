// Matching (padan) in the console: the demo matched its register with a small Dukcapil
// extract at seeding. koordinator1 finds a "Dukcapil: meninggal" item in the queue
// (the padan filter), opens it, sees the finding's evidence (the Dukcapil row beside the
// register's values, the match probability, the weights) and the proposed death, and
// approves it; the death is then the family's next version on the server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, api, signIn, BASE } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "642975";

test("a Dukcapil death found by matching is reviewed with its evidence and approved", async () => {
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE });
  const k1 = await desk.newPage();
  await signIn(k1, { username: "koordinator1", pin: PIN, worklist: false });
  const queue = await api(k1, "koordinator1", "/api/v1/review?kind=padan&limit=1000");
  const deaths = queue.items.filter((i) => i.padan?.kind === "meninggal");
  assert.ok(deaths.length > 0, "the demo queues a Dukcapil death");
  // One the core can apply as it is (a head's death needs a new head: a reviewer
  // rejects that one and a facilitator records it).
  let item;
  for (const d of deaths) {
    const page = await api(k1, "koordinator1", `/api/v1/review/${d.id}`);
    if (page.applies) item = d;
  }
  assert.ok(item, `a death that applies among ${deaths.length}`);
  const before = await api(k1, "koordinator1", `/api/v1/household?no_kk=${item.no_kk}`);
  const nik = item.request.event.nik;
  const idx = before.keluarga.anggota.findIndex((a) => a.nik === nik);
  assert.ok(idx >= 0, "the member is in the family");

  // The queue's padan filter lists it with the finding's message.
  await k1.getByRole("link", { name: "Buka antrean" }).click();
  await k1.getByRole("heading", { name: "Antrean tinjauan" }).waitFor();
  await k1.getByLabel("Jenis").selectOption("padan");
  const row = k1.locator(`ul.queue[data-kind="padan"] .queue-row[data-id="${item.id}"]`);
  await row.waitFor();
  await row.getByText(/^Dukcapil: meninggal pada \d{4}-\d{2}-\d{2}/).waitFor();
  await row.locator("a.row").click();

  // The evidence: the Dukcapil row beside the register's, the probability and weights.
  const card = k1.locator('[data-field="padan"][data-padan-kind="meninggal"]');
  await card.waitFor();
  await card.getByRole("heading", { name: /^Dukcapil: meninggal pada \d{4}-\d{2}-\d{2}/ }).waitFor();
  const died = card.locator('tr[data-padan-field="tanggal_meninggal"] td');
  assert.equal(await died.first().innerText(), item.padan.evidence.dukcapil.tanggal_meninggal);
  const name = card.locator('tr[data-padan-field="nama"] td');
  assert.equal(await name.first().innerText(), item.padan.evidence.dukcapil.nama);
  await card.locator('[data-field="padan-probability"]').getByText(/^Peluang cocok: [01]\.\d{4}$/).waitFor();
  await card.locator('[data-field="padan-weights"]').getByText(/nama [+-]\d+\.\d\d/).waitFor();
  assert.equal(await k1.locator('[data-field="submitted-by"]').innerText(), "sistem:padan");
  // The proposed change: the member's presence.
  await k1.locator(`[data-field="changes"] tr.changed[data-path="anggota[${idx}].presence"]`).waitFor();

  // Approve: the death is applied through the core.
  await k1.getByRole("button", { name: "Setujui", exact: true }).click();
  await k1.locator('[data-field="decision-result"]').getByText("Keputusan disimpan.").waitFor();
  await k1.locator('[data-field="status"]').getByText("Disetujui").waitFor();
  const after = await api(k1, "koordinator1", `/api/v1/household?no_kk=${item.no_kk}`);
  assert.equal(after.version, before.version + 1);
  assert.equal(after.keluarga.anggota[idx].presence, 2, "died (404 = 2)");
  await desk.close();
});
