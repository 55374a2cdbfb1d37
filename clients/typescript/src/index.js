// The Switchboard TypeScript SDK: unary calls over Connect (client.js), the event stream
// over the WebSocket (events.js), positions (positions.js) and tus uploads (upload.js).
// Message types are generated from proto/ into gen/ and re-exported by name there.
export { createSwitchboard, errorInfo } from "./client.js";
export { EventClient } from "./events.js";
export { Positions } from "./positions.js";
export { Backoff } from "./backoff.js";
export { uploadFile, UploadError } from "./upload.js";
export { Code, ConnectError } from "@connectrpc/connect";

/**
 * @typedef {import("./client.js").Switchboard} Switchboard
 * @typedef {import("./client.js").Tokens} Tokens
 * @typedef {import("./client.js").SwitchboardOptions} SwitchboardOptions
 */
