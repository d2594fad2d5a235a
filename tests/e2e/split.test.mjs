// The split wasm (app/src/lazy.rs, crates/xtask/src/build.rs): the first screens load
// the main module only; a screen in a split module loads it on first use, offline from
// the service worker's cache; a module that cannot be fetched is a message, and the
// next visit tries again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, bare, phone, signIn, swReady, openHousehold, api } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const isSplit = (url) => /\/app-[0-9a-f]{16}\/(split_|chunk_)[^/]*\.wasm$/.test(url);

test("the sign-in screen needs the main module only; Cek NIK fetches its own", async () => {
  const context = await bare(browser);
  const page = await context.newPage();
  const wasm = [];
  page.on("request", (r) => {
    if (/\.wasm$/.test(r.url())) wasm.push(r.url());
  });
  await page.goto("/masuk");
  await page.getByLabel("Nama pengguna").waitFor();
  await page.waitForTimeout(300);
  assert.equal(wasm.filter((u) => /\/tepat-app_bg\.wasm$/.test(u)).length, 1, `main module once: ${wasm}`);
  assert.deepEqual(wasm.filter(isSplit), [], "no split module before it is needed");

  await page.getByRole("link", { name: "Cek NIK", exact: true }).click();
  await page.getByLabel("NIK (16 digit)").waitFor();
  assert.ok(
    wasm.some((u) => /\/split_cek_nik\.wasm$/.test(u)),
    `the Cek NIK screen came with its module: ${wasm.filter(isSplit)}`
  );
  await context.close();
});

test("a split module that cannot be fetched is a message in Indonesian; the next visit loads it", async () => {
  const context = await bare(browser);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  let blocked = true;
  await page.route(/\/split_cek_nik\.wasm$/, (route) =>
    blocked ? route.abort("internetdisconnected") : route.continue()
  );
  await page.goto("/masuk");
  await page.getByLabel("Nama pengguna").waitFor();
  await page.getByRole("link", { name: "Cek NIK", exact: true }).click();
  const alert = page.getByRole("alert");
  await alert.getByText(/Bagian aplikasi ini belum tersimpan di perangkat/).waitFor();
  assert.equal(await page.getByLabel("NIK (16 digit)").count(), 0);

  // Still a working app: another screen, then Cek NIK again once the module can come.
  blocked = false;
  await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.waitForURL(/\/tugas$/);
  await page.getByRole("link", { name: "Cek NIK", exact: true }).click();
  await page.getByLabel("NIK (16 digit)").waitFor();
  await page.locator("#nik").pressSequentially("1171015506850123");
  await page.getByText(/^Format NIK benar/).waitFor();
  assert.deepEqual(errors, [], "no uncaught error (a failed load must not abort the module)");
  await context.close();
});

test("offline, a household never opened before opens from the precached split modules", async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  const fetched = [];
  page.on("requestfinished", (r) => {
    if (isSplit(r.url())) fetched.push(r.url());
  });
  await signIn(page, { pin: "482915" });
  await swReady(page);
  const households = await api(page, "pendamping1", "/api/v1/sync/pull?cursor=0&limit=5");
  const kk = households.households[1].no_kk;
  assert.ok(!fetched.some((u) => /split_keluarga/.test(u)), "the household screen was not needed yet");

  await context.setOffline(true);
  await openHousehold(page, kk);
  await page.getByRole("heading", { name: "Pratinjau peringkat" }).waitFor();
  await page.locator('[data-field="uji-petik"]').click();
  await page.getByRole("heading", { name: "Uji Petik", exact: true }).waitFor();
  assert.equal(await page.getByRole("alert").filter({ hasText: "belum tersimpan" }).count(), 0);
  await context.close();
});
