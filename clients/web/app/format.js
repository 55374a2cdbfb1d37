// Message text with its entities (bold, italic, code, links, mentions, custom emoji), times and sizes.
import { html } from "htm/preact";
import { EntityKind } from "@switchboard/sdk/gen/messages_pb.js";

/**
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").TextContent} TextContent
 * @typedef {import("preact").ComponentChild} Child
 */

/**
 * The text as nodes: entities become elements, the rest stays text (never HTML).
 * @param {TextContent} content
 * @param {(userId: string) => string} name
 * @param {string} myId
 * @param {(customEmojiId: string, text: string) => Child} [emoji] shows a custom emoji (else its :name:)
 * @returns {Child[]}
 */
export function renderText(content, name, myId, emoji) {
  const chars = [...content.text];
  const entities = [...content.entities].sort((a, b) => a.offset - b.offset);
  /** @type {Child[]} */
  const out = [];
  let at = 0;
  for (const e of entities) {
    if (e.offset < at || e.offset + e.length > chars.length) continue;
    if (e.offset > at) out.push(...autolink(chars.slice(at, e.offset).join("")));
    const s = chars.slice(e.offset, e.offset + e.length).join("");
    switch (e.kind) {
      case EntityKind.BOLD:
        out.push(html`<strong>${s}</strong>`);
        break;
      case EntityKind.ITALIC:
        out.push(html`<em>${s}</em>`);
        break;
      case EntityKind.CODE:
        out.push(html`<code>${s}</code>`);
        break;
      case EntityKind.LINK:
        out.push(link(e.url || s, s));
        break;
      case EntityKind.MENTION:
        out.push(html`<span class=${e.userId === myId ? "mention me" : "mention"} title=${name(e.userId)}>${s}</span>`);
        break;
      case EntityKind.MENTION_ALL:
      case EntityKind.MENTION_ROLE:
        out.push(html`<span class="mention me">${s}</span>`);
        break;
      case EntityKind.CUSTOM_EMOJI:
        out.push(emoji ? emoji(e.customEmojiId, s) : s);
        break;
      default:
        out.push(s);
    }
    at = e.offset + e.length;
  }
  if (at < chars.length) out.push(...autolink(chars.slice(at).join("")));
  return out;
}

/** @param {string} href @param {string} text */
function link(href, text) {
  const safe = /^(https?:|mailto:)/i.test(href) ? href : `https://${href}`;
  return html`<a href=${safe} target="_blank" rel="noopener noreferrer nofollow">${text}</a>`;
}

/** Plain URLs in text without entities. @param {string} s @returns {Child[]} */
function autolink(s) {
  /** @type {Child[]} */
  const out = [];
  let last = 0;
  for (const m of s.matchAll(/https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g)) {
    const i = m.index ?? 0;
    if (i > last) out.push(s.slice(last, i));
    out.push(link(m[0], m[0]));
    last = i + m[0].length;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

/**
 * Markdown-ish input (**bold**, _italic_, `code`) to text and entities.
 * @param {string} input
 * @returns {{ text: string, entities: { kind: EntityKind, offset: number, length: number }[] }}
 */
export function parseMarkup(input) {
  /** @type {{ kind: EntityKind, offset: number, length: number }[]} */
  const entities = [];
  let text = "";
  const re = /\*\*([^*]+)\*\*|`([^`]+)`|(?<![\p{L}\p{N}])_([^_]+)_(?![\p{L}\p{N}])/gu;
  let last = 0;
  for (const m of input.matchAll(re)) {
    const i = m.index ?? 0;
    text += input.slice(last, i);
    const inner = m[1] ?? m[2] ?? m[3] ?? "";
    const kind = m[1] !== undefined ? EntityKind.BOLD : m[2] !== undefined ? EntityKind.CODE : EntityKind.ITALIC;
    entities.push({ kind, offset: [...text].length, length: [...inner].length });
    text += inner;
    last = i + m[0].length;
  }
  text += input.slice(last);
  return { text, entities };
}

/** @param {bigint | number} ms */
export function time(ms) {
  const d = new Date(Number(ms));
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toLocaleDateString([], { month: "short", day: "numeric" });
}

/** "last seen 5 minutes ago". @param {bigint | number} ms */
export function ago(ms) {
  const s = Math.max(0, (Date.now() - Number(ms)) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(Number(ms)).toLocaleDateString();
}

/** @param {number | bigint} n */
export function bytes(n) {
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  if (v < 1 << 20) return `${(v / 1024).toFixed(0)} KB`;
  if (v < 1 << 30) return `${(v / (1 << 20)).toFixed(1)} MB`;
  return `${(v / (1 << 30)).toFixed(1)} GB`;
}

/** "1 member", "3 members". @param {number} n @param {string} one @param {string} [many] */
export function count(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
