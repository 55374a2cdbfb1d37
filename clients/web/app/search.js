// Message search: a dialog with the query, a few filters, and the results with the words
// that matched marked; a result opens its conversation.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { SearchOrder } from "@switchboard/sdk/gen/search_pb.js";
import { go } from "./main.js";
import { humanError } from "./errors.js";
import { time } from "./format.js";
import { Modal } from "./dialogs.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/search_pb.js").SearchHit} SearchHit
 */

/** The snippet with its highlights as <mark>s. @param {{ hit: SearchHit }} props */
function Snippet({ hit }) {
  const chars = [...hit.snippet];
  /** @type {any[]} */
  const parts = [];
  let at = 0;
  for (const r of hit.highlights) {
    if (r.offset < at) continue;
    parts.push(chars.slice(at, r.offset).join(""));
    parts.push(html`<mark>${chars.slice(r.offset, r.offset + r.length).join("")}</mark>`);
    at = r.offset + r.length;
  }
  parts.push(chars.slice(at).join(""));
  return html`<span class="snippet">${parts}</span>`;
}

/**
 * Searches the messages I can see, everywhere or in the open chat.
 * @param {{ app: AppState, inConversation?: string, onClose: () => void }} props
 */
export function SearchDialog({ app, inConversation = "", onClose }) {
  const [query, setQuery] = useState("");
  const [here, setHere] = useState(!!inConversation);
  const [newest, setNewest] = useState(false);
  const [mentions, setMentions] = useState(false);
  const [files, setFiles] = useState(false);
  const [hits, setHits] = useState(/** @type {SearchHit[] | null} */ (null));
  const [next, setNext] = useState("");
  const [error, setError] = useState("");
  const request = (/** @type {string} */ cursor) => ({
    query,
    conversationId: here ? inConversation : "",
    order: newest ? SearchOrder.NEWEST : SearchOrder.RELEVANCE,
    mentionsMe: mentions,
    hasAttachments: files,
    limit: 20,
    cursor,
  });
  useEffect(() => {
    setError("");
    if (!/[\p{L}\p{N}]/u.test(query)) {
      setHits(null);
      return;
    }
    let stale = false;
    const t = setTimeout(async () => {
      try {
        const r = await app.sb.search.searchMessages(request(""));
        if (stale) return;
        setHits(r.hits);
        setNext(r.nextCursor);
        await app.needUsers(r.hits.map((h) => h.message?.senderId ?? ""));
      } catch (e) {
        if (!stale) setError(humanError(e));
      }
    }, 200);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [query, here, newest, mentions, files]);
  const more = async () => {
    try {
      const r = await app.sb.search.searchMessages(request(next));
      setHits((h) => [...(h ?? []), ...r.hits]);
      setNext(r.nextCursor);
    } catch (e) {
      setError(humanError(e));
    }
  };
  const open = (/** @type {SearchHit} */ h) => {
    onClose();
    go(`/c/${h.message?.conversationId}`);
  };
  const where = (/** @type {string} */ id) => {
    const c = app.convs.get(id);
    return c ? app.title(c) : "";
  };
  return html`<${Modal} title="Search messages" onClose=${onClose}>
    <input type="search" aria-label="Search messages" placeholder="Words to find" value=${query}
      onInput=${(/** @type {any} */ e) => setQuery(e.target.value)} />
    <div class="search-filters">
      ${inConversation && html`<label><input type="checkbox" checked=${here} onChange=${() => setHere(!here)} /> Only this chat</label>`}
      <label><input type="checkbox" checked=${newest} onChange=${() => setNewest(!newest)} /> Newest first</label>
      <label><input type="checkbox" checked=${mentions} onChange=${() => setMentions(!mentions)} /> Mentioning me</label>
      <label><input type="checkbox" checked=${files} onChange=${() => setFiles(!files)} /> With files</label>
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${hits && hits.length === 0 && html`<p class="hint">Nothing found.</p>`}
    ${hits && hits.length > 0 && html`<ul class="search-results" aria-label="Results">${hits.map(
      (h) => html`<li><button onClick=${() => open(h)}>
        <span class="result-head"><strong>${app.userName(h.message?.senderId ?? "")}</strong>
          <span class="hint">${where(h.message?.conversationId ?? "")} · ${time(h.message?.createdAtMs ?? 0n)}</span></span>
        <${Snippet} hit=${h} />
      </button></li>`,
    )}</ul>`}
    ${next && html`<button onClick=${more}>More results</button>`}
  <//>`;
}
