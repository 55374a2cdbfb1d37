// Stickers and custom emoji in the browser: a space's manager (through the SDK) adds a
// custom emoji and a sticker pack; in the web client the emoji shows as its image in a
// message, a member reacts with it from the picker and sends a sticker from the
// composer's sticker panel, and the manager's SDK sees both. And a manager adds and
// removes emoji and stickers on the space's administration screen.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { uploadFile } from "@switchboard/sdk";
import { EntityKind } from "@switchboard/sdk/gen/messages_pb.js";
import { gradientPng, screenshot, sdkUser, serverAndBrowser, skipReason } from "./harness.mjs";

const reason = skipReason();
if (reason) console.log(`# browser tests skipped: ${reason}`);

/** Uploads a public PNG from an SDK user; its file id. */
async function publicImage(/** @type {import("@switchboard/sdk").Switchboard} */ sb, /** @type {string} */ name, width = 64) {
  const png = await gradientPng(width, width);
  return uploadFile(sb, { blob: new Blob([png], { type: "image/png" }), name, isPublic: true });
}

describe("stickers and custom emoji in the web client", { skip: reason || false, timeout: 120_000 }, () => {
  const it = serverAndBrowser();

  test("a custom emoji shows in text and reactions, and a sticker goes out from the panel", async () => {
    const { sb: mia } = await sdkUser(it.server, "mia", "Mia");
    const { sb: leo } = await sdkUser(it.server, "leo", "Leo");
    const space = (await mia.spaces.createSpace({ name: "Knitters" })).space;
    assert.ok(space);
    const code = (await mia.invites.createInvite({ conversationId: space.id })).invite?.code ?? "";
    await leo.invites.joinByInvite({ code });
    const general = space.defaultChannelId;

    const emoji = (await mia.expressions.addCustomEmoji({ spaceId: space.id, name: "yarn", fileId: await publicImage(mia, "yarn.png", 48) })).emoji;
    assert.ok(emoji);
    const pack = (await mia.expressions.createStickerPack({ spaceId: space.id, name: "Woolly" })).pack;
    assert.ok(pack);
    await mia.expressions.addSticker({ packId: pack.id, fileId: await publicImage(mia, "sheep.png", 128), emoji: "🐑" });
    const text = "new ball :yarn: arrived";
    await mia.messages.sendMessage({
      conversationId: general,
      clientKey: crypto.randomUUID(),
      text: { text, entities: [{ kind: EntityKind.CUSTOM_EMOJI, offset: 9, length: 6, customEmojiId: emoji.id }] },
    });

    const context = await it.browser.newContext();
    const page = await context.newPage();
    /** @type {string[]} */
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(it.server.url);
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    await page.getByLabel("Username").fill("leo");
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("tab", { name: "Knitters" }).click();
    await page.locator(".chat-head h1").filter({ hasText: "general" }).waitFor();

    // The emoji is an image in the text, named by its :name:.
    const item = page.getByRole("article").filter({ hasText: "new ball" });
    const img = item.locator(".body img.custom-emoji");
    await img.waitFor();
    assert.equal(await img.getAttribute("alt"), ":yarn:");
    assert.ok(await img.evaluate((i) => /** @type {HTMLImageElement} */ (i).naturalWidth > 0), "the image loads");

    // React with it from the picker: a chip with the image, counted, and Mia's SDK sees it.
    await item.hover();
    await item.getByRole("button", { name: "React", exact: true }).click();
    await page.getByRole("menuitem", { name: "React with :yarn:" }).click();
    const chip = item.getByRole("button", { name: ":yarn: 1" });
    await chip.waitFor();
    assert.equal(await chip.getAttribute("aria-pressed"), "true");
    await chip.locator("img.custom-emoji").waitFor();
    const seen = (await mia.messages.getHistory({ conversationId: general, limit: 5 })).messages.find((m) => m.content.case === "text" && m.content.value.text === text);
    assert.deepEqual(seen?.reactions.map((r) => [r.emoji, r.customEmojiId, r.count]), [["", emoji.id, 1]]);

    // A sticker from the composer's panel.
    await page.getByRole("button", { name: "Stickers", exact: true }).click();
    const panel = page.getByRole("dialog", { name: "Stickers" });
    await panel.getByRole("region", { name: "Woolly" }).waitFor();
    await screenshot(page, "stickers-panel");
    await panel.getByRole("button", { name: "Send sticker 🐑 from Woolly" }).click();
    await panel.waitFor({ state: "detached" });
    const sticker = page.locator(".chat-main .messages li.msg img.sticker");
    await sticker.waitFor();
    assert.equal(await sticker.getAttribute("alt"), "🐑 sticker");
    await page.waitForFunction(() => {
      const i = document.querySelector(".chat-main .messages li.msg img.sticker");
      return i instanceof HTMLImageElement && i.complete && i.naturalWidth > 0;
    });
    await screenshot(page, "sticker-and-custom-emoji");
    const after = await mia.messages.getHistory({ conversationId: general, limit: 5 });
    const sent = after.messages.find((m) => m.content.case === "sticker");
    assert.equal(sent?.content.case === "sticker" ? sent.content.value.emoji : "", "🐑");
    assert.equal(await page.getByRole("button", { name: "Edit" }).count(), 0, "stickers are not editable");

    // Typing :yarn: in the composer sends the emoji, not the letters.
    await page.getByRole("textbox", { name: "Message" }).fill("me too :yarn:");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.getByRole("article").filter({ hasText: "me too" }).locator("img.custom-emoji").waitFor();
    const typed = (await mia.messages.getHistory({ conversationId: general, limit: 5 })).messages.find((m) => m.content.case === "text" && m.content.value.text === "me too :yarn:");
    const entity = typed?.content.case === "text" ? typed.content.value.entities[0] : undefined;
    assert.equal(entity?.customEmojiId, emoji.id);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("a manager adds and removes emoji and stickers on the space's administration screen", async () => {
    const { sb: ida } = await sdkUser(it.server, "ida", "Ida");
    const space = (await ida.spaces.createSpace({ name: "Weavers" })).space;
    assert.ok(space);
    const context = await it.browser.newContext();
    const page = await context.newPage();
    /** @type {string[]} */
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(it.server.url);
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    await page.getByLabel("Username").fill("ida");
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("tab", { name: "Weavers" }).click();
    await page.getByRole("button", { name: "Manage" }).click();
    const admin = page.getByRole("region", { name: "Weavers: administration" });
    await admin.getByRole("tab", { name: "Emoji and stickers" }).click();
    const png = { name: "loom.png", mimeType: "image/png", buffer: await gradientPng(48, 48) };

    const emojiSection = admin.getByRole("region", { name: "Custom emoji" });
    await emojiSection.getByLabel("Emoji name").fill("loom");
    await emojiSection.getByLabel("Emoji image").setInputFiles(png);
    await emojiSection.getByRole("button", { name: "Add emoji" }).click();
    await emojiSection.getByRole("button", { name: "Remove :loom:" }).waitFor();
    assert.deepEqual((await ida.expressions.listCustomEmoji({ spaceId: space.id })).emoji.map((e) => e.name), ["loom"]);
    // A taken name is refused with the server's word for it.
    await emojiSection.getByLabel("Emoji name").fill("loom");
    await emojiSection.getByLabel("Emoji image").setInputFiles(png);
    await emojiSection.getByRole("button", { name: "Add emoji" }).click();
    await admin.getByRole("alert").waitFor();

    const packs = admin.getByRole("region", { name: "Sticker packs" });
    await packs.getByLabel("Pack name").fill("Threads");
    await packs.getByRole("button", { name: "Create pack" }).click();
    const pack = packs.getByRole("group", { name: "Pack Threads" });
    await pack.getByLabel("Sticker emoji").fill("🧵");
    await pack.getByLabel("Sticker image").setInputFiles({ ...png, name: "thread.png", buffer: await gradientPng(96, 96) });
    await pack.getByRole("button", { name: "Add sticker" }).click();
    await pack.getByRole("button", { name: "Remove sticker 🧵" }).waitFor();
    await screenshot(page, "expressions-admin");
    const made = (await ida.expressions.listStickerPacks({ spaceId: space.id })).packs;
    assert.deepEqual(made.map((p) => [p.name, p.stickers.map((x) => x.emoji)]), [["Threads", ["🧵"]]]);
    await pack.getByRole("button", { name: "Remove sticker 🧵" }).click();
    await pack.getByText("0 stickers").waitFor();
    await emojiSection.getByRole("button", { name: "Remove :loom:" }).click();
    await emojiSection.getByText("No custom emoji yet.").waitFor();
    assert.equal((await ida.expressions.listCustomEmoji({ spaceId: space.id })).emoji.length, 0);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
