// Reactions under a message, the emoji picker, and the pinned-message bar with its list.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { ConversationKind } from "@switchboard/sdk/gen/conversations_pb.js";
import { humanError } from "./errors.js";
import { CustomEmoji, CustomEmojiRow } from "./expressions.js";
import { reactionKey } from "./state.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").Message} Message
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").PinnedMessage} PinnedMessage
 */

/** The emoji the picker offers. */
export const QUICK = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🔥", "🙏"];

/** Who reacted with one emoji, for the chip's tooltip (first page only). */
async function whoReacted(/** @type {AppState} */ app, /** @type {Message} */ m, /** @type {{ emoji: string, customEmojiId: string }} */ r0) {
  const req = { conversationId: m.conversationId, messageId: m.id, emoji: r0.emoji, customEmojiId: r0.customEmojiId, limit: 20 };
  const r = await app.sb.messages.listReactions(req);
  return r.reactors.map((x) => app.userName(x.userId)).join(", ");
}

/** The chips under a message. @param {{ app: AppState, m: Message, onError: (e: unknown) => void }} props */
export function Reactions({ app, m, onError }) {
  const [names, setNames] = useState(/** @type {Record<string, string>} */ ({}));
  if (m.deleted || m.reactions.length === 0) return null;
  const hover = (/** @type {{ emoji: string, customEmojiId: string }} */ r) => {
    const key = reactionKey(r);
    if (names[key] !== undefined) return;
    whoReacted(app, m, r).then((n) => setNames((x) => ({ ...x, [key]: n }))).catch(() => {});
  };
  const label = (/** @type {{ emoji: string, customEmojiId: string }} */ r) => {
    if (r.emoji) return r.emoji;
    const e = app.emojiOf(app.spaceOf(m.conversationId)).find((x) => x.id === r.customEmojiId);
    return e ? `:${e.name}:` : "a removed emoji";
  };
  return html`<div class="reactions" role="group" aria-label="Reactions">${m.reactions.map(
    (r) => html`<button class=${`reaction ${r.mine ? "mine" : ""}`} aria-pressed=${r.mine}
      title=${names[reactionKey(r)] ?? ""} aria-label=${`${label(r)} ${r.count}`}
      onMouseEnter=${() => hover(r)} onFocus=${() => hover(r)}
      onClick=${() => app.toggleReaction(m, r.emoji, r.customEmojiId).catch(onError)}>${r.emoji
        || html`<${CustomEmoji} app=${app} convId=${m.conversationId} id=${r.customEmojiId} />`} <span class="n">${r.count}</span></button>`,
  )}</div>`;
}

/** A row of emoji to react with. @param {{ app: AppState, m: Message, onClose: () => void, onError: (e: unknown) => void }} props */
export function ReactionPicker({ app, m, onClose, onError }) {
  useEffect(() => {
    const esc = (/** @type {KeyboardEvent} */ e) => e.key === "Escape" && onClose();
    addEventListener("keydown", esc);
    return () => removeEventListener("keydown", esc);
  }, []);
  return html`<div class="reaction-picker" role="menu" aria-label="React with">${QUICK.map(
    (e) => html`<button role="menuitem" aria-label=${`React with ${e}`} onClick=${() => {
      onClose();
      app.toggleReaction(m, e).catch(onError);
    }}>${e}</button>`,
  )}<${CustomEmojiRow} app=${app} convId=${m.conversationId} onPick=${(/** @type {string} */ id) => {
    onClose();
    app.toggleReaction(m, "", id).catch(onError);
  }} /></div>`;
}

/** Whether the caller may pin here (the server decides for space channels). @param {AppState} app @param {string} id */
export function canPin(app, id) {
  const c = app.convs.get(id);
  const kind = c?.conversation?.kind;
  if (kind === ConversationKind.DIRECT || kind === ConversationKind.SPACE_CHANNEL) return true;
  if (kind === ConversationKind.GROUP || kind === ConversationKind.CHANNEL) return !!c?.rights?.pin;
  return false;
}

/** A message's text for one line. @param {Message | undefined} m */
function line(m) {
  if (!m || m.deleted) return "";
  if (m.content.case === "sticker") return `${m.content.value.emoji} Sticker`;
  if (m.content.case !== "text") return "";
  const t = m.content.value;
  return t.text || (t.attachments.length ? "📎 Attachment" : "");
}

/**
 * The latest pin above the history, and the list of all pins when opened.
 * @param {{ app: AppState, id: string, onError: (e: unknown) => void }} props
 */
export function PinnedBar({ app, id, onError }) {
  const c = app.convs.get(id);
  const pinnedId = c?.conversation?.pinnedMessageId ?? "";
  const [latest, setLatest] = useState(/** @type {Message | undefined} */ (undefined));
  const [all, setAll] = useState(/** @type {PinnedMessage[] | null} */ (null));
  useEffect(() => {
    setLatest(undefined);
    if (!pinnedId) return;
    const known = app.historyOf(id).items.find((m) => m.id === pinnedId);
    if (known) setLatest(known);
    else app.sb.messages.getMessages({ conversationId: id, messageIds: [pinnedId] })
      .then((r) => setLatest(r.messages[0])).catch(() => {});
  }, [id, pinnedId]);
  useEffect(() => setAll(null), [id]);
  if (!pinnedId) return null;
  const open = async () => {
    if (all) return setAll(null);
    try {
      setAll((await app.sb.messages.listPinnedMessages({ conversationId: id, limit: 50 })).pins);
    } catch (e) {
      onError(e);
    }
  };
  const unpin = async (/** @type {string} */ mid) => {
    try {
      await app.sb.messages.unpinMessage({ conversationId: id, messageId: mid });
      setAll((x) => x && x.filter((p) => p.message?.id !== mid));
    } catch (e) {
      onError(e);
    }
  };
  return html`<div class="pinned-bar">
    <button class="pinned-latest" aria-expanded=${!!all} aria-label="Pinned messages" onClick=${open}>
      <span aria-hidden="true">📌</span> <span class="pinned-text">${line(latest) || "Pinned message"}</span>
    </button>
    ${all && html`<ul class="pinned-list" aria-label="All pinned messages">${all.map((p) => html`<li>
      <span class="sender">${app.userName(p.message?.senderId ?? "")}</span> ${line(p.message)}
      ${canPin(app, id) && html`<button class="small" onClick=${() => unpin(p.message?.id ?? "")}>Unpin</button>`}
    </li>`)}</ul>`}
  </div>`;
}
