// The web client's load figures (docs/BENCHMARKS.md): how many bytes of JavaScript the
// browser fetches for the first screen (compressed, as sent), and the time from navigation
// to the first message of a 10,000-message conversation on screen; also how many message
// elements are in the page after scrolling back through 1,000 messages (the window keeps it
// bounded). Starts the server binary with a fresh data directory, fills the conversation
// through the SDK, then loads it in Chromium a few times with a cold cache.
// Usage: node scripts/bench.mjs [--messages 10000] [--runs 3]
import { createSwitchboard } from "@switchboard/sdk";
import { Server, launchBrowser, skipReason } from "../test/harness.mjs";

const arg = (/** @type {string} */ name, /** @type {number} */ fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const total = arg("--messages", 10_000);
const runs = arg("--runs", 3);

const reason = skipReason();
if (reason) {
  console.error(`cannot run: ${reason}`);
  process.exit(2);
}

// Filling the conversation is not what is measured: no rate limit for it.
const server = await new Server({ SWITCHBOARD_SERVICE__RATE_LIMIT__PER_SECOND: "0" }).start();
try {
  const alice = createSwitchboard({ baseUrl: server.url });
  alice.signIn((await alice.auth.register({ username: "alice", password: "correct horse battery staple", displayName: "Alice" })).tokens);
  const bob = createSwitchboard({ baseUrl: server.url });
  const bobReg = await bob.auth.register({ username: "bob", password: "correct horse battery staple", displayName: "Bob" });
  bob.signIn(bobReg.tokens);
  const dm = (await alice.conversations.createDirect({ userId: bobReg.user?.id ?? "" })).conversation?.conversation;
  if (!dm) throw new Error("no conversation");
  const fillStart = performance.now();
  const parallel = 8;
  let next = 1;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        const i = next++;
        await alice.messages.sendMessage({ conversationId: dm.id, clientKey: `bench-${i}`, text: { text: `message ${i} of the benchmark conversation` } });
      }
    }),
  );
  // The latest, sent alone, is the one the first screen must show.
  await alice.messages.sendMessage({ conversationId: dm.id, clientKey: `bench-${total}`, text: { text: `message ${total} of the benchmark conversation` } });
  console.log(`filled ${total} messages in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);

  const browser = await launchBrowser();
  for (let run = 1; run <= runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const tokens = bob.tokens;
    await context.addInitScript((t) => localStorage.setItem("switchboard.tokens", JSON.stringify(t)), tokens);
    const page = await context.newPage();
    let jsBytes = 0;
    let jsFiles = 0;
    let allBytes = 0;
    page.on("requestfinished", async (req) => {
      const sizes = await req.sizes().catch(() => null);
      if (!sizes) return;
      allBytes += sizes.responseBodySize + sizes.responseHeadersSize;
      if (req.resourceType() === "script" || req.url().endsWith(".js")) {
        jsBytes += sizes.responseBodySize;
        jsFiles++;
      }
    });
    const start = Date.now();
    await page.goto(`${server.url}/c/${dm.id}`);
    await page.locator(".chat-main .messages li.msg .body").filter({ hasText: `message ${total} of` }).waitFor({ timeout: 60_000 });
    const firstMessage = Date.now() - start;
    // Scroll back through 1,000 messages.
    const back = Math.min(1000, total - 100);
    const scrollStart = Date.now();
    await page.waitForFunction(
      async (n) => {
        const list = document.querySelector(".chat-main .messages");
        if (!list) return false;
        list.scrollTop = 0;
        list.dispatchEvent(new Event("scroll"));
        const seqs = [...list.querySelectorAll("li.msg")].map((li) => Number(li.getAttribute("data-seq")));
        return seqs.length > 0 && Math.min(...seqs) <= n;
      },
      total - back,
      { timeout: 120_000, polling: 50 },
    );
    const scrolled = Date.now() - scrollStart;
    const elements = await page.locator(".chat-main .messages li").count();
    console.log(
      `run ${run}: first message ${firstMessage} ms; JavaScript ${jsFiles} files, ${(jsBytes / 1024).toFixed(1)} KiB as sent ` +
        `(everything ${(allBytes / 1024).toFixed(1)} KiB); back ${back} messages in ${scrolled} ms with ${elements} list elements in the page`,
    );
    await context.close();
  }
  await browser.close();
} finally {
  await server.close();
}
