// The generated types against the wire formats the server speaks: protobuf binary and the
// proto3 JSON mapping (camelCase names, 64-bit integers as strings, enum names).
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import { SendMessageRequestSchema } from "../gen/switchboard/v1/messages_pb.js";
import { FileSchema, FileState } from "../gen/switchboard/v1/files_pb.js";
import { EventSchema } from "../gen/switchboard/v1/sync_pb.js";

test("a message with an attachment round-trips through binary and JSON", () => {
  const req = create(SendMessageRequestSchema, {
    conversationId: "12",
    clientKey: "k1",
    text: { text: "look", attachments: [{ fileId: "7", alt: "the view" }] },
  });
  const back = fromBinary(SendMessageRequestSchema, toBinary(SendMessageRequestSchema, req));
  assert.equal(back.text?.attachments[0]?.fileId, "7");
  const json = toJson(SendMessageRequestSchema, req);
  assert.deepEqual(json, {
    conversationId: "12",
    clientKey: "k1",
    text: { text: "look", attachments: [{ fileId: "7", alt: "the view" }] },
  });
});

test("a server's JSON file record and event decode", () => {
  const file = fromJson(FileSchema, {
    id: "9",
    mime: "image/jpeg",
    size: "120000",
    state: "FILE_STATE_READY",
    thumbnails: [{ size: "small", width: 320, height: 180, url: "/v1/files/9/thumbnails/small" }],
  });
  assert.equal(file.size, 120000n);
  assert.equal(file.state, FileState.READY);
  const ev = fromJson(EventSchema, { fileReady: { file: { id: "9" } } });
  assert.equal(ev.kind.case, "fileReady");
  assert.equal(ev.kind.value.file?.id, "9");
});
