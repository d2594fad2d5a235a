// The offline chaos run, short: one cycle of each kind (crash mid-save offline, crash
// mid-push, tab closed while the outbox syncs, reload mid-save), then every change must
// be in the server's review queue exactly once. The 200-cycle run is
// `cargo xtask bench app chaos`. Its facilitator is added with the `tepat` CLI against
// the running server's database, with households of their own in a village outside the
// demo district, so the changes it makes touch no family another test reads.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, phone, DEMO_PASSWORD } from "./browser.mjs";
import { chaos } from "./chaos.mjs";

const BIN = process.env.TEPAT_BIN;
const DATABASE_URL = process.env.TEPAT_DATABASE_URL;
const USER = "pendamping_chaos";
/** Sukarasa, Kota Bandung (outside the demo district). */
const VILLAGE = "32.73.01.1001";
const HOUSEHOLDS = 4;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The facilitator and their households, the way an operator adds them. */
function seed() {
  const dir = mkdtempSync(join(tmpdir(), "tepat-chaos-"));
  try {
    const file = join(dir, "households.jsonl");
    const db = ["--database-url", DATABASE_URL];
    const run = (args) => execFileSync(BIN, args, { encoding: "utf8" });
    run(["user", "add", USER, "--role", "facilitator", "--password", DEMO_PASSWORD, ...db]);
    run(["gen", "--households", String(HOUSEHOLDS), "--seed", "11", "--region", VILLAGE, "--out", file]);
    const report = run(["import", "--region", VILLAGE, ...db, file]);
    assert.match(report, new RegExp(`Imported ${HOUSEHOLDS} of ${HOUSEHOLDS} lines, 0 rejected`));
    run(["assign", USER, VILLAGE, ...db]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Not passing yet: after the crash of cycle 0 the run waits for ever in Playwright's
// `setOffline` (or `newPage` fails): the service worker died with the crashed renderer
// and Playwright still waits on it. Run it with CHAOS_E2E=1 (CHAOS_TRACE=1 prints stages).
const skip = !BIN || !DATABASE_URL
  ? "TEPAT_BIN and TEPAT_DATABASE_URL are set by `cargo xtask e2e`"
  : !process.env.CHAOS_E2E && "not passing yet: Playwright waits on the service worker of the crashed renderer";

test("offline chaos: crashes, a closed tab and a reload lose no change and send none twice", { skip, timeout: 600_000 }, async () => {
  seed();
  const r = await chaos(browser, { username: USER, cycles: 4, budgetMs: 480_000, newContext: phone });
  assert.equal(r.cycles, 4, `every cycle ran: ${JSON.stringify(r)}`);
  assert.equal(r.on_server, 4, `each change once on the server: ${JSON.stringify(r)}`);
  assert.equal(r.lost, 0);
  assert.equal(r.duplicated, 0);
});
