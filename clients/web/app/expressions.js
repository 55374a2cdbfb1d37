// Stickers and custom emoji: a sticker in a message, custom emoji in text and reactions,
// the sticker picker of the composer, and the space managers' screen for both.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { uploadFile } from "@switchboard/sdk";
import { humanError } from "./errors.js";
import { count } from "./format.js";
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

/**
 * A space's custom emoji and sticker packs, for its managers: add and remove emoji, make
 * and delete packs, add and remove their stickers.
 * @param {{ app: AppState, space: import("@switchboard/sdk/gen/spaces_pb.js").Space, act: (f: () => Promise<unknown>) => Promise<void> }} props
 */
export function ExpressionsAdmin({ app, space, act }) {
  const [packs, setPacks] = useState(/** @type {StickerPack[] | null} */ (null));
  const [version, setVersion] = useState(0);
  useEffect(() => {
    app.sb.expressions.listStickerPacks({ spaceId: space.id }).then((r) => setPacks(r.packs)).catch(() => setPacks([]));
  }, [space.id, version]);
  const emoji = app.emojiOf(space.id);
  /** Runs a change, then reloads the emoji and packs. @param {() => Promise<unknown>} f */
  const change = (f) => act(f).then(() => {
    app.emoji.delete(space.id);
    setVersion((v) => v + 1);
  });
  const image = async (/** @type {HTMLFormElement} */ form, /** @type {string} */ field) => {
    const file = /** @type {HTMLInputElement} */ (form.elements.namedItem(field)).files?.[0];
    if (!file) throw new Error("Choose an image first.");
    return uploadFile(app.sb, { blob: file, name: file.name, isPublic: true });
  };
  const addEmoji = (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const name = String(new FormData(form).get("name") ?? "").trim();
    void change(async () => {
      await app.sb.expressions.addCustomEmoji({ spaceId: space.id, name, fileId: await image(form, "image") });
      form.reset();
    });
  };
  const createPack = (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const name = String(new FormData(form).get("name") ?? "").trim();
    void change(async () => {
      await app.sb.expressions.createStickerPack({ spaceId: space.id, name });
      form.reset();
    });
  };
  const addSticker = (/** @type {SubmitEvent} */ e, /** @type {string} */ packId) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const emojiText = String(new FormData(form).get("emoji") ?? "").trim();
    void change(async () => {
      await app.sb.expressions.addSticker({ packId, emoji: emojiText, fileId: await image(form, "image") });
      form.reset();
    });
  };
  return html`<div class="stack">
    <section aria-label="Custom emoji">
      <h2>Custom emoji</h2>
      <form class="row" onSubmit=${addEmoji}>
        <input name="name" aria-label="Emoji name" placeholder="name (a-z, 0-9, _)" required pattern="[a-z0-9_]{2,32}" />
        <input name="image" type="file" accept="image/png,image/jpeg,image/webp,image/gif" aria-label="Emoji image" required />
        <button type="submit">Add emoji</button>
      </form>
      ${emoji.length === 0 ? html`<p class="muted">No custom emoji yet.</p>` : html`<ul class="plain">${emoji.map((e) => html`<li key=${e.id} class="row">
        <${FileImage} app=${app} fileId=${e.fileId} alt=${`:${e.name}:`} className="custom-emoji" /> <code>:${e.name}:</code>
        <button class="danger" onClick=${() => change(() => app.sb.expressions.removeCustomEmoji({ spaceId: space.id, customEmojiId: e.id }))}>Remove :${e.name}:</button>
      </li>`)}</ul>`}
    </section>
    <section aria-label="Sticker packs">
      <h2>Sticker packs</h2>
      <form class="row" onSubmit=${createPack}>
        <input name="name" aria-label="Pack name" placeholder="New pack" required maxlength="64" />
        <button type="submit">Create pack</button>
      </form>
      ${packs?.map((p) => html`<div key=${p.id} class="sticker-pack" role="group" aria-label=${`Pack ${p.name}`}>
        <div class="row"><strong>${p.name}</strong><span class="muted">${count(p.stickers.length, "sticker")}</span>
          <button class="danger" onClick=${() => confirm(`Delete the pack ${p.name}?`) && change(() => app.sb.expressions.deleteStickerPack({ packId: p.id }))}>Delete pack</button></div>
        <div class="sticker-grid">${p.stickers.map((s) => html`<button type="button" aria-label=${`Remove sticker ${s.emoji}`}
          title="Remove" onClick=${() => change(() => app.sb.expressions.removeSticker({ packId: p.id, stickerId: s.id }))}>
          <${FileImage} app=${app} fileId=${s.fileId} alt=${s.emoji} className="sticker-thumb" /></button>`)}</div>
        <form class="row" onSubmit=${(/** @type {SubmitEvent} */ e) => addSticker(e, p.id)}>
          <input name="emoji" aria-label="Sticker emoji" placeholder="🙂" required maxlength="16" size="4" />
          <input name="image" type="file" accept="image/png,image/jpeg,image/webp,image/gif" aria-label="Sticker image" required />
          <button type="submit">Add sticker</button>
        </form>
      </div>`)}
    </section>
  </div>`;
}
