// Attachments: blurhash placeholders, then thumbnails fetched with the session's token (as
// blob: URLs, so no token ever sits in a URL), and a full-size viewer.
import { html } from "htm/preact";
import { useEffect, useRef, useState, useLayoutEffect } from "preact/hooks";
import { decode } from "blurhash";
import { FileState } from "@switchboard/sdk/gen/files_pb.js";
import { bytes } from "./format.js";

/**
 * @typedef {import("@switchboard/sdk/gen/files_pb.js").File} SbFile
 * @typedef {import("@switchboard/sdk").Switchboard} Switchboard
 */

/** @type {Map<string, Promise<string>>} */
const urls = new Map();

/**
 * A blob: URL for a file or one of its thumbnails, fetched once per page.
 * @param {Switchboard} sb @param {string} fileId @param {string} [size]
 */
export function fileUrl(sb, fileId, size = "") {
  const key = `${fileId}/${size}`;
  let u = urls.get(key);
  if (!u) {
    const path = size ? `/v1/files/${fileId}/thumbnails/${size}` : `/v1/files/${fileId}`;
    u = sb
      .fetch(`${sb.baseUrl}${path}`, { headers: { Authorization: `Bearer ${sb.tokens?.accessToken ?? ""}` } })
      .then(async (r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return URL.createObjectURL(await r.blob());
      });
    u.catch(() => urls.delete(key));
    urls.set(key, u);
  }
  return u;
}

/** A blurhash painted on a small canvas, stretched by CSS. @param {{ hash: string }} props */
function Blurhash({ hash }) {
  const ref = useRef(/** @type {HTMLCanvasElement | null} */ (null));
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || !hash) return;
    try {
      const pixels = decode(hash, 32, 32);
      const ctx = canvas.getContext("2d");
      if (!ctx) return;
      const img = ctx.createImageData(32, 32);
      img.data.set(pixels);
      ctx.putImageData(img, 0, 0);
    } catch {
      // A malformed hash: leave the plain background.
    }
  }, [hash]);
  return html`<canvas ref=${ref} class="blurhash" width="32" height="32" aria-hidden="true"></canvas>`;
}

/**
 * One attachment: an image (placeholder, thumbnail, viewer on click) or a file card.
 * @param {{ sb: Switchboard, file: SbFile | undefined, fileId: string, alt: string, onOpen: (src: string, alt: string) => void }} props
 */
export function Attachment({ sb, file, fileId, alt, onOpen }) {
  const [src, setSrc] = useState("");
  const image = file?.mime.startsWith("image/") ?? false;
  const ready = file?.state === FileState.READY;
  const hasThumb = ready && (file?.thumbnails.length ?? 0) > 0;
  useEffect(() => {
    if (!image || !ready) return;
    let live = true;
    fileUrl(sb, fileId, hasThumb ? "small" : "")
      .then((u) => live && setSrc(u))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [fileId, image, ready, hasThumb]);
  if (!file) return html`<div class="file gone">File deleted</div>`;
  if (image) {
    const w = file.width || 320;
    const h = file.height || 240;
    const scale = Math.min(1, 320 / Math.max(w, h));
    const style = { width: `${Math.round(w * scale)}px`, aspectRatio: `${w} / ${h}` };
    const open = () => fileUrl(sb, fileId).then((u) => onOpen(u, alt || file.name));
    return html`<button class="image" style=${style} onClick=${open} aria-label=${`Open image ${alt || file.name}`}>
      <${Blurhash} hash=${file.blurhash} />
      ${src && html`<img src=${src} alt=${alt || file.name} loading="lazy" />`}
    </button>`;
  }
  const download = async () => {
    const u = await fileUrl(sb, fileId);
    const a = document.createElement("a");
    a.href = u;
    a.download = file.name;
    a.click();
  };
  return html`<button class="file" onClick=${download}><span class="file-icon" aria-hidden="true">📄</span>
    <span class="file-name">${file.name}</span><span class="file-size">${bytes(file.size)}</span></button>`;
}

/** The full-size image over everything; Escape or a click closes it. @param {{ src: string, alt: string, onClose: () => void }} props */
export function Viewer({ src, alt, onClose }) {
  useLayoutEffect(() => {
    const key = (/** @type {KeyboardEvent} */ e) => e.key === "Escape" && onClose();
    addEventListener("keydown", key);
    return () => removeEventListener("keydown", key);
  }, []);
  return html`<div class="viewer" role="dialog" aria-modal="true" aria-label="Image viewer" onClick=${onClose}>
    <img src=${src} alt=${alt} />
    <button class="close" onClick=${onClose} aria-label="Close">✕</button>
  </div>`;
}
