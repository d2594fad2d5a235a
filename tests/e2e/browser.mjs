// Shared setup of the end-to-end suite: Debian's Chromium driven by playwright-core,
// against an already running `tepat serve --demo` at TEPAT_URL (xtask starts it).
import { chromium } from "playwright-core";

export const BASE = process.env.TEPAT_URL;
/** The demo accounts' password (`tepat serve --demo`, crates/server/src/seed.rs). */
export const DEMO_PASSWORD = "tepat-demo-2026";
if (!BASE) {
  throw new Error("TEPAT_URL is not set: start `tepat serve --demo` and export TEPAT_URL=http://127.0.0.1:PORT");
}

/**
 * Chromium for the suite. Every context it opens defines `DEMO_PASSWORD` in its pages
 * too, so the API calls the tests make from a page (`page.evaluate`) sign in with the
 * same constant as the tests themselves.
 */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    await context.addInitScript(`globalThis.DEMO_PASSWORD = ${JSON.stringify(DEMO_PASSWORD)};`);
    return context;
  };
  return browser;
}

/** A fresh, isolated phone-sized context (360×640, touch, Indonesian locale). */
export async function phone(browser) {
  return browser.newContext({
    viewport: { width: 360, height: 640 },
    deviceScaleFactor: 2,
    hasTouch: true,
    isMobile: true,
    locale: "id-ID",
    baseURL: BASE,
  });
}

/** A phone context with no service worker, so every request goes through `page.route`. */
export async function bare(browser) {
  return browser.newContext({
    viewport: { width: 360, height: 640 },
    isMobile: true,
    hasTouch: true,
    locale: "id-ID",
    baseURL: BASE,
    serviceWorkers: "block",
  });
}

/** Waits until the service worker controls the page and has finished precaching. */
export async function swReady(page) {
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true });
      });
    }
    return reg.active && reg.active.state;
  });
}

/** `GET path` as `username` (demo password), straight from the API, from the page. */
export async function api(page, username, path) {
  return page.evaluate(async ([username, path]) => {
    const login = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: DEMO_PASSWORD }),
    }).then((r) => r.json());
    return fetch(path, { headers: { Authorization: `Bearer ${login.token}` } }).then((r) => r.json());
  }, [username, path]);
}

/**
 * Signs in with the demo password and sets a new PIN, then waits for the home page;
 * with `worklist` (the default) it also opens the worklist and waits until it is loaded.
 */
export async function signIn(page, { username = "pendamping1", pin, worklist = true }) {
  await page.goto("/masuk");
  await page.getByLabel("Nama pengguna").fill(username);
  await page.getByLabel("Kata sandi").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Masuk" }).click();
  await page.getByLabel("PIN baru (min. 6 angka)").fill(pin);
  await page.getByLabel("Ulangi PIN").fill(pin);
  await page.getByRole("button", { name: "Simpan PIN" }).click();
  await page.getByRole("heading", { name: "Beranda" }).waitFor();
  if (worklist) {
    await page.getByRole("link", { name: "Tugas", exact: true }).click();
    await page.getByText("Terakhir diperbarui:").waitFor();
  }
}

/** Opens a household from the worklist by its No. KK (from the Tugas tab with `fromTab`). */
export async function openHousehold(page, kk, { fromTab = false } = {}) {
  if (fromTab) await page.getByRole("link", { name: "Tugas", exact: true }).click();
  await page.getByLabel("Cari nama, NIK, No. KK atau alamat").fill(kk);
  await page.locator(`a.row[data-kk="${kk}"]`).click();
  await page.locator('[data-field="no_kk"]').getByText(kk).waitFor();
}
