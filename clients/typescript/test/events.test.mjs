// The event client against a scripted socket: resuming from positions, skipping
// duplicates, reconnecting on a gap or a drop, ending on 4001, handing resyncs over.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ClientFrameSchema, ServerFrameSchema } from "../gen/switchboard/v1/ws_pb.js";
import { SubscribeRequestSchema } from "../gen/switchboard/v1/sync_pb.js";
import { Backoff, EventClient, Positions } from "../src/index.js";

/** Sockets opened by the client under test, newest last. */
const sockets = [];
class FakeSocket {
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.closed = null;
    sockets.push(this);
    queueMicrotask(() => this.onopen?.());
  }
  send(data) {
    const frame = fromBinary(ClientFrameSchema, data);
    this.sent.push({ method: frame.method, request: fromBinary(SubscribeRequestSchema, frame.body) });
  }
  close(code) {
    this.closed = code;
  }
  /** The server sends an event. */
  event(e) {
    const frame = create(ServerFrameSchema, { kind: { case: "event", value: e } });
    this.onmessage?.({ data: toBinary(ServerFrameSchema, frame).slice().buffer });
  }
  /** The server closes. */
  end(code) {
    this.onclose?.({ code });
  }
}

const message = (conversationId, seq, text) => ({
  conversationId,
  seq,
  kind: { case: "messageCreated", value: { id: `m${seq}`, conversationId, seq, content: { case: "text", value: { text } } } },
});
const caughtUp = { kind: { case: "caughtUp", value: { userSeq: 0n } } };
const tick = () => new Promise((r) => setTimeout(r, 5));

function client(extra = {}) {
  sockets.length = 0;
  const got = [];
  const statuses = [];
  const switchboard = {
    baseUrl: "http://chat.test",
    tokens: { accessToken: "sba_a", refreshToken: "sbr_r" },
    users: { getMe: async () => ({}) },
    sync: { getState: async () => ({ userSeq: 9n, conversations: [{ conversationId: "c", seq: 40n }] }) },
  };
  const c = new EventClient({
    switchboard,
    positions: Positions.fromJSON({ userSeq: "3", conversations: { c: "10" } }),
    backoff: new Backoff({ initialMs: 1, maxMs: 4, random: () => 0 }),
    onEvent: (e) => got.push(e),
    onStatus: (s) => statuses.push(s),
    WebSocket: FakeSocket,
    ...extra,
  });
  return { c, got, statuses, switchboard };
}

test("subscribes from its positions and applies each event once, in order", async () => {
  const { c, got, statuses } = client();
  c.start();
  await tick();
  assert.equal(sockets.length, 1);
  assert.match(sockets[0].url, /^ws:\/\/chat\.test\/v1\/ws\?access_token=sba_a$/);
  const sub = sockets[0].sent[0];
  assert.equal(sub.method, "SyncService/Subscribe");
  assert.equal(sub.request.userSeq, 3n);
  assert.deepEqual(sub.request.positions.map((p) => [p.conversationId, p.seq]), [["c", 10n]]);
  sockets[0].event(message("c", 10n, "old")); // already applied
  sockets[0].event(message("c", 11n, "new"));
  sockets[0].event(message("c", 11n, "again")); // a duplicate
  sockets[0].event(caughtUp);
  assert.deepEqual(got.map((e) => e.seq), [11n]);
  assert.deepEqual(statuses, ["connecting", "catching-up", "live"]);
  assert.equal(c.positions.conversations.get("c"), 11n);
  c.stop();
});

test("a dropped socket reconnects with back-off and resumes where it was", async () => {
  const { c, got } = client();
  c.start();
  await tick();
  sockets[0].event(message("c", 11n, "a"));
  sockets[0].end(1006);
  await tick();
  await tick();
  assert.equal(sockets.length, 2);
  assert.deepEqual(sockets[1].sent[0].request.positions.map((p) => p.seq), [11n]);
  sockets[1].event(message("c", 11n, "a")); // replayed: skipped
  sockets[1].event(message("c", 12n, "b"));
  assert.deepEqual(got.map((e) => e.seq), [11n, 12n]);
  c.stop();
});

test("a gap closes the socket and resubscribes before the missing event", async () => {
  const { c, got } = client();
  c.start();
  await tick();
  sockets[0].event(message("c", 13n, "skipped ahead"));
  assert.equal(got.length, 0);
  assert.equal(sockets[0].closed, 1000);
  await tick();
  assert.equal(sockets.length, 2);
  assert.deepEqual(sockets[1].sent[0].request.positions.map((p) => p.seq), [10n]);
  c.stop();
});

test("session_ended (4001) ends the stream for good", async () => {
  const { c, statuses } = client();
  c.start();
  await tick();
  sockets[0].end(4001);
  await tick();
  assert.equal(sockets.length, 1);
  assert.equal(statuses.at(-1), "ended");
  c.stop();
});

test("resync rebuilds through the application and resumes from the snapshot", async () => {
  let rebuilt = 0;
  const { c } = client({
    onResync: async () => {
      rebuilt++;
      return Positions.fromJSON({ userSeq: "9", conversations: { c: "40" } });
    },
  });
  c.start();
  await tick();
  sockets[0].event({ kind: { case: "resyncRequired", value: { conversationId: "c" } } });
  await tick();
  await tick();
  assert.equal(rebuilt, 1);
  assert.equal(sockets.length, 2);
  assert.equal(sockets[1].sent[0].request.userSeq, 9n);
  assert.deepEqual(sockets[1].sent[0].request.positions.map((p) => p.seq), [40n]);
  c.stop();
});

test("back-off grows to its ceiling with jitter and restarts after a success", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [0, 100, 200, 400, 800, 1000]);
  b.reset();
  assert.equal(b.next(), 0);
  const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  low.next();
  assert.equal(low.next(), 50);
});

test("positions: a join starts a conversation's log, a leave ends it; user-log gaps are found", () => {
  const p = new Positions();
  assert.equal(p.apply({ userSeq: 1n, seq: 0n, conversationId: "", kind: { case: "conversationJoined", value: { conversationId: "g", joinedAtSeq: 5n } } }), "apply");
  assert.equal(p.conversations.get("g"), 5n);
  assert.equal(p.apply(message("g", 7n, "x")), "gap");
  assert.equal(p.apply(message("g", 6n, "x")), "apply");
  assert.equal(p.apply({ userSeq: 3n, seq: 0n, conversationId: "", kind: { case: "readStateChanged", value: {} } }), "gap");
  assert.equal(p.apply({ userSeq: 2n, seq: 0n, conversationId: "", kind: { case: "conversationLeft", value: { conversationId: "g" } } }), "apply");
  assert.equal(p.conversations.has("g"), false);
  assert.deepEqual(Positions.fromJSON(p.toJSON()), p);
});
