// A stock Connect client (connect-es over HTTP/1.1, JSON and binary) against a running
// server: unary calls, the documented error codes, and the Subscribe server stream.
// Usage: node client.mjs HOST:PORT DESCRIPTOR_SET_FILE
// Prints one line per check ("ok <name>"); exits non-zero on the first failure.

import { readFileSync } from "node:fs";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport } from "@connectrpc/connect-node";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const [addr, descriptorPath] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorPath)));
const service = (name) => {
  const s = registry.getService(`switchboard.v1.${name}`);
  if (!s) throw new Error(`no service ${name} in the descriptor set`);
  return s;
};

const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));

function check(name, cond, detail) {
  if (!cond) {
    console.log(`FAIL ${name}: ${detail ?? ""}`);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

async function expectCode(name, promise, code) {
  try {
    await promise;
    check(name, false, "succeeded");
  } catch (e) {
    const err = ConnectError.from(e);
    check(name, err.code === code, `got ${Code[err.code]}: ${err.rawMessage}`);
  }
}

for (const binary of [false, true]) {
  const fmt = binary ? "proto" : "json";
  const transport = createConnectTransport({ baseUrl: `http://${addr}`, httpVersion: "1.1", useBinaryFormat: binary });
  const auth = createClient(service("AuthService"), transport);
  const name = `connie_${fmt}`;
  const reg = await auth.register({ username: name, password: "correct horse battery", displayName: "Connie" });
  check(`${fmt} register`, reg.user?.username === name && reg.tokens?.accessToken.startsWith("sba_"));
  const token = reg.tokens.accessToken;
  await expectCode(`${fmt} wrong password is unauthenticated`, auth.login({ username: name, password: "wrong password" }), Code.Unauthenticated);

  const headers = { Authorization: `Bearer ${token}` };
  const users = createClient(service("UserService"), transport);
  const me = await users.getMe({}, { headers });
  check(`${fmt} getMe`, me.user?.id === reg.user.id);

  const convs = createClient(service("ConversationService"), transport);
  const created = await convs.createConversation({ kind: 2, title: `connect ${fmt}` }, { headers });
  const conv = created.conversation?.conversation?.id;
  check(`${fmt} createConversation`, typeof conv === "string" && conv.length > 0, show(created));

  const messages = createClient(service("MessageService"), transport);
  await expectCode(
    `${fmt} unknown conversation is not_found`,
    messages.sendMessage({ conversationId: "999999", clientKey: "x", text: { text: "hi" } }, { headers }),
    Code.NotFound,
  );
  await expectCode(`${fmt} no token is unauthenticated`, users.getMe({}), Code.Unauthenticated);

  // The stream: caught_up first, then a message sent meanwhile arrives live.
  const sync = createClient(service("SyncService"), transport);
  const abort = new AbortController();
  const stream = sync.subscribe({ liveOnly: true }, { headers, signal: abort.signal });
  const iter = stream[Symbol.asyncIterator]();
  const first = await iter.next();
  check(`${fmt} stream starts with caughtUp`, first.value?.kind?.case === "caughtUp", show(first.value?.kind?.case));
  const sent = await messages.sendMessage(
    { conversationId: conv, clientKey: `k-${fmt}`, text: { text: `hello over connect ${fmt}` } },
    { headers },
  );
  check(`${fmt} sendMessage`, sent.message?.seq > 0n);
  let live;
  for (;;) {
    const next = await iter.next();
    if (next.done) break;
    if (next.value.kind?.case === "messageCreated") {
      live = next.value;
      break;
    }
  }
  check(
    `${fmt} the message arrives on the stream`,
    live?.kind.value.content?.case === "text" && live.kind.value.content.value.text === `hello over connect ${fmt}` && live.kind.value.clientKey === `k-${fmt}`,
    show(live?.kind?.value?.content),
  );
  abort.abort();

  // A stream that cannot start ends with the error in its end-of-stream message.
  await expectCode(
    `${fmt} a stream without a token ends unauthenticated`,
    (async () => {
      for await (const _ of sync.subscribe({ liveOnly: true })) {
        // nothing arrives
      }
    })(),
    Code.Unauthenticated,
  );
}
// gzip both ways: requests compressed whatever their size, responses and stream messages of
// 1 KiB or more compressed by the server (the client accepts gzip by default).
{
  const transport = createConnectTransport({
    baseUrl: `http://${addr}`,
    httpVersion: "1.1",
    sendCompression: compressionGzip,
    compressMinBytes: 0,
  });
  const auth = createClient(service("AuthService"), transport);
  const reg = await auth.register({ username: "zip_user", password: "correct horse battery", displayName: "Zip" });
  check("gzip register", reg.user?.username === "zip_user");
  const headers = { Authorization: `Bearer ${reg.tokens.accessToken}` };
  const convs = createClient(service("ConversationService"), transport);
  const conv = (await convs.createConversation({ kind: 2, title: "zipped" }, { headers })).conversation.conversation.id;
  const messages = createClient(service("MessageService"), transport);
  const sync = createClient(service("SyncService"), transport);
  const abort = new AbortController();
  const iter = sync.subscribe({ liveOnly: true }, { headers, signal: abort.signal })[Symbol.asyncIterator]();
  check("gzip stream starts", (await iter.next()).value?.kind?.case === "caughtUp");
  const long = "zipped text ".repeat(300);
  const sent = await messages.sendMessage({ conversationId: conv, clientKey: "zip-1", text: { text: long } }, { headers });
  check("gzip a large message is sent and answered", sent.message?.content?.value?.text === long);
  let live;
  for (;;) {
    const next = await iter.next();
    if (next.done || next.value.kind?.case === "messageCreated") {
      live = next.value;
      break;
    }
  }
  check("gzip the large message arrives on the stream", live?.kind.value.content?.value?.text === long);
  abort.abort();

  // The deadline travels as Connect-Timeout-Ms; a live stream ends when it passes.
  await expectCode(
    "a stream past its deadline ends deadline_exceeded",
    (async () => {
      for await (const _ of sync.subscribe({ liveOnly: true }, { headers, timeoutMs: 300 })) {
        // caught_up, then nothing until the deadline
      }
    })(),
    Code.DeadlineExceeded,
  );
}
// Reads over GET (useHttpGet): methods marked NO_SIDE_EFFECTS go as GET requests.
const getMe = service("UserService").methods.find((m) => m.name === "GetMe");
check("GetMe is marked NO_SIDE_EFFECTS (so useHttpGet sends it as GET)", getMe?.idempotency === 1, show(getMe?.idempotency));
for (const binary of [false, true]) {
  const fmt = binary ? "proto" : "json";
  const transport = createConnectTransport({ baseUrl: `http://${addr}`, httpVersion: "1.1", useBinaryFormat: binary, useHttpGet: true });
  const auth = createClient(service("AuthService"), transport);
  const reg = await auth.register({ username: `getter_${fmt}`, password: "correct horse battery", displayName: "Getter" });
  const headers = { Authorization: `Bearer ${reg.tokens.accessToken}` };
  const users = createClient(service("UserService"), transport);
  const me = await users.getMe({}, { headers });
  check(`${fmt} getMe over GET`, me.user?.id === reg.user.id);
  const found = await users.getUsers({ userIds: [reg.user.id] }, { headers });
  check(`${fmt} getUsers over GET`, found.users?.[0]?.username === `getter_${fmt}`, show(found));
  await expectCode(`${fmt} a GET without a token is unauthenticated`, users.getMe({}), Code.Unauthenticated);
}
console.log("done");
