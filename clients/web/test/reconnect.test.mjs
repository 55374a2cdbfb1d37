// Reconnect without loss or repeats: Bob has a direct chat open in Chromium; Alice (a Node
// client on the SDK) sends 50 messages while the server process is killed and started
// again. Alice retries each send with its client key until it is acknowledged; Bob's view
// catches up and shows all 50 exactly once and in order, live and again after a reload
// (the first page of history).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { directWith, register, say, screenshot, sdkUser, serverAndBrowser, skipReason } from "./harness.mjs";

const reason = skipReason();
if (reason) console.log(`# browser tests skipped: ${reason}`);

/** Retries `f` until it succeeds (the server may be down), for at most 60 s. @template T @param {() => Promise<T>} f */
async function untilDone(f) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("reconnecting", { skip: reason || false, timeout: 240_000 }, () => {
  const it = serverAndBrowser();

  test("a server restart while 50 messages are sent: each shown once, in order", async () => {
    const { sb: alice } = await sdkUser(it.server, "alice", "Alice");
    const context = await it.browser.newContext();
    const page = await context.newPage();
    await page.goto(it.server.url);
    await register(page, "bob", "Bob");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();
    const dm = await directWith(alice, "bob");
    await say(alice, dm.id, "before");
    await page.getByRole("link", { name: /^Alice/ }).click();
    const bodies = page.locator(".chat-main .messages li.msg .body");
    await bodies.filter({ hasText: "before" }).waitFor();
    const banner = page.locator(".banner");
    assert.equal(await banner.getAttribute("data-status"), "live");

    const sends = (async () => {
      for (let i = 1; i <= 50; i++) {
        const clientKey = crypto.randomUUID();
        await untilDone(() => alice.messages.sendMessage({ conversationId: dm.id, clientKey, text: { text: `message ${i}` } }));
      }
    })();
    // Kill the server once some have gone out; the rest wait for it to come back.
    await bodies.filter({ hasText: "message 10" }).waitFor({ timeout: 30_000 }).catch(() => {});
    await it.server.restart({ kill: true });
    await sends;

    const expected = ["before", ...Array.from({ length: 50 }, (_, i) => `message ${i + 1}`)];
    const shown = async () => (await bodies.allTextContents()).map((t) => t.trim());
    await page.waitForFunction((n) => document.querySelectorAll(".chat-main .messages li.msg .body").length >= n, expected.length, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector(".banner")?.getAttribute("data-status") === "live", null, { timeout: 60_000 });
    // Let anything late (a duplicate would be) arrive before looking.
    await page.waitForTimeout(500);
    assert.deepEqual(await shown(), expected, "live: every message once, in order");
    await screenshot(page, "10-after-restart");

    await page.reload();
    await bodies.filter({ hasText: "message 50" }).waitFor();
    const firstPage = await shown();
    assert.ok(firstPage.length >= 50, `the first page holds ${firstPage.length}`);
    assert.deepEqual(firstPage, expected.slice(-firstPage.length), "after a reload: the first page of history, once each, in order");
    await context.close();
  });
});
