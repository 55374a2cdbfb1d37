// The web client in Chromium against the real server binary: two people register, find
// each other and chat live (typing, receipts), make a group, a space with a channel and a
// thread, send an image and see its thumbnail; a third opens an invite link in a fresh
// context and joins. Screenshots of the main screens go to the output directory.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { gradientPng, output, register, screenshot, sdkUser, serverAndBrowser, skipReason } from "./harness.mjs";

const reason = skipReason();
if (reason) console.log(`# browser tests skipped: ${reason}`);

describe("the web client", { skip: reason || false, timeout: 300_000 }, () => {
  const it = serverAndBrowser();
  /** Console errors and page errors per page (a CSP violation is one). @type {string[]} */
  const problems = [];
  after(() => console.log(`# screenshots in ${output}`));

  /** A fresh context (its own storage) with one page on the app. */
  async function person(/** @type {{ width?: number, height?: number, dark?: boolean }} */ opts = {}) {
    const context = await it.browser.newContext({
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
      colorScheme: opts.dark ? "dark" : "light",
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(`console: ${m.text()}`));
    page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()} from ${r.request().method()} ${new URL(r.url()).pathname} ${JSON.stringify(r.request().postDataBuffer()?.toString("latin1") ?? "")} on ${page.url()}`));
    return { context, page };
  }

  /** Messages shown in the open chat (not the thread panel). */
  const messages = (/** @type {import("playwright-core").Page} */ page) => page.locator(".chat-main .messages li.msg .body");

  let inviteLink = "";

  /** Signs in through the sign-in screen. */
  async function signIn(/** @type {import("playwright-core").Page} */ page, /** @type {string} */ username) {
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  }

  test("two people chat in real time: direct chat, group, space, channel, thread, image", async () => {
    const a = await person();
    const b = await person();
    await a.page.goto(it.server.url);
    await a.page.getByRole("heading", { name: "Sign in to Switchboard" }).waitFor();
    await screenshot(a.page, "01-sign-in");
    await register(a.page, "alice", "Alice");
    await b.page.goto(it.server.url);
    await register(b.page, "bob", "Bob");
    await a.page.getByRole("button", { name: "New", exact: true }).waitFor();
    await b.page.getByRole("button", { name: "New", exact: true }).waitFor();

    // Alice finds Bob and opens a direct chat.
    await a.page.getByRole("button", { name: "New", exact: true }).click();
    await a.page.getByRole("dialog", { name: "New chat" }).getByLabel("Find people").fill("bob");
    await a.page.getByRole("option", { name: /@bob/ }).click();
    await a.page.waitForURL(/\/c\/\d+$/);
    const dm = new URL(a.page.url()).pathname;
    await a.page.getByLabel("Message", { exact: true }).fill("Hello **Bob**, see `code`");
    await a.page.keyboard.press("Enter");
    await messages(a.page).filter({ hasText: "Hello Bob" }).waitFor();
    assert.equal(await messages(a.page).locator("strong").first().textContent(), "Bob");

    // Bob sees the chat arrive with an unread badge, opens it, and Alice sees the receipt.
    const row = b.page.getByRole("link", { name: /^Alice/ });
    await row.getByLabel("1 unread").waitFor();
    await screenshot(b.page, "02-chat-list");
    await row.click();
    await messages(b.page).filter({ hasText: "Hello Bob" }).waitFor();
    await a.page.getByLabel("Seen by").filter({ hasText: "Bob" }).waitFor();
    // Presence: Bob is online in Alice's header, with a green dot.
    await a.page.locator(".chat-head .hint").filter({ hasText: "online" }).waitFor();
    await a.page.locator(".chat-head .dot.online").waitFor();

    // Typing shows on the other side; the reply arrives live.
    await b.page.getByLabel("Message", { exact: true }).pressSequentially("On my", { delay: 30 });
    await a.page.locator(".typing").filter({ hasText: "Bob is typing" }).waitFor();
    await b.page.getByLabel("Message", { exact: true }).pressSequentially(" way", { delay: 10 });
    await b.page.keyboard.press("Enter");
    await messages(a.page).filter({ hasText: "On my way" }).waitFor();
    await a.page.locator(".typing").filter({ hasText: /^$/ }).waitFor();

    // An image: uploaded with progress, then a thumbnail on both sides.
    await a.page.locator('.composer input[type="file"]').setInputFiles({ name: "gradient.png", mimeType: "image/png", buffer: await gradientPng() });
    for (const p of [a.page, b.page]) {
      const img = p.locator(".chat-main .attachments img");
      await img.waitFor({ timeout: 30_000 });
      await p.waitForFunction(() => {
        const i = document.querySelector(".chat-main .attachments img");
        return i instanceof HTMLImageElement && i.complete && i.naturalWidth > 0 && i.src.startsWith("blob:");
      });
    }
    await screenshot(a.page, "03-direct-chat");
    // The viewer opens on click and closes with Escape.
    await b.page.locator(".chat-main .attachments .image").first().click();
    await b.page.locator(".viewer img").waitFor();
    await b.page.keyboard.press("Escape");
    await b.page.locator(".viewer").waitFor({ state: "detached" });

    // A group with both of them.
    await a.page.getByRole("button", { name: "New", exact: true }).click();
    const dialog = a.page.getByRole("dialog", { name: "New chat" });
    await dialog.getByRole("tab", { name: "Group" }).click();
    await dialog.getByLabel("Title").fill("Weekend plans");
    await dialog.getByLabel("Add members").fill("bob");
    await dialog.getByRole("option", { name: /@bob/ }).click();
    await dialog.getByRole("button", { name: "Create group" }).click();
    await a.page.waitForURL((u) => u.pathname !== dm && /\/c\/\d+$/.test(u.pathname));
    await a.page.getByLabel("Message", { exact: true }).fill("Who brings the tent?");
    await a.page.keyboard.press("Enter");
    await messages(a.page).filter({ hasText: "Who brings the tent?" }).waitFor();
    await b.page.getByRole("link", { name: /Weekend plans/ }).click();
    await messages(b.page).filter({ hasText: "Who brings the tent?" }).waitFor();
    await screenshot(b.page, "04-group");
    // The keyboard: Ctrl+K finds a chat, Alt+↓ moves to the next one.
    await b.page.keyboard.press("Control+k");
    await b.page.keyboard.type("week");
    const listed = b.page.getByRole("list", { name: "Chats" }).getByRole("link");
    await b.page.waitForFunction(() => document.querySelectorAll('[aria-label="Chats"] a.row').length === 1);
    assert.match((await listed.first().textContent()) ?? "", /Weekend plans/);
    await b.page.getByLabel("Filter chats").fill("");
    await b.page.getByLabel("Filter chats").blur();
    await b.page.keyboard.press("Alt+ArrowDown");
    await b.page.waitForURL((u) => u.pathname === dm);

    // A space: its general channel, a new channel and a thread in it.
    await a.page.getByRole("button", { name: "New space" }).click();
    await a.page.getByRole("dialog", { name: "New space" }).getByLabel("Name").fill("Acme");
    await a.page.getByRole("button", { name: "Create space" }).click();
    await a.page.getByRole("heading", { name: "Acme" }).waitFor();
    await a.page.getByRole("button", { name: "New channel" }).click();
    await a.page.getByRole("dialog", { name: "New channel" }).getByLabel("Name").fill("design");
    await a.page.getByRole("button", { name: "Create channel" }).click();
    await a.page.getByRole("link", { name: /design/ }).waitFor();
    await a.page.locator(".chat-head h1").filter({ hasText: "design" }).waitFor();
    await a.page.getByLabel("Message", { exact: true }).fill("New logo, thoughts?");
    await a.page.keyboard.press("Enter");
    const root = a.page.locator(".chat-main .messages li.msg").filter({ hasText: "New logo, thoughts?" });
    await root.waitFor();
    await root.hover();
    await root.getByRole("button", { name: "Reply in thread" }).click();
    const thread = a.page.getByRole("complementary", { name: "Thread" });
    await thread.waitFor();
    await thread.getByLabel("Message", { exact: true }).fill("I like the blue one");
    await thread.getByLabel("Message", { exact: true }).press("Enter");
    await thread.locator("li.msg .body").filter({ hasText: "I like the blue one" }).waitFor();
    await root.getByRole("button", { name: /1 reply/ }).waitFor();
    await screenshot(a.page, "05-space-thread");

    // An invite link for the space, for the next test.
    await a.page.locator(".space-head").getByRole("button", { name: "Invite" }).click();
    const invite = a.page.getByRole("dialog", { name: "Invite people" });
    await invite.getByRole("button", { name: "Create link" }).click();
    inviteLink = await invite.getByLabel("Invite link").inputValue();
    assert.match(inviteLink, /\/invite\/[\w-]+$/);
    await invite.getByRole("button", { name: "Close" }).click();

    // The admin screens: members with roles, roles, channel permissions.
    await a.page.getByRole("button", { name: "Manage" }).click();
    await a.page.getByRole("table", { name: "Members" }).waitFor();
    await a.page.getByRole("tab", { name: "Roles" }).click();
    await a.page.getByLabel("New role name").fill("Designers");
    await a.page.getByRole("button", { name: "Create role" }).click();
    await a.page.locator("[data-role]").filter({ hasText: "Designers" }).or(a.page.locator(".admin .error")).first().waitFor();
    assert.equal(await a.page.locator(".admin .error").count(), 0, await a.page.locator(".admin").innerText());
    await a.page.locator("[data-role]").filter({ hasText: "Designers" }).waitFor();
    await a.page.getByRole("tab", { name: "Members" }).click();
    await a.page.getByLabel("Give Alice a role").selectOption({ label: "Designers" });
    await a.page.getByRole("table", { name: "Members" }).locator(".tag.role").filter({ hasText: "Designers" }).waitFor();
    await screenshot(a.page, "06-space-admin");

    // Settings: the sessions list, and the dark theme at phone width.
    await a.page.getByRole("button", { name: "Settings" }).click();
    await a.page.locator(".sessions li").first().waitFor();
    await screenshot(a.page, "07-settings");
    // Themes: the system's scheme by default, the user's choice when made.
    const background = (/** @type {import("playwright-core").Page} */ p) => p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await background(a.page), "rgb(255, 255, 255)");
    await a.page.getByLabel("Theme").selectOption("dark");
    assert.equal(await background(a.page), "rgb(15, 17, 21)");
    await a.page.getByLabel("Theme").selectOption("");
    assert.equal(await background(a.page), "rgb(255, 255, 255)");
    const phone = await person({ width: 390, height: 800, dark: true });
    await phone.page.goto(it.server.url);
    await phone.page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    await signIn(phone.page, "bob");
    await phone.page.getByRole("link", { name: /^Alice/ }).click();
    await messages(phone.page).filter({ hasText: "On my way" }).waitFor();
    await phone.page.getByRole("button", { name: "Back to chats" }).waitFor();
    await screenshot(phone.page, "08-phone-dark");
    assert.equal(await background(phone.page), "rgb(15, 17, 21)", "dark when the system is");

    // Bob's desktop lists both sessions and ends the other one: the phone is signed out.
    await b.page.getByRole("button", { name: "Settings" }).click();
    const sessions = b.page.locator(".sessions li");
    await b.page.waitForFunction(() => document.querySelectorAll(".sessions li").length === 2);
    assert.equal(await sessions.filter({ hasText: "this device" }).count(), 1);
    await b.page.getByRole("button", { name: "End all other sessions" }).click();
    await b.page.waitForFunction(() => document.querySelectorAll(".sessions li").length === 1);
    await phone.page.getByRole("heading", { name: "Sign in to Switchboard" }).waitFor({ timeout: 15_000 });

    assert.deepEqual(problems, [], "no page errors or console errors (a CSP violation is one)");
    await a.context.close();
    await b.context.close();
    await phone.context.close();
  });

  test("an invite link opened in a fresh context joins the space", async () => {
    assert.ok(inviteLink, "the first test made a link");
    const c = await person();
    await c.page.goto(inviteLink);
    await register(c.page, "carol", "Carol");
    const card = c.page.getByRole("region", { name: "Invite" });
    await card.getByRole("heading", { name: "Acme" }).waitFor();
    await screenshot(c.page, "09-invite");
    await card.getByRole("button", { name: "Join" }).click();
    await c.page.waitForURL(/\/c\/\d+$/);
    await c.page.getByRole("tab", { name: "Acme" }).waitFor();
    await c.page.getByRole("heading", { name: "Acme" }).waitFor();
    await c.page.locator(".chat-head h1").filter({ hasText: "general" }).waitFor();
    assert.deepEqual(problems, []);
    await c.context.close();
  });

  test("space administration: settings, channel permissions, invites, join requests, bans", async () => {
    const a = await person();
    await a.page.goto(it.server.url);
    await signIn(a.page, "alice");
    await a.page.getByRole("tab", { name: "Acme" }).click();
    await a.page.getByRole("button", { name: "Manage" }).click();
    const admin = a.page.getByRole("region", { name: "Acme: administration" });

    // Joining now needs approval.
    await admin.getByRole("tab", { name: "Settings" }).click();
    await admin.getByLabel("Joining needs approval").check();
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.getByRole("status").filter({ hasText: "Saved" }).waitFor();

    // Nobody but managers may post in #design: a deny overwrite for everyone, kept.
    await admin.getByRole("tab", { name: "Channel permissions" }).click();
    await admin.getByLabel("Channel", { exact: true }).selectOption({ label: "#design" });
    await admin.getByLabel("Send messages: deny").check();
    await a.page.waitForFunction(() => document.querySelector("[aria-label='Send messages: deny']") instanceof HTMLInputElement);
    await a.page.reload();
    await admin.getByRole("tab", { name: "Channel permissions" }).click();
    await admin.getByLabel("Channel", { exact: true }).selectOption({ label: "#design" });
    assert.equal(await admin.getByLabel("Send messages: deny").isChecked(), true, "the overwrite is the server's");
    assert.equal(await admin.getByLabel("Send messages: inherit").isChecked(), false);
    await screenshot(a.page, "11-channel-permissions");

    // The first test's invite is listed; revoking it makes it unusable.
    const code = inviteLink.split("/").pop() ?? "";
    await admin.getByRole("tab", { name: "Invites" }).click();
    const row = admin.getByRole("row").filter({ hasText: code });
    await row.waitFor();
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.waitFor({ state: "detached" });
    const { sb: dave } = await sdkUser(it.server, "dave", "Dave");
    await assert.rejects(dave.invites.previewInvite({ code }), "a revoked invite no longer opens");

    // A new link; Dave asks to join through it, Alice lets him in.
    await admin.getByRole("button", { name: /New invite link/ }).click();
    const fresh = admin.locator("code.invite-link").first();
    await fresh.waitFor();
    const newCode = ((await fresh.textContent()) ?? "").split("/").pop() ?? "";
    const asked = await dave.invites.joinByInvite({ code: newCode, message: "I design things" });
    assert.equal(asked.pending, true, "approval is needed now");
    await admin.getByRole("tab", { name: "Join requests" }).click();
    const request = admin.getByRole("listitem").filter({ hasText: "Dave" });
    await request.filter({ hasText: "I design things" }).waitFor();
    await request.getByRole("button", { name: "Accept" }).click();
    await admin.getByText("No requests are waiting.").waitFor();
    const daves = await dave.spaces.listMySpaces({});
    assert.deepEqual(daves.spaces.map((x) => x.name), ["Acme"]);

    // Ban Carol (with a reason), see her on the list, let her back.
    await admin.getByRole("tab", { name: "Members" }).click();
    a.page.once("dialog", (d) => d.accept("spam"));
    await admin.getByRole("row").filter({ hasText: "Carol" }).getByRole("button", { name: "Ban" }).click();
    await admin.getByRole("row").filter({ hasText: "Carol" }).waitFor({ state: "detached" });
    await admin.getByRole("tab", { name: "Bans" }).click();
    const ban = admin.getByRole("listitem").filter({ hasText: "Carol" });
    await ban.filter({ hasText: "spam" }).waitFor();
    await screenshot(a.page, "12-bans");
    await ban.getByRole("button", { name: "Unban" }).click();
    await admin.getByText("Nobody is banned.").waitFor();
    assert.deepEqual(problems, []);
    await a.context.close();
  });
});
