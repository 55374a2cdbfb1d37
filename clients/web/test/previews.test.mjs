// Link previews in the browser: a local web site (allowlisted for the test server) serves
// a page with OpenGraph tags and an image; the card appears under the message on both
// sides, the image comes from the server (never from the site), and the composer's
// "No link preview" option sends a message without one.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, test } from "node:test";
import { directWith, gradientPng, register, say, screenshot, sdkUser, serverAndBrowser, skipReason } from "./harness.mjs";

const reason = skipReason();
if (reason) console.log(`# browser tests skipped: ${reason}`);

/** A web site on loopback; `hits` counts requests per path. */
async function site() {
  const png = await gradientPng(120, 80);
  /** @type {Map<string, number>} */
  const hits = new Map();
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === "/pic.png") {
      res.writeHead(200, { "Content-Type": "image/png" }).end(png);
    } else if (path.startsWith("/story")) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(
        `<!doctype html><html><head><meta property="og:site_name" content="Harbour Times">
         <meta property="og:title" content="Tall ship arrives"><meta property="og:description" content="Crowds gather at the quay.">
         <meta property="og:image" content="/pic.png"></head><body>story</body></html>`,
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(undefined)));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return { url: (/** @type {string} */ p) => `http://127.0.0.1:${port}${p}`, hits, close: () => server.close() };
}

describe("link previews in the web client", { skip: reason || false, timeout: 120_000 }, () => {
  // A debug build on a busy two-core machine can take seconds per fetch: a long deadline,
  // so that a slow first fetch is not remembered as a failing site.
  const it = serverAndBrowser({
    SWITCHBOARD_SERVICE__LINK_PREVIEWS__ALLOW_HOSTS: '["127.0.0.1"]',
    SWITCHBOARD_SERVICE__LINK_PREVIEWS__TIMEOUT_MS: "25000",
  });

  test("a link shows its card on both sides, and can be sent without one", async (t) => {
    const web = await site();
    t.after(() => web.close());
    const context = await it.browser.newContext();
    const page = await context.newPage();
    /** @type {string[]} */
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    /** @type {string[]} */
    const fromSite = [];
    page.on("request", (r) => r.url().startsWith(web.url("")) && fromSite.push(r.url()));
    await page.goto(it.server.url);
    await register(page, "gwen", "Gwen");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();

    const { sb: hal } = await sdkUser(it.server, "hal", "Hal");
    const dm = await directWith(hal, "gwen");
    await say(hal, dm.id, `have you seen ${web.url("/story")}`);
    await page.getByRole("link", { name: /^Hal/ }).click();
    const item = page.getByRole("article").filter({ hasText: "have you seen" });
    const card = item.getByRole("link", { name: "Link preview: Tall ship arrives" });
    await card.waitFor({ timeout: 60_000 });
    assert.match((await card.textContent()) ?? "", /Harbour Times.*Tall ship arrives.*Crowds gather at the quay\./s);
    assert.equal(await card.getAttribute("href"), web.url("/story"));
    assert.equal(await card.getAttribute("rel"), "noopener noreferrer nofollow");
    await card.locator("img").waitFor();
    assert.ok(await card.locator("img").evaluate((i) => /** @type {HTMLImageElement} */ (i).naturalWidth > 0), "the image shows");
    await screenshot(page, "link-preview");

    // Gwen sends a link: Hal's SDK sees the card arrive on the message.
    const composer = page.getByRole("textbox", { name: "Message" });
    await composer.fill(`mine too ${web.url("/story?2")}`);
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const mine = page.getByRole("article").filter({ hasText: "mine too" });
    await mine.getByRole("link", { name: "Link preview: Tall ship arrives" }).waitFor();
    const history = await hal.messages.getHistory({ conversationId: dm.id, limit: 5 });
    const sent = history.messages.find((m) => m.content.case === "text" && m.content.value.text.startsWith("mine too"));
    assert.equal(sent?.linkPreviews[0]?.title, "Tall ship arrives");

    // With "No link preview", the message goes without a card and nothing is fetched.
    await page.getByRole("button", { name: "Send options" }).click();
    await page.getByLabel("No link preview").check();
    await composer.fill(`quiet ${web.url("/story?3")}`);
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const quiet = page.getByRole("article").filter({ hasText: "quiet" });
    await quiet.waitFor();
    await composer.fill(`last ${web.url("/story?4")}`);
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.getByRole("article").filter({ hasText: "last" }).getByRole("link", { name: /^Link preview/ }).waitFor();
    assert.equal(await quiet.getByRole("link", { name: /^Link preview/ }).count(), 0);
    assert.equal(web.hits.get("/story?3") ?? 0, 0, "the opted-out link was never fetched");
    const again = await hal.messages.getHistory({ conversationId: dm.id, limit: 5 });
    assert.ok(again.messages.some((m) => m.noLinkPreview && m.content.case === "text" && m.content.value.text.startsWith("quiet")));

    assert.deepEqual(fromSite, [], "the browser never contacted the site");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
