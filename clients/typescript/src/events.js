// The event half of the SDK: one WebSocket (binary frames of ws.proto) subscribed from the
// device's positions. Catch-up replays what was missed, then events stream live; a dropped
// socket reconnects with back-off and resumes from the positions reached, so every event
// is applied exactly once and in order per log. A resync (the device fell too far behind)
// is handed to the application, which rebuilds from a snapshot.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SubscribeRequestSchema } from "../gen/switchboard/v1/sync_pb.js";
import { ClientFrameSchema, ServerFrameSchema } from "../gen/switchboard/v1/ws_pb.js";
import { Backoff } from "./backoff.js";
import { Positions } from "./positions.js";

/**
 * The stream's state, for a connection banner: `connecting` (no socket yet, or waiting to
 * retry), `catching-up` (subscribed, replaying), `live` (caught up), `ended` (the session
 * is gone: sign in again).
 * @typedef {"connecting" | "catching-up" | "live" | "ended"} StreamStatus
 */

/**
 * @typedef {object} EventClientOptions
 * @property {import("./client.js").Switchboard} switchboard For the address and tokens.
 * @property {Positions} [positions] Where to resume (default: from the start of every log
 *   the user is in; a fresh device should pass `Positions.fromState(await sync.getState({}))`).
 * @property {(e: import("../gen/switchboard/v1/sync_pb.js").Event) => void} onEvent Each event, once.
 * @property {(s: StreamStatus, detail: { attempt: number, retryInMs: number }) => void} [onStatus]
 * @property {() => Promise<Positions>} [onResync] Rebuilds the application's state after
 *   `resyncRequired` and returns the positions of that snapshot (GetState). Default:
 *   GetState alone (the application loses nothing the server still has, it just jumps).
 * @property {(p: Positions) => void} [onPositions] After each applied event with a
 *   position, to persist them.
 * @property {typeof globalThis.WebSocket} [WebSocket] A WebSocket constructor (default: the global).
 * @property {Backoff} [backoff]
 */

export class EventClient {
  /** @param {EventClientOptions} options */
  constructor(options) {
    this.options = options;
    this.positions = options.positions ?? new Positions();
    this.backoff = options.backoff ?? new Backoff();
    /** @type {StreamStatus} */
    this.status = "connecting";
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.stopped = true;
    this.generation = 0;
  }

  /** Opens the stream (idempotent). */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.backoff.reset();
    this.setStatus("connecting");
    this.connect();
  }

  /** Closes the stream for good. */
  stop() {
    this.stopped = true;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.close(1000);
    this.socket = null;
  }

  /** Drops any wait and reconnects now (the browser went online, the tab came back). */
  reconnectNow() {
    if (this.stopped || this.status === "ended") return;
    if (this.status === "connecting" && this.socket) return;
    this.backoff.reset();
    this.drop();
  }

  /** @param {StreamStatus} status @param {number} [retryInMs] */
  setStatus(status, retryInMs = 0) {
    this.status = status;
    this.options.onStatus?.(status, { attempt: this.backoff.attempt, retryInMs });
  }

  drop() {
    const s = this.socket;
    this.socket = null;
    this.generation++;
    if (s) s.close(1000);
    this.schedule();
  }

  schedule() {
    if (this.stopped || this.status === "ended") return;
    if (this.timer) clearTimeout(this.timer);
    const delay = this.backoff.next();
    this.setStatus("connecting", delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  connect() {
    if (this.stopped) return;
    const sb = this.options.switchboard;
    const token = sb.tokens?.accessToken;
    if (!token) {
      this.setStatus("ended");
      return;
    }
    const generation = ++this.generation;
    const Ws = this.options.WebSocket ?? globalThis.WebSocket;
    const url = `${sb.baseUrl.replace(/^http/, "ws")}/v1/ws?access_token=${encodeURIComponent(token)}`;
    const socket = new Ws(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    let opened = false;
    const current = () => generation === this.generation && !this.stopped;

    socket.onopen = () => {
      if (!current()) return;
      opened = true;
      const body = toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, this.positions.request()));
      socket.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { id: "subscribe", method: "SyncService/Subscribe", body })));
      this.setStatus("catching-up");
    };
    socket.onmessage = (msg) => {
      if (!current() || !(msg.data instanceof ArrayBuffer)) return;
      const frame = fromBinary(ServerFrameSchema, new Uint8Array(msg.data));
      if (frame.kind.case === "response") {
        const r = frame.kind.value;
        if (r.result.case === "error") this.drop();
        return;
      }
      if (frame.kind.case !== "event") return;
      const e = frame.kind.value;
      switch (e.kind.case) {
        case "caughtUp":
          this.backoff.reset();
          this.setStatus("live");
          return;
        case "resyncRequired":
          this.generation++;
          socket.close(1000);
          void this.resync();
          return;
      }
      const verdict = this.positions.apply(e);
      if (verdict === "gap") {
        this.drop();
        return;
      }
      if (verdict === "duplicate") return;
      this.options.onEvent(e);
      if (e.userSeq > 0n || e.seq > 0n) this.options.onPositions?.(this.positions);
    };
    socket.onclose = (ev) => {
      if (!current()) return;
      this.socket = null;
      if (ev.code === 4001) {
        this.setStatus("ended");
        return;
      }
      if (ev.code === 4002 || !opened) {
        // An expired token (4002), or an upgrade refused before it opened (a browser only
        // sees 1006): an authenticated call refreshes the tokens if they are the cause.
        void this.checkSession().then(() => this.schedule());
        return;
      }
      this.schedule();
    };
  }

  async checkSession() {
    const sb = this.options.switchboard;
    const before = sb.tokens?.accessToken;
    if (!before) return;
    try {
      await sb.users.getMe({});
    } catch {
      // Unreachable or refused: the interceptor refreshed if it could; tokens cleared when
      // the session is gone (then connect() ends the stream).
    }
  }

  async resync() {
    if (this.stopped) return;
    this.setStatus("catching-up");
    try {
      const sb = this.options.switchboard;
      this.positions = this.options.onResync
        ? await this.options.onResync()
        : Positions.fromState(await sb.sync.getState({}));
      this.options.onPositions?.(this.positions);
      this.backoff.reset();
    } catch {
      // Retried below after a back-off; the positions are unchanged.
    }
    this.schedule();
  }
}
