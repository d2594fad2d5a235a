// The offline chaos run, short: one cycle of each kind (the browser killed mid-save
// offline, killed mid-push, tab closed while the outbox syncs, reload mid-save), then every change must
// be in the server's review queue exactly once. The 200-cycle run is
// `cargo xtask bench app chaos`. Its facilitator is added with the `tepat` CLI against
// the running server's database, with households of their own in a village outside the
// demo district, so the changes it makes touch no family another test reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_PASSWORD } from "./browser.mjs";
import { chaos } from "./chaos.mjs";

const BIN = process.env.TEPAT_BIN;
const DATABASE_URL = process.env.TEPAT_DATABASE_URL;
const USER = "pendamping_chaos";
/** Sukarasa, Kota Bandung (outside the demo district). */
const VILLAGE = "32.73.01.1001";
const HOUSEHOLDS = 4;

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

const skip = !BIN || !DATABASE_URL ? "TEPAT_BIN and TEPAT_DATABASE_URL are set by `cargo xtask e2e`" : false;

/** One cycle of each kind; CHAOS_CYCLES=N runs N (the bench runs 200). */
const CYCLES = Number(process.env.CHAOS_CYCLES ?? 4);
const BUDGET_MS = Math.max(480_000, CYCLES * 20_000);

test("offline chaos: crashes, a closed tab and a reload lose no change and send none twice", { skip, timeout: BUDGET_MS + 120_000 }, async () => {
  seed();
  const r = await chaos({ username: USER, cycles: CYCLES, budgetMs: BUDGET_MS });
  console.log(`chaos: ${JSON.stringify(r)}`);
  assert.equal(r.cycles, CYCLES, `every cycle ran: ${JSON.stringify(r)}`);
  assert.equal(r.on_server, CYCLES, `each change once on the server: ${JSON.stringify(r)}`);
  assert.equal(r.lost, 0);
  assert.equal(r.duplicated, 0);
});
