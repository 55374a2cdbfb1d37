// What the browser tests share: the server binary on a free loopback port with its own
// data directory, Debian's Chromium through playwright-core, and the screenshots directory.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as testApi from "node:test";
import { fileURLToPath } from "node:url";
import { createSwitchboard } from "@switchboard/sdk";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where screenshots go: SWITCHBOARD_TEST_OUTPUT, else clients/web/test-output. */
export const output = process.env.SWITCHBOARD_TEST_OUTPUT ?? join(repo, "clients/web/test-output");

/** The Chromium to drive, or null with the reason the tests skip. */
export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((p) => p && existsSync(p)) ?? null;
}

/** The server binary: SWITCHBOARD_TEST_SERVER_BIN, else target/debug/switchboard. */
export function serverBinary() {
  return process.env.SWITCHBOARD_TEST_SERVER_BIN ?? join(repo, "target/debug/switchboard");
}

/** Why the browser tests cannot run here, or "" when they can. */
export function skipReason() {
  if (!chromiumPath()) return "no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)";
  if (!existsSync(serverBinary())) return `no server binary at ${serverBinary()} (cargo build --bin switchboard)`;
  return "";
}

/** A free loopback port. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => ok(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/**
 * A running `switchboard serve`. `restart()` stops it (SIGTERM, or SIGKILL with `{ kill:
 * true }`) and starts it again on the same port and data directory.
 */
export class Server {
  /** @param {Record<string, string>} [env] extra settings as SWITCHBOARD_* variables */
  constructor(env = {}) {
    this.env = env;
    this.dataDir = mkdtempSync(join(tmpdir(), "switchboard-web-test-"));
    this.port = 0;
    /** @type {import("node:child_process").ChildProcess | null} */
    this.child = null;
    this.log = "";
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    if (!this.port) this.port = await freePort();
    const child = spawn(serverBinary(), ["serve"], {
      env: {
        ...process.env,
        SWITCHBOARD_LISTEN: `127.0.0.1:${this.port}`,
        SWITCHBOARD_DATA_DIR: this.dataDir,
        SWITCHBOARD_LOG_LEVEL: "warn",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (/** @type {Buffer} */ b) => {
      this.log = (this.log + b.toString()).slice(-20000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${this.log}`);
      try {
        const r = await fetch(`${this.url}/readyz`);
        if (r.ok) return this;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the server did not become ready in 30 s:\n${this.log}`);
  }

  /** @param {{ kill?: boolean }} [opts] */
  async stop(opts = {}) {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(opts.kill ? "SIGKILL" : "SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  /** @param {{ kill?: boolean }} [opts] */
  async restart(opts = {}) {
    await this.stop(opts);
    await this.start();
  }

  async close() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Chromium through playwright-core, with the flags this machine needs. */
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: chromiumPath() ?? undefined,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** Saves a screenshot of the page as `<name>.png` in the output directory. */
export async function screenshot(/** @type {import("playwright-core").Page} */ page, /** @type {string} */ name) {
  mkdirSync(output, { recursive: true });
  await page.screenshot({ path: join(output, `${name}.png`) });
}

/** Registers through the sign-in screen and waits for the app. */
export async function register(/** @type {import("playwright-core").Page} */ page, /** @type {string} */ username, /** @type {string} */ displayName) {
  await page.getByRole("button", { name: "No account? Register" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill(displayName);
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Register" }).click();
}

/** A small PNG (a gradient), built here so the test needs no fixture files. */
export async function gradientPng(width = 96, height = 64) {
  const { deflateSync, crc32 } = await import("node:zlib");
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = Math.round((x / width) * 255);
      row[2 + x * 3] = Math.round((y / height) * 255);
      row[3 + x * 3] = 160;
    }
    rows.push(row);
  }
  const chunk = (/** @type {string} */ type, /** @type {Buffer} */ data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * A server (with `env` settings) and a browser for the tests of one `describe`, started
 * before them and closed after. Read `.server` and `.browser` inside the tests.
 * @param {Record<string, string>} [env]
 */
export function serverAndBrowser(env = {}) {
  const { before, after } = /** @type {typeof import("node:test")} */ (testApi);
  const it = /** @type {{ server: Server, browser: import("playwright-core").Browser }} */ ({});
  before(async () => {
    it.server = await new Server(env).start();
    it.browser = await launchBrowser();
  });
  after(async () => {
    await it.browser?.close();
    await it.server?.close();
  });
  return it;
}

/** A user registered and signed in through the SDK, from Node. */
export async function sdkUser(/** @type {Server} */ server, /** @type {string} */ username, /** @type {string} */ displayName) {
  const sb = createSwitchboard({ baseUrl: server.url });
  const reg = await sb.auth.register({ username, password: "correct horse battery staple", displayName });
  sb.signIn(reg.tokens);
  if (!reg.user) throw new Error("Register answered without the user");
  return { sb, user: reg.user };
}

/** The direct chat of an SDK user with the user called `username`, made if need be. */
export async function directWith(/** @type {import("@switchboard/sdk").Switchboard} */ sb, /** @type {string} */ username) {
  const peer = (await sb.users.searchUsers({ query: username, limit: 5 })).users.find((u) => u.username === username);
  if (!peer) throw new Error(`no user ${username}`);
  const dm = (await sb.conversations.createDirect({ userId: peer.id })).conversation?.conversation;
  if (!dm) throw new Error("CreateDirect answered without the conversation");
  return dm;
}

/** Sends a text message from an SDK user. */
export async function say(/** @type {import("@switchboard/sdk").Switchboard} */ sb, /** @type {string} */ conversationId, /** @type {string} */ text) {
  return sb.messages.sendMessage({ conversationId, clientKey: crypto.randomUUID(), text: { text } });
}
