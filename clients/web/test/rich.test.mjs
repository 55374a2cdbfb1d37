// Rich messaging in the browser, each part against an SDK user: reactions both ways (live,
// and "mine" after a reload); the pinned bar and list; search with marked words; important,
// silent and online-only messages; saved messages and notes to self; a scheduled message.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createSwitchboard } from "@switchboard/sdk";
import { directWith, register, say, screenshot, sdkUser, serverAndBrowser, skipReason } from "./harness.mjs";

const reason = skipReason();
if (reason) console.log(`# browser tests skipped: ${reason}`);

/**
 * A fresh context with one page on the app, and what went wrong on it: page errors,
 * console errors and answers of 400 or more.
 * @param {import("playwright-core").Browser} browser @param {string} url
 */
async function watched(browser, url) {
  /** @type {string[]} */
  const problems = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(`console: ${m.text()}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()} from ${new URL(r.url()).pathname}`));
  await page.goto(url);
  return { context, page, problems };
}

describe("rich messaging in the web client", { skip: reason || false, timeout: 240_000 }, () => {
  const it = serverAndBrowser();

  test("react, see others' reactions live, pin and unpin", async () => {
    const { context, page, problems } = await watched(it.browser, it.server.url);
    await register(page, "alice", "Alice");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();

    const { sb: bob, user: bobUser } = await sdkUser(it.server, "bob", "Bob");
    const dm = await directWith(bob, "alice");
    const hello = (await say(bob, dm.id, "lunch at noon?")).message;
    const second = (await say(bob, dm.id, "the usual place")).message;
    assert.ok(hello && second);
    await page.getByRole("link", { name: /^Bob/ }).click();
    const item = page.getByRole("article").filter({ hasText: "lunch at noon?" });
    await item.waitFor();

    // Alice reacts from the picker; Bob's SDK sees her reaction.
    await item.hover();
    await item.getByRole("button", { name: "React", exact: true }).click();
    await item.getByRole("menuitem", { name: "React with 👍" }).click();
    const thumbs = item.getByRole("button", { name: "👍 1" });
    await thumbs.waitFor();
    assert.equal(await thumbs.getAttribute("aria-pressed"), "true");
    const seen = (await bob.messages.getMessages({ conversationId: dm.id, messageIds: [hello.id] })).messages[0];
    assert.deepEqual(seen.reactions.map((r) => [r.emoji, r.count, r.mine]), [["👍", 1, false]]);

    // Bob reacts with the same emoji and another: live on Alice's page, hers still marked.
    await bob.messages.addReaction({ conversationId: dm.id, messageId: hello.id, emoji: "👍" });
    await bob.messages.addReaction({ conversationId: dm.id, messageId: hello.id, emoji: "🎉" });
    const two = item.getByRole("button", { name: "👍 2" });
    await two.waitFor();
    assert.equal(await two.getAttribute("aria-pressed"), "true");
    const party = item.getByRole("button", { name: "🎉 1" });
    await party.waitFor();
    assert.equal(await party.getAttribute("aria-pressed"), "false");

    // Clicking a chip of Bob's adds Alice; clicking hers takes it back.
    await party.click();
    await item.getByRole("button", { name: "🎉 2" }).waitFor();
    await item.getByRole("button", { name: "👍 2" }).click();
    await item.getByRole("button", { name: "👍 1" }).waitFor();
    assert.equal(await item.getByRole("button", { name: "👍 1" }).getAttribute("aria-pressed"), "false");

    // A reload shows the same counts, with Alice's own marked.
    await page.reload();
    await item.waitFor();
    assert.equal(await item.getByRole("button", { name: "🎉 2" }).getAttribute("aria-pressed"), "true");
    assert.equal(await item.getByRole("button", { name: "👍 1" }).getAttribute("aria-pressed"), "false");

    // Bob pins a message: the service line and the pinned bar appear on Alice's page.
    await bob.messages.pinMessage({ conversationId: dm.id, messageId: hello.id });
    await page.locator(".service", { hasText: "Bob pinned a message" }).waitFor();
    const bar = page.getByRole("button", { name: "Pinned messages" });
    await bar.filter({ hasText: "lunch at noon?" }).waitFor();

    // Alice pins the second one from the message's actions: the bar follows the latest.
    const other = page.getByRole("article").filter({ hasText: "the usual place" });
    await other.hover();
    await other.getByRole("button", { name: "Pin", exact: true }).click();
    await bar.filter({ hasText: "the usual place" }).waitFor();
    const pins = (await bob.messages.listPinnedMessages({ conversationId: dm.id })).pins;
    assert.deepEqual(pins.map((p) => p.message?.id), [second.id, hello.id]);
    await screenshot(page, "reactions-and-pins");

    // The list shows both; unpinning the latest brings the earlier one back to the bar.
    await bar.click();
    const list = page.getByRole("list", { name: "All pinned messages" });
    await list.getByRole("listitem").nth(1).waitFor();
    await list.getByRole("listitem").filter({ hasText: "the usual place" }).getByRole("button", { name: "Unpin" }).click();
    await bar.filter({ hasText: "lunch at noon?" }).waitFor();
    const left = (await bob.messages.listPinnedMessages({ conversationId: dm.id })).pins;
    assert.deepEqual(left.map((p) => [p.message?.id, p.pinnedBy]), [[hello.id, bobUser.id]]);

    assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
    await context.close();
  });

  test("search finds what I can see, with the words marked, and opens the chat", async () => {
    const { context, page, problems } = await watched(it.browser, it.server.url);
    await register(page, "dora", "Dora");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();

    const { sb: emil } = await sdkUser(it.server, "emil", "Emil");
    const { sb: finn } = await sdkUser(it.server, "finn", "Finn");
    const dm = await directWith(emil, "dora");
    await say(emil, dm.id, "Réunion at the café on Friday");
    await say(emil, dm.id, "unrelated chatter");
    const other = await directWith(emil, "finn");
    await say(finn, other.id, "a reunion Dora must not see");
    await page.getByRole("link", { name: /^Emil/ }).waitFor();

    // Everywhere: accents and case do not matter; only what Dora can see is found.
    await page.getByRole("button", { name: "Search messages" }).click();
    const dialog = page.getByRole("dialog", { name: "Search messages" });
    await dialog.getByLabel("Search messages").fill("REUNION");
    const results = dialog.getByRole("list", { name: "Results" });
    await results.getByRole("listitem").first().waitFor();
    assert.equal(await results.getByRole("listitem").count(), 1);
    assert.equal(await results.locator("mark").first().textContent(), "Réunion");
    await screenshot(page, "search");
    await results.getByRole("button").first().click();
    await dialog.waitFor({ state: "detached" });
    await page.getByRole("article").filter({ hasText: "Réunion at the café" }).waitFor();
    assert.match(page.url(), new RegExp(`/c/${dm.id}$`));

    // In this chat, by prefix; nothing for a word that is not there.
    await page.getByRole("button", { name: "Search", exact: true }).click();
    const here = page.getByRole("dialog", { name: "Search messages" });
    await here.getByLabel("Search messages").fill("caf");
    await here.getByRole("list", { name: "Results" }).locator("mark", { hasText: "café" }).waitFor();
    await here.getByLabel("Search messages").fill("zebra");
    await here.getByText("Nothing found.").waitFor();
    await page.keyboard.press("Escape");

    assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
    await context.close();
  });

  test("important, silent and online-only messages", async () => {
    const { context, page, problems } = await watched(it.browser, it.server.url);
    await register(page, "hana", "Hana");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();
    const { sb: ivan } = await sdkUser(it.server, "ivan", "Ivan");
    const dm = await directWith(ivan, "hana");
    const send = (/** @type {string} */ text, /** @type {Record<string, boolean>} */ flags) =>
      ivan.messages.sendMessage({ conversationId: dm.id, clientKey: crypto.randomUUID(), text: { text }, ...flags });
    await send("the deploy is at five", { important: true });
    await send("no rush on this one", { silent: true });

    // Counted on the chat list before it is opened; marked in the chat.
    const row = page.getByRole("link", { name: /^Ivan/ });
    await row.locator(`[aria-label="1 important"]`).waitFor();
    await row.click();
    await page.getByRole("article").filter({ hasText: "the deploy is at five" }).getByText("❗ Important").waitFor();
    await page.getByRole("article").filter({ hasText: "no rush on this one" }).getByTitle("Sent silently").waitFor();
    await row.locator(`[aria-label="1 important"]`).waitFor({ state: "detached" });

    // An online-only message from Ivan shows while the page is open, and not after a reload.
    await send("quick, are you here?", { onlineOnly: true });
    const live = page.getByRole("article", { name: "Ivan, online only" });
    await live.filter({ hasText: "quick, are you here?" }).waitFor();
    await page.reload();
    await page.getByRole("article").filter({ hasText: "the deploy is at five" }).waitFor();
    assert.equal(await page.getByRole("article", { name: "Ivan, online only" }).count(), 0);

    // Hana marks hers important from the send options; Ivan's history says so.
    await page.getByRole("button", { name: "Send options" }).click();
    await page.getByLabel("Important").check();
    await page.getByLabel("Message", { exact: true }).fill("noted, I will be there");
    await page.keyboard.press("Enter");
    await page.getByRole("article").filter({ hasText: "noted, I will be there" }).getByText("❗ Important").waitFor();
    const h = await ivan.messages.getHistory({ conversationId: dm.id, limit: 10 });
    const mine = h.messages.find((m) => m.content.case === "text" && m.content.value.text === "noted, I will be there");
    assert.equal(mine?.important, true);
    await screenshot(page, "flags");

    assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
    await context.close();
  });

  test("saved messages and notes to self", async () => {
    const { context, page, problems } = await watched(it.browser, it.server.url);
    await register(page, "jana", "Jana");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();
    const { sb: karl } = await sdkUser(it.server, "karl", "Karl");
    const dm = await directWith(karl, "jana");
    await say(karl, dm.id, "the door code is 4711");
    await page.getByRole("link", { name: /^Karl/ }).click();
    const item = page.getByRole("article").filter({ hasText: "the door code is 4711" });
    await item.hover();
    await item.getByRole("button", { name: "Save", exact: true }).click();
    await item.getByRole("button", { name: "Remove from saved" }).waitFor();

    // Jana's other device (the SDK, signed in as her) has it.
    const phone = createSwitchboard({ baseUrl: it.server.url });
    const login = await phone.auth.login({ username: "jana", password: "correct horse battery staple" });
    phone.signIn(login.tokens);
    const list = await phone.messages.listSavedMessages({});
    assert.deepEqual(list.saved.map((s) => s.message?.content.case === "text" && s.message.content.value.text), ["the door code is 4711"]);

    // The list in the app; taking it off from there.
    await page.getByRole("button", { name: "Saved messages" }).click();
    const dialog = page.getByRole("dialog", { name: "Saved messages" });
    await dialog.getByText("the door code is 4711").waitFor();
    await dialog.getByRole("button", { name: "Remove from saved" }).click();
    await dialog.getByText("Nothing saved yet.").waitFor();
    await page.keyboard.press("Escape");
    assert.equal((await phone.messages.listSavedMessages({})).saved.length, 0);

    // Notes to self: a chat with oneself.
    await page.getByRole("button", { name: "Notes to self" }).click();
    await page.getByRole("heading", { name: "Notes to self" }).waitFor();
    await page.getByLabel("Message", { exact: true }).fill("buy milk");
    await page.keyboard.press("Enter");
    await page.getByRole("article").filter({ hasText: "buy milk" }).waitFor();
    await page.getByRole("link", { name: /^Notes to self/ }).waitFor();

    assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
    await context.close();
  });

  test("a message scheduled for tomorrow, then sent now", async () => {
    const { context, page, problems } = await watched(it.browser, it.server.url);
    await register(page, "lena", "Lena");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();
    const { sb: max } = await sdkUser(it.server, "maxi", "Maxi");
    const dm = await directWith(max, "lena");
    await say(max, dm.id, "ping me tomorrow");
    await page.getByRole("link", { name: /^Maxi/ }).click();
    await page.getByRole("article").filter({ hasText: "ping me tomorrow" }).waitFor();

    await page.getByRole("button", { name: "Send options" }).click();
    await page.getByRole("button", { name: "Tomorrow 9:00" }).click();
    await page.getByLabel("Message", { exact: true }).fill("good morning!");
    await page.keyboard.press("Enter");
    const bar = page.getByRole("button", { name: "🕓 1 scheduled" });
    await bar.waitFor();
    assert.equal(await page.getByRole("article").filter({ hasText: "good morning!" }).count(), 0, "not sent yet");
    const waiting = (await max.messages.getHistory({ conversationId: dm.id })).messages;
    assert.ok(!waiting.some((m) => m.content.case === "text" && m.content.value.text === "good morning!"));

    await bar.click();
    await page.getByRole("list", { name: "Scheduled messages" }).getByRole("button", { name: "Send now" }).click();
    await page.getByRole("article").filter({ hasText: "good morning!" }).waitFor();
    await bar.waitFor({ state: "detached" });
    const sent = (await max.messages.getHistory({ conversationId: dm.id })).messages;
    assert.equal(sent.filter((m) => m.content.case === "text" && m.content.value.text === "good morning!").length, 1);

    assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
    await context.close();
  });
});
