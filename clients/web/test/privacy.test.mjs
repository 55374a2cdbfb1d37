// Privacy in the browser: choose who may message me (a stranger is refused, then let in
// by an exception picked by username), and see a change made on my other device arrive
// live in the settings screen; a hidden bio stays hidden from a stranger.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createSwitchboard } from "@switchboard/sdk";
import { Audience, PrivacySetting } from "@switchboard/sdk/gen/users_pb.js";
import { register, screenshot, sdkUser, serverAndBrowser, skipReason } from "./harness.mjs";

const reason = skipReason();
if (reason) console.log(`# browser tests skipped: ${reason}`);

describe("privacy settings in the web client", { skip: reason || false, timeout: 120_000 }, () => {
  const it = serverAndBrowser();

  test("who can message me, an exception, and a change from another device", async () => {
    const { sb: yan, user: yanUser } = await sdkUser(it.server, "yan", "Yan");
    const context = await it.browser.newContext();
    const page = await context.newPage();
    /** @type {string[]} */
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(it.server.url);
    await register(page, "zoe", "Zoe");
    await page.getByRole("button", { name: "New", exact: true }).waitFor();
    const zoeId = (await yan.users.searchUsers({ query: "zoe", limit: 5 })).users.find((u) => u.username === "zoe")?.id ?? "";
    assert.ok(zoeId);

    await page.getByRole("button", { name: "Settings" }).click();
    const card = page.getByRole("region", { name: "Privacy" });
    const messages = card.getByLabel("Who can message me", { exact: true });
    await messages.waitFor();
    assert.equal(await messages.inputValue(), String(Audience.EVERYONE));
    await messages.selectOption({ label: "Nobody" });
    await card.getByLabel("Who can see my bio", { exact: true }).selectOption({ label: "My contacts" });

    // The stranger is refused with the generic answer, until Zoe lets him in by name.
    const refusal = async () => {
      for (let i = 0; i < 50; i++) {
        try {
          await yan.conversations.createDirect({ userId: zoeId });
        } catch (e) {
          return /** @type {any} */ (e).rawMessage ?? String(e);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return "";
    };
    assert.match(await refusal(), /does not accept/);
    await card.getByLabel("Who can message me: exception").fill("yan");
    await card.getByRole("button", { name: "Always" }).first().click();
    await card.getByLabel("Who can message me: Always").getByText("Yan").waitFor();
    const dm = await yan.conversations.createDirect({ userId: zoeId });
    assert.ok(dm.conversation?.conversation?.id, "let in by the exception");
    const seen = (await yan.users.getUsers({ userIds: [zoeId] })).users[0];
    assert.equal(seen.bio, "", "the bio is for contacts only");

    // Zoe's laptop sees the same rules and changes another; the browser follows live.
    const laptop = createSwitchboard({ baseUrl: it.server.url });
    const login = await laptop.auth.login({ username: "zoe", password: "correct horse battery staple" });
    if (login.tokens) laptop.signIn(login.tokens);
    const rules = (await laptop.users.getPrivacySettings({})).rules;
    const dmRule = rules.find((r) => r.setting === PrivacySetting.DIRECT_MESSAGES);
    assert.equal(dmRule?.audience, Audience.NOBODY);
    assert.deepEqual(dmRule?.allowUserIds, [yanUser.id]);
    await laptop.users.updatePrivacySettings({
      rules: [{ setting: PrivacySetting.PRESENCE, audience: Audience.NOBODY, allowUserIds: [], denyUserIds: [] }],
    });
    const presence = card.getByLabel("Who can see when I am online", { exact: true });
    await page.waitForFunction(
      (want) => /** @type {HTMLSelectElement | null} */ (document.querySelector("select[data-setting='3']"))?.value === want,
      String(Audience.NOBODY),
    );
    assert.equal(await presence.inputValue(), String(Audience.NOBODY));
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, "privacy");

    // Removing the exception closes the door again.
    await card.getByRole("button", { name: "Remove Yan" }).click();
    await card.getByLabel("Who can message me: Always").waitFor({ state: "detached" });
    assert.match(await refusal(), /does not accept/);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
