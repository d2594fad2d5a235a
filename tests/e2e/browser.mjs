// Shared setup of the end-to-end suite: Debian's Chromium driven by playwright-core,
// against an already running `tepat serve --demo` at TEPAT_URL (xtask starts it).
import { chromium } from "playwright-core";

export const BASE = process.env.TEPAT_URL;
if (!BASE) {
  throw new Error("TEPAT_URL is not set: start `tepat serve --demo` and export TEPAT_URL=http://127.0.0.1:PORT");
}

export async function launch() {
  return chromium.launch({
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
