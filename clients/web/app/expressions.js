// Stickers and custom emoji: a sticker in a message, custom emoji in text and reactions,
// and the sticker picker of the composer.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { humanError } from "./errors.js";
import { fileUrl } from "./media.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").StickerContent} StickerContent
 * @typedef {import("@switchboard/sdk/gen/expressions_pb.js").StickerPack} StickerPack
 */

/** An image of a public file, fetched once per page. @param {{ app: AppState, fileId: string, alt: string, className: string }} props */
function FileImage({ app, fileId, alt, className }) {
  const [src, setSrc] = useState("");
  useEffect(() => {
    let live = true;
    if (fileId) fileUrl(app.sb, fileId).then((u) => live && setSrc(u)).catch(() => {});
    return () => {
      live = false;
    };
  }, [fileId]);
  return src ? html`<img class=${className} src=${src} alt=${alt} title=${alt} />` : html`<span class=${`${className} pending-img`}>${alt}</span>`;
}

/** A sticker as a message shows it. @param {{ app: AppState, s: StickerContent }} props */
export function StickerView({ app, s }) {
  if (!s.file) return html`<div class="sticker gone" aria-label="Sticker">${s.emoji}</div>`;
  return html`<${FileImage} app=${app} fileId=${s.fileId} alt=${`${s.emoji} sticker`} className="sticker" />`;
}

/**
 * A custom emoji of a conversation's space in text or a reaction; its :name: (or a
 * placeholder) when the space no longer has it.
 * @param {{ app: AppState, convId: string, id: string, text?: string }} props
 */
export function CustomEmoji({ app, convId, id, text }) {
  const e = app.emojiOf(app.spaceOf(convId)).find((x) => x.id === id);
  if (!e) return html`<span class="custom-emoji missing">${text || "◌"}</span>`;
  return html`<${FileImage} app=${app} fileId=${e.fileId} alt=${`:${e.name}:`} className="custom-emoji" />`;
}

/** The custom emoji of the conversation's space, to react with. @param {{ app: AppState, convId: string, onPick: (id: string) => void }} props */
export function CustomEmojiRow({ app, convId, onPick }) {
  const list = app.emojiOf(app.spaceOf(convId));
  return list.map((e) => html`<button role="menuitem" aria-label=${`React with :${e.name}:`} onClick=${() => onPick(e.id)}>
    <${FileImage} app=${app} fileId=${e.fileId} alt=${`:${e.name}:`} className="custom-emoji" /></button>`);
}

/**
 * The stickers usable here (the server's packs, then the space's), one click to send.
 * @param {{ app: AppState, id: string, onClose: () => void }} props
 */
export function StickerPicker({ app, id, onClose }) {
  const [packs, setPacks] = useState(/** @type {StickerPack[] | null} */ (null));
  const [error, setError] = useState("");
  useEffect(() => {
    app.stickerPacks(id).then(setPacks).catch((e) => setError(humanError(e)));
    const esc = (/** @type {KeyboardEvent} */ e) => e.key === "Escape" && onClose();
    addEventListener("keydown", esc);
    return () => removeEventListener("keydown", esc);
  }, [id]);
  const send = async (/** @type {string} */ pack, /** @type {string} */ sticker) => {
    try {
      await app.sendSticker(id, pack, sticker);
      onClose();
    } catch (e) {
      setError(humanError(e));
    }
  };
  const any = packs?.some((p) => p.stickers.length > 0);
  return html`<div class="sticker-picker" role="dialog" aria-label="Stickers">
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${packs === null && !error && html`<p class="muted">Loading stickers…</p>`}
    ${packs !== null && !any && html`<p class="muted">No stickers here yet.</p>`}
    ${packs?.filter((p) => p.stickers.length > 0).map((p) => html`<section class="sticker-pack" aria-label=${p.name}>
      <h3>${p.name}</h3>
      <div class="sticker-grid">${p.stickers.map((s) => html`<button type="button" aria-label=${`Send sticker ${s.emoji} from ${p.name}`}
        onClick=${() => send(p.id, s.id)}><${FileImage} app=${app} fileId=${s.fileId} alt=${s.emoji} className="sticker-thumb" /></button>`)}</div>
    </section>`)}
  </div>`;
}
