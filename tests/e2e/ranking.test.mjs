// The quarterly ranking reaches the device: the demo has a published run, so the
// household page shows the family's official desil with its quarter beside the
// preview; the admin runs and publishes the next quarter through the API, and the
// facilitator's next pull shows the new quarter's official desil.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, phone, api, signIn, openHousehold, DEMO_PASSWORD } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** `METHOD path` with a JSON body as `username` (demo password), from the page. */
async function call(page, username, method, path, body) {
  return page.evaluate(async ([username, method, path, body]) => {
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
    return { status: r.status, json: await r.json().catch(() => null) };
  }, [username, method, path, body]);
}

test("the official desil of the published run shows on the household page, and a new run reaches the next pull", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await signIn(page, { username: "pendamping1", pin: "135792" });
  const pull = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  assert.ok(pull.ranking, "the demo has a published ranking run");
  const h = pull.households.find((x) => x.official);
  assert.ok(h, "families carry their official desil");
  await openHousehold(page, h.no_kk);
  await page.getByText(`Desil resmi (triwulan ${pull.ranking.period})`).waitFor();
  assert.equal(await page.locator('[data-field="official-desil"]').textContent(), String(h.official.desil));
  await page.getByText("Desil pratinjau (dihitung di perangkat, bukan hasil resmi)").waitFor();

  // The admin runs and publishes the next quarter.
  const next = pull.ranking.period.endsWith("Q4")
    ? `${Number(pull.ranking.period.slice(0, 4)) + 1}Q1`
    : `${pull.ranking.period.slice(0, 5)}${Number(pull.ranking.period[5]) + 1}`;
  const started = await call(page, "admin", "POST", "/api/v1/ranking/runs", { period: next });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  let run;
  for (let i = 0; i < 200; i++) {
    run = (await call(page, "admin", "GET", `/api/v1/ranking/runs/${started.json.id}`)).json;
    if (run.status !== "running") break;
    await page.waitForTimeout(100);
  }
  assert.equal(run.status, "done", JSON.stringify(run));
  const published = await call(page, "admin", "POST", `/api/v1/ranking/runs/${run.id}/publish`, {});
  assert.equal(published.status, 200, JSON.stringify(published.json));
  // A facilitator cannot start one.
  const refused = await call(page, "pendamping1", "POST", "/api/v1/ranking/runs", { period: "2099Q1" });
  assert.equal(refused.status, 403);

  const after = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=2000");
  const again = after.households.find((x) => x.no_kk === h.no_kk);
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.getByRole("button", { name: "Perbarui daftar" }).click();
  await openHousehold(page, h.no_kk);
  await page.getByText(`Desil resmi (triwulan ${next})`).waitFor();
  assert.equal(await page.locator('[data-field="official-desil"]').textContent(), String(again.official.desil));
  await context.close();
});
