// Uploading a file with tus 1.0 (the server's /v1/uploads/): created with its length, sent
// in chunks so that progress is known and a dropped connection resumes where the server
// is (HEAD), finished with the file's id.

/**
 * @typedef {object} UploadOptions
 * @property {Blob} blob The bytes (a File in a browser).
 * @property {string} name The file name shown to others.
 * @property {boolean} [isPublic] An avatar or other image anyone signed in may see.
 * @property {(sent: number, total: number) => void} [onProgress]
 * @property {number} [chunkBytes] Bytes per PATCH (default 4 MiB).
 * @property {number} [retries] Attempts per chunk before giving up (default 5).
 * @property {AbortSignal} [signal]
 */

/** An upload the server refused; `reason` is the server's (file_too_large, quota_exceeded, ...). */
export class UploadError extends Error {
  /** @param {number} status @param {string} reason @param {string} message */
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** @param {string} s */
const base64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

/**
 * Uploads a file and resolves to its id.
 * @param {import("./client.js").Switchboard} sb
 * @param {UploadOptions} options
 * @returns {Promise<string>}
 */
export async function uploadFile(sb, options) {
  const total = options.blob.size;
  const chunk = options.chunkBytes ?? 4 << 20;
  const metadata = [`filename ${base64(options.name)}`];
  if (options.blob.type) metadata.push(`filetype ${base64(options.blob.type)}`);
  if (options.isPublic) metadata.push(`public ${base64("true")}`);
  const created = await call(sb, `${sb.baseUrl}/v1/uploads/`, {
    method: "POST",
    headers: { "Upload-Length": String(total), "Upload-Metadata": metadata.join(",") },
    signal: options.signal,
  });
  if (created.status !== 201) throw await refusal(created);
  const location = created.headers.get("Location");
  if (!location) throw new UploadError(created.status, "", "the server gave no upload address");
  const url = new URL(location, sb.baseUrl).toString();
  let offset = 0;
  let failures = 0;
  options.onProgress?.(0, total);
  for (;;) {
    const done = created.headers.get("Switchboard-File-Id");
    if (done && total === 0) return done;
    try {
      const res = await call(sb, url, {
        method: "PATCH",
        headers: { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset) },
        body: options.blob.slice(offset, Math.min(total, offset + chunk)),
        signal: options.signal,
      });
      if (res.status === 409) {
        offset = await where(sb, url, options.signal);
        continue;
      }
      if (res.status !== 204) throw await refusal(res);
      offset = Number(res.headers.get("Upload-Offset"));
      failures = 0;
      options.onProgress?.(offset, total);
      const id = res.headers.get("Switchboard-File-Id");
      if (id) return id;
      if (offset >= total) throw new UploadError(res.status, "", "the upload ended without a file");
    } catch (err) {
      if (err instanceof UploadError || options.signal?.aborted) throw err;
      // The connection dropped: ask where the server is and go on from there.
      if (++failures > (options.retries ?? 5)) throw err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** failures));
      offset = await where(sb, url, options.signal).catch(() => offset);
    }
  }
}

/** @param {import("./client.js").Switchboard} sb @param {string} url @param {AbortSignal | undefined} signal */
async function where(sb, url, signal) {
  const res = await call(sb, url, { method: "HEAD", signal });
  if (res.status !== 200 && res.status !== 204) throw await refusal(res);
  return Number(res.headers.get("Upload-Offset"));
}

/**
 * One tus request with the session's token (refreshed once if it expired).
 * @param {import("./client.js").Switchboard} sb @param {string} url
 * @param {{ method: string, headers?: Record<string, string>, body?: Blob, signal?: AbortSignal }} init
 */
async function call(sb, url, init) {
  const send = () =>
    sb.fetch(url, {
      method: init.method,
      body: init.body,
      signal: init.signal,
      headers: { ...init.headers, "Tus-Resumable": "1.0.0", Authorization: `Bearer ${sb.tokens?.accessToken ?? ""}` },
    });
  const res = await send();
  if (res.status !== 401) return res;
  const sent = sb.tokens?.accessToken;
  return (await sb.refresh(sent)) ? send() : res;
}

/** @param {Response} res */
async function refusal(res) {
  let reason = "";
  let message = `upload refused (HTTP ${res.status})`;
  try {
    const body = await res.json();
    reason = body.reason ?? "";
    message = body.message ?? message;
  } catch {
    // A body that is not the JSON Error: keep the status.
  }
  return new UploadError(res.status, reason, message);
}
