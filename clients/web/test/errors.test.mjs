// Bad input and failures in the browser: a file over the server's limit is refused before
// a byte is uploaded; a message sent while offline is kept with a Retry and goes out once;
// a send whose answer is lost is not repeated (its client key matches the event). And a
// desktop notification when a message arrives while the tab is hidden, none when muted.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { directWith, register, say, sdkUser, serverAndBrowser, skipReason } from "./harness.mjs";

const reason = skipReason();
if (reason) console.log(`# browser tests skipped: ${reason}`);

describe("failures and notifications in the web client", { skip: reason || false, timeout: 180_000 }, () => {
  const it = serverAndBrowser({ SWITCHBOARD_SERVICE__FILES__MAX_FILE_BYTES: "65536" });

  test("oversize files, offline sends and lost answers", async () => {
    const context = await it.browser.newContext();
    const page = await context.newPage();
    /** @type {string[]} */
    const uploads = [];
    page.on("request", (r) => /\/v1\/(uploads|files)/.test(r.url()) && r.method() !== "GET" && uploads.push(r.url()));
    await page.goto(it.server.url);
    await register(page, "alice", "Alice");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();

    const { sb: bob } = await sdkUser(it.server, "bob", "Bob");
    const dm = await directWith(bob, "alice");
    await say(bob, dm.id, "hi");
    await page.getByRole("link", { name: /^Bob/ }).click();
    const bodies = page.locator(".chat-main .messages li.msg:not(.pending) .body");
    await bodies.filter({ hasText: "hi" }).waitFor();

    // A file over the limit: refused with the limit named, nothing uploaded.
    await page.locator('.composer input[type="file"]').setInputFiles({ name: "big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(100_000, 7) });
    await page.locator(".composer .error").filter({ hasText: "the server accepts files up to 64 KB" }).waitFor();
    assert.deepEqual(uploads, []);

    // Offline: the message stays, marked, with a Retry; back online, it goes out once.
    await context.setOffline(true);
    await page.locator('.banner[data-status="offline"]').waitFor();
    await page.getByLabel("Message", { exact: true }).fill("kept while offline");
    await page.keyboard.press("Enter");
    const failed = page.getByRole("article", { name: "Not sent" });
    await failed.filter({ hasText: "kept while offline" }).waitFor();
    await context.setOffline(false);
    await failed.getByRole("button", { name: "Retry" }).click();
    await bodies.filter({ hasText: "kept while offline" }).waitFor();
    await failed.waitFor({ state: "detached" });

    // The answer to a send is lost after the server stored it: the event with the same
    // client key settles it, and nothing is sent twice.
    let lost = 0;
    await page.route("**/switchboard.v1.MessageService/SendMessage", async (route) => {
      await route.fetch();
      lost++;
      await route.abort("connectionreset");
    }, { times: 1 });
    await page.getByLabel("Message", { exact: true }).fill("answer lost");
    await page.keyboard.press("Enter");
    await bodies.filter({ hasText: "answer lost" }).waitFor();
    await page.getByRole("article", { name: "Not sent" }).waitFor({ state: "detached" });
    assert.equal(lost, 1, "the answer was dropped");

    const history = await bob.messages.getHistory({ conversationId: dm.id, limit: 50 });
    const texts = history.messages.flatMap((m) => (m.content.case === "text" ? [m.content.value.text] : []));
    assert.deepEqual(texts.filter((t) => t !== "hi" && !t.includes("created")).sort(), ["answer lost", "kept while offline"]);
    assert.equal((await bodies.allTextContents()).filter((t) => t.includes("answer lost")).length, 1);
    await context.close();
  });

  test("desktop notifications while the tab is hidden, not for a muted chat", async () => {
    const context = await it.browser.newContext({ permissions: ["notifications"] });
    // Hide the tab on demand, and record what is shown through the Notification API.
    await context.addInitScript(() => {
      const w = /** @type {any} */ (window);
      w.__hidden = false;
      w.__shown = [];
      Object.defineProperty(document, "hidden", { get: () => w.__hidden });
      const Real = window.Notification;
      class Recorded extends Real {
        /** @param {string} title @param {NotificationOptions} [options] */
        constructor(title, options) {
          super(title, options);
          w.__shown.push({ title, body: options?.body ?? "" });
        }
      }
      Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
      w.Notification = Recorded;
    });
    const page = await context.newPage();
    await page.goto(it.server.url);
    await register(page, "erin", "Erin");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();
    const { sb: frank } = await sdkUser(it.server, "frank", "Frank");
    const dm = await directWith(frank, "erin");
    await say(frank, dm.id, "seen in the tab");
    await page.getByRole("link", { name: /^Frank/ }).waitFor();
    await page.evaluate(() => {
      /** @type {any} */ (window).__hidden = true;
    });
    await say(frank, dm.id, "ping");
    await page.waitForFunction(() => /** @type {any} */ (window).__shown.length > 0);
    assert.deepEqual(await page.evaluate(() => /** @type {any} */ (window).__shown), [{ title: "Frank", body: "Frank: ping" }]);

    // Muted: nothing more is shown.
    await page.evaluate(() => {
      /** @type {any} */ (window).__hidden = false;
    });
    await page.getByRole("link", { name: /^Frank/ }).click();
    await page.getByRole("button", { name: "Mute" }).click();
    await page.getByRole("button", { name: "Unmute" }).waitFor();
    await page.evaluate(() => {
      /** @type {any} */ (window).__hidden = true;
    });
    await say(frank, dm.id, "quiet");
    await page.locator(".chat-main .messages li.msg .body").filter({ hasText: "quiet" }).waitFor();
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__shown.length), 1);
    await context.close();
  });
});
