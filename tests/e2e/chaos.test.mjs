// Offline chaos, short: a facilitator's ground checks survive crashes mid-save and
// mid-push, reloads, a tab closed during a sync and the connection flipping, with every
// change on the server exactly once (tests/e2e/chaos.mjs; 200 cycles in
// `cargo xtask bench app chaos`).
import { test, before, after } from "node:test";
import { launch, phone } from "./browser.mjs";
import { chaos } from "./chaos.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("chaos: 10 cycles of crashes, reloads, closed tabs and offline flips lose and duplicate nothing", { timeout: 120_000 }, async () => {
  const r = await chaos(browser, { username: "pendamping2", cycles: 10, budgetMs: 50_000, newContext: phone });
  console.log(`chaos: ${JSON.stringify(r)}`);
});
