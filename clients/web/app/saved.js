// My saved messages: the list (latest saved first, a page at a time), each opening its
// conversation or taken off the list.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { go } from "./main.js";
import { humanError } from "./errors.js";
import { time } from "./format.js";
import { Modal } from "./dialogs.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").SavedMessage} SavedMessage
 */

/** @param {{ app: AppState, onClose: () => void }} props */
export function SavedDialog({ app, onClose }) {
  const [items, setItems] = useState(/** @type {SavedMessage[] | null} */ (null));
  const [next, setNext] = useState("");
  const [error, setError] = useState("");
  const load = async (/** @type {string} */ cursor) => {
    try {
      const r = await app.sb.messages.listSavedMessages({ limit: 30, cursor });
      setItems((x) => [...(cursor ? x ?? [] : []), ...r.saved]);
      setNext(r.nextCursor);
      await app.needUsers(r.saved.map((s) => s.message?.senderId ?? ""));
    } catch (e) {
      setError(humanError(e));
    }
  };
  useEffect(() => void load(""), []);
  const remove = async (/** @type {SavedMessage} */ s) => {
    const m = s.message;
    if (!m) return;
    try {
      if (app.saved.has(m.id)) await app.toggleSaved(m);
      else await app.sb.messages.unsaveMessage({ conversationId: m.conversationId, messageId: m.id });
      setItems((x) => (x ?? []).filter((i) => i !== s));
    } catch (e) {
      setError(humanError(e));
    }
  };
  const where = (/** @type {string} */ id) => {
    const c = app.convs.get(id);
    return c ? app.title(c) : "";
  };
  const body = (/** @type {SavedMessage} */ s) => {
    const m = s.message;
    if (!m || m.deleted) return "Message deleted";
    if (m.content.case === "sticker") return `${m.content.value.emoji} Sticker`;
    return m.content.case === "text" ? m.content.value.text || "📎 Attachment" : "";
  };
  return html`<${Modal} title="Saved messages" onClose=${onClose}>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${items && items.length === 0 && html`<p class="hint">Nothing saved yet. Save a message with 🔖.</p>`}
    ${items && items.length > 0 && html`<ul class="search-results" aria-label="Saved">${items.map(
      (s) => html`<li class="saved-item">
        <button onClick=${() => { onClose(); go(`/c/${s.message?.conversationId}`); }}>
          <span class="result-head"><strong>${app.userName(s.message?.senderId ?? "")}</strong>
            <span class="hint">${where(s.message?.conversationId ?? "")} · ${time(s.message?.createdAtMs ?? 0n)}</span></span>
          <span class="snippet">${body(s)}</span>
        </button>
        <button class="small" aria-label="Remove from saved" onClick=${() => remove(s)}>✕</button>
      </li>`,
    )}</ul>`}
    ${next && html`<button onClick=${() => load(next)}>More</button>`}
  <//>`;
}
