// The offline chaos run: 200 cycles in `cargo xtask bench app chaos` (tests/bench/app.mjs),
// one cycle of each kind in the e2e suite (chaos.test.mjs); CHAOS_TRACE=1 prints its stages.
//
// The device is a Chromium of its own with a profile on disk (IndexedDB, the service
// worker and its caches live there), driven over CDP. A crash is what a phone does to
// a browser it needs the memory of: the whole browser process group is killed with
// SIGKILL, no unload handler runs and no write in flight finishes; then the browser is
// started again on the same profile, as the facilitator would reopen it.
//
// A facilitator records a ground check (a floor area that needs a confirmed warning,
// so every change waits in the review queue where it can be counted) on a different
// family each cycle, and each cycle something goes wrong once the draft is saved:
//   0. offline, the browser is killed right after "Kirim" (mid-save);
//   1. online, the browser is killed while the outbox is pushed (mid-push);
//   2. offline, saved; back online on the outbox page, the tab is closed while it syncs;
//   3. the page is reloaded right after "Kirim" (mid-save), online or offline;
// and the connection flips on and off at the cycle's edges. After every cycle the
// facilitator reopens the app and does what a person would: a draft the app still shows
// is sent again. At the end the device syncs until its outbox is empty, and the review
// queue is read from the server: every cycle's change must be there exactly once
// (0 lost, 0 duplicated). Bounded: `cycles` cycles, and it stops at `budgetMs`.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, request } from "playwright-core";
import { BASE, DEMO_PASSWORD, swReady } from "./browser.mjs";

const AREA = "#f-housing-floor_area_m2";
const SEND = "Kirim koreksi ke Kotak Keluar";
const CONFIRM = "Saya sudah memeriksa semua peringatan dan datanya benar.";
const SAVED = '[data-field="draft-status"][data-saved="true"]';

/** Prints a stage of the run with CHAOS_TRACE=1. */
const trace = (what) => {
  if (process.env.CHAOS_TRACE) console.log(`chaos: ${what}`);
};

/** A tiny deterministic PRNG (mulberry32), so a failing run can be replayed by seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Signs in from the API (not the app) and returns a token. */
async function token(request, username) {
  const r = await request.post("/api/v1/auth/login", { data: { username, password: DEMO_PASSWORD } });
  assert.equal(r.status(), 200, `login ${username}`);
  return (await r.json()).token;
}

/** Every household `username` pulls, page by page. */
async function households(request, username) {
  const t = await token(request, username);
  const out = [];
  let cursor = "0";
  for (;;) {
    const r = await request.get(`/api/v1/sync/pull?cursor=${cursor}&limit=2000`, {
      headers: { Authorization: `Bearer ${t}` },
    });
    assert.equal(r.status(), 200, "pull");
    const page = await r.json();
    out.push(...page.households);
    if (!page.has_more) return out;
    cursor = page.next_cursor;
  }
}

/**
 * A phone's browser: Chromium on the profile `dir`, its own process group, connected
 * over CDP. `kill()` is the crash; `start()` opens it again on the same profile.
 */
function device(dir) {
  let proc = null;
  let browser = null;
  let offline = false;
  const self = {
    context: null,
    async start() {
      proc = spawn(
        process.env.CHROMIUM || "/usr/bin/chromium",
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
          "--lang=id-ID",
          "--window-size=360,640",
          `--user-data-dir=${dir}`,
          "--remote-debugging-port=0",
          "about:blank",
        ],
        { detached: true, stdio: ["ignore", "ignore", "pipe"] },
      );
      const ws = await new Promise((resolve, reject) => {
        let err = "";
        const timer = setTimeout(() => reject(new Error(`chromium did not start: ${err}`)), 60_000);
        proc.stderr.on("data", (d) => {
          err += d;
          const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        proc.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`chromium exited (${code}): ${err}`));
        });
      });
      browser = await chromium.connectOverCDP(ws);
      self.context = browser.contexts()[0];
      if (offline) await self.context.setOffline(true);
      trace("device started");
    },
    /** A page of the device, phone-sized. */
    async page() {
      const page = self.context.pages().find((p) => !p.isClosed()) ?? (await self.context.newPage());
      await page.setViewportSize({ width: 360, height: 640 });
      return page;
    },
    async setOffline(value) {
      offline = value;
      await self.context.setOffline(value);
    },
    /** The crash: SIGKILL to the browser's whole process group. */
    async kill() {
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        proc.kill("SIGKILL");
      }
      await exited;
      await browser.close().catch(() => {});
      trace("device killed");
    },
    async close() {
      if (proc && proc.exitCode === null && proc.signalCode === null) await self.kill();
    },
  };
  return self;
}

/** Opens `path` on a fresh load and unlocks with the PIN. */
async function open(page, path, pin) {
  await page.goto(new URL(path, BASE).href);
  await page.getByLabel("PIN").fill(pin);
  await page.getByRole("button", { name: "Buka" }).click();
}

/** Fills the form for the cycle's change and waits until the draft is stored. */
async function fill(page, reason) {
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  await page.locator(AREA).fill("1");
  await page.locator(`${AREA}-msg [data-rule="housing.floor_area_per_person"]`).waitFor();
  await page.getByLabel("Alasan perubahan").fill(reason);
  await page.getByLabel(CONFIRM).check();
  await page.locator(SAVED).waitFor();
}

/** Sends the form and waits for the app to say the change is in the outbox. */
async function send(page) {
  await page.getByRole("button", { name: SEND }).click();
  await page.getByText("Uji petik dikirim ke Kotak Keluar.").waitFor();
}

/**
 * After a cycle's mishap: reopens the family as a person would and, if the app still
 * shows a draft, sends it. Returns whether it sent a draft again.
 */
async function recover(page, kk, pin) {
  await open(page, `/keluarga/${kk}`, pin);
  // The link says whether a draft waits once the stored drafts are read (data-draft).
  const link = page.locator('[data-field="uji-petik"][data-draft]');
  await link.waitFor();
  const draft = (await link.getAttribute("data-draft")) === "yes";
  assert.equal(/Lanjutkan draf/.test(await link.innerText()), draft, "the link's label follows the stored draft");
  trace(`draft left: ${draft}`);
  if (!draft) return false;
  await link.click();
  await page.getByRole("heading", { name: "Uji Petik" }).waitFor();
  await page.waitForFunction((sel) => document.querySelector(sel)?.value === "1", AREA);
  const box = page.getByLabel(CONFIRM);
  if (!(await box.isChecked())) await box.check();
  await send(page);
  return true;
}

/**
 * Runs the chaos cycles on a new device (a Chromium of its own, see `device`) as
 * `username` and returns the figures; throws when a change is lost or duplicated.
 */
export async function chaos({ username, reviewer = "admin", cycles, budgetMs, seed = 22 }) {
  if (cycles > 500) throw new Error("the review queue is read 500 at a time: at most 500 cycles");
  const started = Date.now();
  const random = rng(seed);
  const run = `${seed}-${started.toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), "tepat-chaos-profile-"));
  const phone = device(dir);
  const made = [];
  const counts = { cycles: 0, resent: 0, crashes: 0, reloads: 0, closed_tabs: 0, offline_flips: 0 };
  let other;
  const server = await request.newContext({ baseURL: BASE });
  try {
    await phone.start();
    const pin = "731946";
    let page = await phone.page();
    // Sign in once; the PIN opens every page after that.
    await page.goto(new URL("/masuk", BASE).href);
    await page.getByLabel("Nama pengguna").fill(username);
    await page.getByLabel("Kata sandi").fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Masuk" }).click();
    await page.getByLabel("PIN baru (min. 6 angka)").fill(pin);
    await page.getByLabel("Ulangi PIN").fill(pin);
    await page.getByRole("button", { name: "Simpan PIN" }).click();
    await page.getByRole("heading", { name: "Beranda" }).waitFor();
    await page.getByRole("link", { name: "Tugas", exact: true }).click();
    await page.getByText("Terakhir diperbarui:").waitFor({ timeout: 120_000 });
    // Offline reloads are served by the service worker from here on.
    trace("signed in");
    await swReady(page);
    trace("service worker ready");

    const families = await households(server, username);
    assert.ok(families.length > 0, `${username} has families`);
    for (let i = 0; i < cycles && Date.now() - started < budgetMs; i++) {
      const kk = families[i % families.length].no_kk;
      const reason = `uji petik chaos ${run}-${i}: luas lantai diukur ulang`;
      const kind = i % 4;
      const offline = kind === 0 || kind === 2 || (kind === 3 && random() < 0.5);
      if (page.isClosed()) page = await phone.page();
      trace(`cycle ${i} kind ${kind}`);
      await open(page, `/keluarga/${kk}/uji-petik`, pin);
      trace("form open");
      await fill(page, reason);
      trace(`draft saved${offline ? ", going offline" : ""}`);
      if (offline) {
        await phone.setOffline(true);
        counts.offline_flips++;
      }
      made.push({ i, kk, reason });
      if (kind === 0) {
        // Mid-save: the crash lands somewhere in the outbox write and the draft's removal.
        await page.getByRole("button", { name: SEND }).click();
        await page.waitForTimeout(Math.floor(random() * 40));
        await phone.kill();
        await phone.start();
        counts.crashes++;
      } else if (kind === 1) {
        // Mid-push: the change is in the outbox and the push has begun.
        await send(page);
        await page.waitForTimeout(Math.floor(random() * 150));
        await phone.kill();
        await phone.start();
        counts.crashes++;
      } else if (kind === 2) {
        // Saved offline; the tab closes while the outbox syncs after the connection returns.
        await send(page);
        await page.getByRole("link", { name: "Kotak Keluar" }).click();
        await page.locator('[data-field="pending"]').waitFor();
        await phone.setOffline(false);
        counts.offline_flips++;
        await page.waitForTimeout(Math.floor(random() * 120));
        await page.close();
        counts.closed_tabs++;
      } else {
        await page.getByRole("button", { name: SEND }).click();
        await page.waitForTimeout(Math.floor(random() * 40));
        await page.reload().catch(() => {});
        counts.reloads++;
      }
      // The connection comes back at a random point of the recovery.
      trace("mishap done, recovering");
      const backEarly = random() < 0.5;
      if (backEarly) await phone.setOffline(false);
      page = await phone.page();
      if (await recover(page, kk, pin)) counts.resent++;
      if (!backEarly) await phone.setOffline(false);
      counts.cycles++;
    }

    // The end: online, the outbox is sent until nothing waits.
    await phone.setOffline(false);
    page = await phone.page();
    await open(page, "/kotak-keluar", pin);
    const pending = page.locator('[data-field="pending"]');
    for (let tries = 0; ; tries++) {
      await page.getByRole("button", { name: "Sinkronkan sekarang" }).click();
      try {
        await pending.getByText("0 perubahan menunggu").waitFor({ timeout: 10_000 });
        break;
      } catch (e) {
        if (tries >= 5) throw e;
      }
    }
    other = await page.locator(".outbox [data-state]").evaluateAll((els) =>
      els.map((e) => e.getAttribute("data-state")).filter((s) => s !== "pending"),
    );
  } finally {
    await phone.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // Against the server: every change exactly once.
  const t = await token(server, reviewer);
  const r = await server.get("/api/v1/review?limit=500", { headers: { Authorization: `Bearer ${t}` } });
  assert.equal(r.status(), 200, "review queue");
  const queue = (await r.json()).items;
  await server.dispose();
  const byReason = new Map();
  for (const item of queue) {
    const why = item.request?.reason ?? "";
    if (why.includes(`chaos ${run}-`)) byReason.set(why, (byReason.get(why) ?? 0) + 1);
  }
  const lost = made.filter((m) => !byReason.has(m.reason)).map((m) => m.i);
  const duplicated = made.filter((m) => (byReason.get(m.reason) ?? 0) > 1).map((m) => m.i);
  const result = {
    ...counts,
    changes: made.length,
    on_server: [...byReason.values()].reduce((a, b) => a + b, 0),
    lost: lost.length,
    duplicated: duplicated.length,
    left_in_outbox_not_pending: other.length,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  assert.deepEqual(lost, [], `changes lost (cycles): ${JSON.stringify(result)}`);
  assert.deepEqual(duplicated, [], `changes duplicated (cycles): ${JSON.stringify(result)}`);
  return result;
}
