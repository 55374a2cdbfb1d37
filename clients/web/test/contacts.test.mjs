// Contacts in the browser: add someone by username, give them my own name (shown in the
// chat list and the chat), see the mutual mark appear live when they add me back, open a
// direct chat from the list, and remove them; my other device sees the same list. Friend
// requests arrive live, are accepted or sent, and a declined one goes away. Blocking
// someone folds their messages away and refuses their direct messages until unblocked.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createSwitchboard } from "@switchboard/sdk";
import { ConversationKind } from "@switchboard/sdk/gen/conversations_pb.js";
import { register, screenshot, sdkUser, serverAndBrowser, skipReason } from "./harness.mjs";

const reason = skipReason();
if (reason) console.log(`# browser tests skipped: ${reason}`);

describe("contacts in the web client", { skip: reason || false, timeout: 120_000 }, () => {
  const it = serverAndBrowser();

  test("add, rename, mutual live, message and remove a contact", async () => {
    const { sb: yan, user: yanUser } = await sdkUser(it.server, "yan", "Yan");
    const context = await it.browser.newContext();
    const page = await context.newPage();
    /** @type {string[]} */
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(it.server.url);
    await register(page, "zoe", "Zoe");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();

    await page.getByRole("button", { name: "Contacts", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Contacts" });
    await dialog.getByText("No contacts yet.").waitFor();
    await dialog.getByLabel("Username to add").fill("nobody_here");
    await dialog.getByRole("button", { name: "Add contact" }).click();
    await dialog.getByRole("alert").filter({ hasText: "Nobody is called nobody_here." }).waitFor();
    await dialog.getByLabel("Username to add").fill("yan");
    await dialog.getByRole("button", { name: "Add contact" }).click();
    const row = dialog.getByRole("listitem", { name: "Yan" });
    await row.waitFor();
    assert.equal(await row.getByText("mutual").count(), 0);

    // My own name for him.
    await row.getByRole("button", { name: "Edit" }).click();
    const form = dialog.getByRole("listitem", { name: "Edit Yan" });
    await form.getByLabel("Name for them").fill("Yannick");
    await form.getByLabel("Notes").fill("plays the cello");
    await form.getByRole("button", { name: "Save" }).click();
    const renamed = dialog.getByRole("listitem", { name: "Yannick" });
    await renamed.getByText("plays the cello").waitFor();

    // Yan adds Zoe back: the mutual mark arrives live.
    const zoeId = (await yan.users.searchUsers({ query: "zoe", limit: 5 })).users.find((u) => u.username === "zoe")?.id ?? "";
    await yan.contacts.addContact({ userId: zoeId });
    await renamed.getByText("mutual").waitFor();
    await screenshot(page, "contacts");

    // Zoe's other device has the same list.
    const laptop = createSwitchboard({ baseUrl: it.server.url });
    const login = await laptop.auth.login({ username: "zoe", password: "correct horse battery staple" });
    if (login.tokens) laptop.signIn(login.tokens);
    const mine = await laptop.contacts.listContacts({});
    assert.deepEqual(mine.contacts.map((c) => [c.userId, c.remark, c.notes, c.mutual]), [[yanUser.id, "Yannick", "plays the cello", true]]);

    // A direct chat from the list, titled with my name for him.
    await renamed.getByRole("button", { name: "Message" }).click();
    await page.locator(".chat-head h1").filter({ hasText: "Yannick" }).waitFor();
    await page.getByRole("link", { name: /^Yannick/ }).waitFor();

    // Removing him: gone from the list, and from the other device's.
    await page.getByRole("button", { name: "Contacts", exact: true }).click();
    await dialog.getByRole("listitem", { name: "Yannick" }).getByRole("button", { name: "Remove" }).click();
    await dialog.getByText("No contacts yet.").waitFor();
    assert.equal((await laptop.contacts.listContacts({})).contacts.length, 0);
    const his = await yan.contacts.listContacts({});
    assert.equal(his.contacts[0]?.mutual, false, "no longer mutual on his side");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("friend requests arrive live, are accepted, sent and declined", async () => {
    const { sb: wes } = await sdkUser(it.server, "wes", "Wes");
    const { sb: vic } = await sdkUser(it.server, "vic", "Vic");
    const context = await it.browser.newContext();
    const page = await context.newPage();
    /** @type {string[]} */
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(it.server.url);
    await register(page, "xena", "Xena");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();
    const xenaId = (await wes.users.searchUsers({ query: "xena", limit: 5 })).users.find((u) => u.username === "xena")?.id ?? "";

    // Wes asks: the count shows on the Contacts link at once.
    await wes.contacts.sendFriendRequest({ userId: xenaId, message: "from the climbing gym" });
    await page.getByRole("button", { name: /^Contacts 1 friend requests/ }).click();
    const dialog = page.getByRole("dialog", { name: "Contacts" });
    const request = dialog.getByRole("listitem", { name: "Request from Wes" });
    await request.getByText("from the climbing gym").waitFor();
    await screenshot(page, "friend-request");
    await request.getByRole("button", { name: "Accept" }).click();
    await dialog.getByRole("listitem", { name: "Wes" }).getByText("mutual").waitFor();
    assert.equal((await wes.contacts.listContacts({})).contacts[0]?.mutual, true, "both are contacts");

    // Xena asks Vic; Vic declines: the waiting request goes away on its own.
    await dialog.getByLabel("Username to add").fill("vic");
    await dialog.getByRole("button", { name: "Ask to be friends" }).click();
    const waiting = dialog.getByRole("listitem", { name: "Request to Vic" });
    await waiting.waitFor();
    const asked = await vic.contacts.listFriendRequests({ incoming: true });
    assert.equal(asked.requests[0]?.fromUserId, xenaId);
    await vic.contacts.answerFriendRequest({ userId: xenaId, accept: false });
    await waiting.waitFor({ state: "detached" });
    assert.equal(await dialog.getByRole("listitem", { name: "Vic" }).count(), 0, "declined: no contact");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("blocking someone hides their messages, refuses their direct messages, and can be undone", async () => {
    const { sb: uma } = await sdkUser(it.server, "uma", "Uma");
    const { sb: tom } = await sdkUser(it.server, "tom", "Tom");
    const context = await it.browser.newContext();
    const page = await context.newPage();
    /** @type {string[]} */
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(it.server.url);
    await register(page, "sam", "Sam");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();
    const find = async (/** @type {string} */ name) => (await uma.users.searchUsers({ query: name, limit: 5 })).users.find((u) => u.username === name)?.id ?? "";
    const [samId, tomId] = [await find("sam"), await find("tom")];
    const group = (await uma.conversations.createConversation({ kind: ConversationKind.GROUP, title: "Book club", memberIds: [samId, tomId] })).conversation?.conversation;
    assert.ok(group);
    await tom.messages.sendMessage({ conversationId: group.id, clientKey: crypto.randomUUID(), text: { text: "spoilers ahead" } });
    await uma.messages.sendMessage({ conversationId: group.id, clientKey: crypto.randomUUID(), text: { text: "chapter 3 tonight" } });

    // Sam adds Tom and blocks him from the Contacts dialog.
    await page.getByRole("button", { name: /^Contacts/ }).click();
    const dialog = page.getByRole("dialog", { name: "Contacts" });
    await dialog.getByLabel("Username to add").fill("tom");
    await dialog.getByRole("button", { name: "Add contact" }).click();
    await dialog.getByRole("listitem", { name: "Tom" }).getByRole("button", { name: "Block" }).click();
    await dialog.getByRole("listitem", { name: "Blocked Tom" }).waitFor();
    await page.keyboard.press("Escape");

    // In the shared group his message is folded away; Uma's shows.
    await page.getByRole("link", { name: /^Book club/ }).click();
    await page.getByRole("article").filter({ hasText: "chapter 3 tonight" }).waitFor();
    const folded = page.getByRole("article", { name: "A message from someone you blocked" });
    await folded.waitFor();
    assert.equal(await page.getByText("spoilers ahead").count(), 0);
    await screenshot(page, "blocked-message");
    await folded.getByRole("button", { name: "Show" }).click();
    await page.getByText("spoilers ahead").waitFor();

    // Tom cannot open a direct chat with Sam; the refusal does not say why.
    await assert.rejects(tom.conversations.createDirect({ userId: samId }), (/** @type {any} */ e) => /does not accept/.test(String(e.message)));

    // Unblocking from the list lets him write again.
    await page.getByRole("button", { name: /^Contacts/ }).click();
    await dialog.getByRole("listitem", { name: "Blocked Tom" }).getByRole("button", { name: "Unblock" }).click();
    await dialog.getByRole("listitem", { name: "Blocked Tom" }).waitFor({ state: "detached" });
    await tom.conversations.createDirect({ userId: samId });
    assert.deepEqual(problems, []);
    await context.close();
  });
});
