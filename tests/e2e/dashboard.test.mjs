// The dashboard end to end: koordinator1 and analis1 open Dasbor from the console; the
// desil chart's table shows the server's figures (fetched from the API here), the
// analyst drills down from the provinces one level, and a table downloads as CSV with
// the same numbers. The page fits a 360 px phone and puts chart and table side by side
// on a laptop.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { launch, phone, api, signIn, BASE, DEMO_PASSWORD } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PIN = "531864";

function laptop(browser) {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "id-ID", baseURL: BASE, acceptDownloads: true });
}

/** The desil table's rows as [desil, persons, families]. */
async function desilTable(page) {
  const table = page.locator('table[data-table="desil"]');
  await table.waitFor();
  const rows = await table.locator("tbody tr").all();
  const out = [];
  for (const r of rows) {
    const cells = await r.locator("th, td").allInnerTexts();
    out.push(cells.slice(0, 3).map(Number));
  }
  return out;
}

const fromApi = (d) => d.desil.rows.map((r) => [r.desil, r.persons, r.families]);

test("the dashboard's desil table equals the server's figures, drills down, and downloads as CSV", async () => {
  // koordinator1, on a phone: its district's figures.
  const field = await phone(browser);
  const k1 = await field.newPage();
  await signIn(k1, { username: "koordinator1", pin: PIN, worklist: false });
  await k1.getByRole("link", { name: "Dasbor", exact: true }).click();
  await k1.getByRole("heading", { name: "Dasbor", exact: true }).waitFor();
  const mine = await api(k1, "koordinator1", "/api/v1/dashboard");
  assert.equal(mine.level, "district");
  assert.deepEqual(await desilTable(k1), fromApi(mine));
  const persons = mine.desil.rows.reduce((s, r) => s + r.persons, 0);
  assert.ok(persons > 0, "the demo district has scored families");
  await k1.locator('[data-field="area"]').getByText(mine.name).waitFor();
  // Every village of the district is a drill-down link with its real name.
  assert.equal(await k1.locator("a[data-drill]").count(), mine.children.length);
  const { scroll, width } = await k1.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `page is ${scroll} px wide in a ${width} px window`);
  // Charts are plain SVG with a label.
  assert.ok((await k1.locator('[data-figure="desil"] svg[role="img"] rect').count()) === 10);

  // analis1, on a laptop: the provinces, then one level down.
  const desk = await laptop(browser);
  const a1 = await desk.newPage();
  await signIn(a1, { username: "analis1", pin: PIN, worklist: false });
  await a1.getByRole("link", { name: "Dasbor", exact: true }).click();
  const national = await api(a1, "analis1", "/api/v1/dashboard");
  assert.equal(national.region, null);
  assert.deepEqual(await desilTable(a1), fromApi(national));
  // Side by side on a laptop: the chart left of its table.
  const chart = await a1.locator('[data-figure="desil"] svg').boundingBox();
  const table = await a1.locator('table[data-table="desil"]').boundingBox();
  assert.ok(table.x > chart.x + chart.width - 1, `chart ${JSON.stringify(chart)}, table ${JSON.stringify(table)}`);

  const province = national.children.find((c) => c.families > 0);
  assert.ok(province, "a province with families");
  await a1.locator(`a[data-drill="${province.code}"]`).click();
  await a1.locator('[data-field="area"]').getByText(province.name).waitFor();
  const down = await api(a1, "analis1", `/api/v1/dashboard?region=${province.code}`);
  assert.equal(down.level, "province");
  // Wait until the page shows the province's figures, then compare.
  await a1.locator(`a[data-drill="${down.children[0].code}"]`).waitFor();
  assert.deepEqual(await desilTable(a1), fromApi(down));
  assert.equal(await a1.locator("a[data-drill]").count(), down.children.length);

  // The desil table as CSV, made in the browser: the same numbers.
  const [download] = await Promise.all([a1.waitForEvent("download"), a1.locator('a[data-csv="desil"]').click()]);
  assert.equal(download.suggestedFilename(), "desil.csv");
  const text = await readFile(await download.path(), "utf8");
  const lines = text.trim().split(/\r\n/);
  assert.equal(lines[0], "Desil,Jiwa,Keluarga,Rentang program");
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(",").slice(0, 3).map(Number)),
    fromApi(down),
  );
  // Back up to the national view.
  await a1.locator('[data-field="up"]').click();
  await a1.locator(`a[data-drill="${province.code}"]`).waitFor();

  // A facilitator gets no dashboard from the API.
  const refused = await a1.evaluate(async () => {
    const login = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "pendamping1", password: DEMO_PASSWORD }),
    }).then((r) => r.json());
    return (await fetch("/api/v1/dashboard", { headers: { Authorization: `Bearer ${login.token}` } })).status;
  });
  assert.equal(refused, 403);
  await field.close();
  await desk.close();
});
