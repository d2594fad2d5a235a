// The program determination end to end: a PKH family of the demo becomes much better
// off (a supervisor's correction through the API), the admin runs and publishes the
// next quarter, and on /penetapan the diff shows the family leaving PKH: in the table,
// in the CSV downloaded from the screen (with its reason), and in the drill-down to its
// village, where the BNBA list downloads. The screen fits a 360 px phone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { launch, phone, api, signIn, BASE, DEMO_PASSWORD } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "246813";

function laptop(browser) {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE, acceptDownloads: true });
}

/** `METHOD path` with a JSON body (or the text answer with `text`) as `username`. */
async function call(page, username, method, path, body, text = false) {
  return page.evaluate(async ([username, method, path, body, text]) => {
    const login = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: DEMO_PASSWORD }),
    }).then((r) => r.json());
    const r = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${login.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: text ? null : await r.json().catch(() => null), text: text ? await r.text() : null };
  }, [username, method, path, body, text]);
}

function nextQuarter(p) {
  return p.endsWith("Q4") ? `${Number(p.slice(0, 4)) + 1}Q1` : `${p.slice(0, 5)}${Number(p[5]) + 1}`;
}

test("a family made better off leaves PKH in the next period's determination, and the screen shows it", async () => {
  const office = await laptop(browser);
  const page = await office.newPage();
  await signIn(page, { username: "admin", pin: PIN, worklist: false });

  // The published period and a PKH family of pendamping2's villages (from its BNBA).
  const first = await api(page, "admin", "/api/v1/penetapan");
  assert.ok(first.period, JSON.stringify(first));
  const pull = await api(page, "pendamping2", "/api/v1/sync/pull?cursor=0&limit=2000");
  const villages = [...new Set(pull.households.map((h) => h.village))];
  let family;
  for (const v of villages) {
    const bnba = await call(page, "admin", "GET", `/api/v1/penetapan/bnba.csv?program=pkh&village=${v}`, undefined, true);
    assert.equal(bnba.status, 200, bnba.text);
    const kks = bnba.text.trim().split("\n").slice(1).map((l) => l.split(",")[0]);
    // From the end of the list: the first families stay as the register has them.
    for (const kk of kks.reverse()) {
      const h = pull.households.find((x) => x.no_kk === kk);
      if (h && h.official && h.official.desil <= 4) {
        family = h;
        break;
      }
    }
    if (family) break;
  }
  assert.ok(family, "a PKH family in pendamping2's villages");

  // A car, air conditioning, a computer, a refrigerator, a flat TV, gold, 2,200 VA and a
  // large tiled, walled house: far above desil 4.
  const corrections = [
    ["assets.movable.car", 1], ["assets.movable.air_conditioner", 1], ["assets.movable.computer", 1],
    ["assets.movable.refrigerator", 1], ["assets.movable.flat_tv", 1], ["assets.movable.gold", 1],
    ["housing.lighting", 1], ["housing.power", 4], ["housing.floor_area_m2", 400],
    ["housing.floor", 1], ["housing.wall", 1],
  ].map(([field, value]) => ({ field, value }));
  const pushed = await call(page, "koordinator1", "POST", "/api/v1/sync/push", {
    items: [{
      id: randomUUID(), no_kk: family.no_kk, base_version: family.version, author: "koordinator1",
      time: new Date().toISOString(), reason: "Uji petik: keadaan keluarga membaik",
      event: { type: "variable_correction", corrections },
    }],
  });
  const result = pushed.json?.results?.[0];
  assert.ok(["applied", "pending_review"].includes(result?.status), JSON.stringify(pushed.json));
  if (result.status === "pending_review") {
    const ok = await call(page, "dinsos1", "POST", `/api/v1/review/${result.id}/approve`, { reason: "Sesuai" });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
  }

  // The admin runs and publishes the next quarter.
  const next = nextQuarter(first.periods[0]);
  const started = await call(page, "admin", "POST", "/api/v1/ranking/runs", { period: next });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  let run;
  for (let i = 0; i < 300; i++) {
    run = (await call(page, "admin", "GET", `/api/v1/ranking/runs/${started.json.id}`)).json;
    if (run.status !== "running") break;
    await page.waitForTimeout(100);
  }
  assert.equal(run.status, "done", JSON.stringify(run));
  const published = await call(page, "admin", "POST", `/api/v1/ranking/runs/${run.id}/publish`, {});
  assert.equal(published.status, 200, JSON.stringify(published.json));

  // The screen: from the tab, the new period against the previous one.
  await page.getByRole("link", { name: "Penetapan", exact: true }).click();
  await page.getByRole("heading", { name: "Penetapan program" }).waitFor();
  await page.locator('[data-field="period"]').getByText(`Periode ${next}`).waitFor();
  await page.getByText(`Dibandingkan dengan periode terbit sebelumnya, ${first.periods[0]}.`).waitFor();
  const now = await api(page, "admin", "/api/v1/penetapan");
  const pkh = now.programs.find((p) => p.program === "pkh");
  assert.ok(pkh.leaving.families >= 1, JSON.stringify(pkh));
  const row = page.locator('table[data-table="diff"] tr[data-program="pkh"]');
  assert.equal(await row.locator('[data-field="leaving"]').innerText(), String(pkh.leaving.families));
  assert.equal(await row.locator('[data-field="entering"]').innerText(), String(pkh.entering.families));
  // The chart is plain SVG beside its table: two bars per program.
  assert.equal(await page.locator('svg[data-chart="diff"] rect').count(), 2 * now.programs.length);
  // Inactive NIKs are said not to be checked.
  await page.locator('[data-field="inactive_nik"]').waitFor();

  // The diff's CSV from the screen lists the family leaving PKH, for its desil.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator('button[data-csv="diff"]').click(),
  ]);
  const csv = await readFile(await download.path(), "utf8");
  const line = csv.split("\r\n").find((l) => l.startsWith(`keluar,pkh,${family.no_kk},`));
  assert.ok(line, csv);
  assert.match(line, /,pkh\.desil,/);
  assert.equal(line.split(",")[3], family.village);

  // Drill down to the family's village: its row, then the BNBA list of the village.
  const district = family.village.slice(0, 8);
  for (const code of [family.village.slice(0, 2), family.village.slice(0, 5), district]) {
    await page.locator(`a[data-drill="${code}"]`).click();
    await page.locator(`table[data-table="children"] a[data-drill]`).first().waitFor();
  }
  const villageRow = page.locator(`table[data-table="children"] tr[data-code="${family.village}"]`);
  await villageRow.waitFor();
  const [bnba] = await Promise.all([
    page.waitForEvent("download"),
    villageRow.locator(`button[data-bnba="${family.village}"]`).click(),
  ]);
  const list = await readFile(await bnba.path(), "utf8");
  assert.ok(list.startsWith("no_kk,nama_kepala_keluarga,nik_kepala_keluarga,"), list);
  assert.ok(!list.includes(family.no_kk), "the family left PKH");
  const audit = await api(page, "admin", "/api/v1/audit?user=admin");
  assert.ok(
    audit.entries.some((e) => e.action === "penetapan_bnba_export" && e.details?.village === family.village),
    JSON.stringify(audit.entries.slice(-3)),
  );
  await office.close();

  // koordinator1 on a phone: its district, at 360 px, without a sideways scroll.
  const field = await phone(browser);
  const k1 = await field.newPage();
  await signIn(k1, { username: "koordinator1", pin: PIN, worklist: false });
  await k1.getByRole("link", { name: "Penetapan", exact: true }).click();
  await k1.locator('table[data-table="children"]').waitFor();
  assert.ok((await k1.locator("button[data-bnba]").count()) > 0, "BNBA per village for the supervisor");
  const { scroll, width } = await k1.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `page is ${scroll} px wide in a ${width} px window`);
  await field.close();

  // The analyst reads the figures but gets no BNBA button.
  const desk = await laptop(browser);
  const a1 = await desk.newPage();
  await signIn(a1, { username: "analis1", pin: PIN, worklist: false });
  await a1.getByRole("link", { name: "Penetapan", exact: true }).click();
  await a1.locator('table[data-table="diff"]').waitFor();
  assert.equal(await a1.locator("button[data-bnba]").count(), 0);
  await desk.close();
});
