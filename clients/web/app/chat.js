// The chat view: header, the virtualised history, the composer, and the side panels
// (thread, members).
import { html } from "htm/preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ConversationKind, MemberRole } from "@switchboard/sdk/gen/conversations_pb.js";
import { PresenceStatus } from "@switchboard/sdk/gen/signals_pb.js";
import { go } from "./main.js";
import { ago, renderText, time, count } from "./format.js";
import { humanError } from "./errors.js";
import { Attachment, Viewer } from "./media.js";
import { Composer } from "./composer.js";
import { InviteDialog, Modal } from "./dialogs.js";
import { Dot } from "./sidebar.js";
import { PinnedBar, ReactionPicker, Reactions, canPin } from "./reactions.js";
import { serviceText } from "./service.js";
import { SearchDialog } from "./search.js";
import { ScheduledBar } from "./scheduled.js";
import { LinkPreviews } from "./previews.js";
import { CustomEmoji, StickerView } from "./expressions.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("./state.js").Pending} Pending
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").Message} Message
 */

/** Messages in the DOM at once, whatever the history's length. */
const WINDOW = 120;
/** How far the window moves when the reader nears one of its ends. */
const STEP = 40;

/**
 * One message.
 * @param {{ app: AppState, m: Message, convId: string, first: boolean, seen: string[], quoted: Message | undefined,
 *   onAction: (action: string, m: Message, err?: unknown) => void, onImage: (src: string, alt: string) => void }} props
 */
function MessageItem({ app, m, convId, first, seen, quoted, onAction, onImage }) {
  const [picking, setPicking] = useState(false);
  const [revealed, setRevealed] = useState(false);
  if (m.content.case === "service") {
    return html`<li class="service" data-seq=${String(m.seq)} role="article">${serviceText(app, m)}</li>`;
  }
  if (app.blocked.has(m.senderId) && !revealed) {
    return html`<li class="msg hidden-blocked" data-seq=${String(m.seq)} role="article" aria-label="A message from someone you blocked">
      <span class="muted">Message from someone you blocked</span> <button class="link" onClick=${() => setRevealed(true)}>Show</button>
    </li>`;
  }
  const mine = m.senderId === app.me?.id;
  const text = m.content.case === "text" ? m.content.value : null;
  const sticker = m.content.case === "sticker" ? m.content.value : null;
  const emoji = (/** @type {string} */ id, /** @type {string} */ s) => html`<${CustomEmoji} app=${app} convId=${m.conversationId} id=${id} text=${s} />`;
  return html`<li class=${`msg ${mine ? "mine" : ""} ${first ? "first" : ""}`} data-seq=${String(m.seq)} tabindex="0" role="article"
    aria-label=${`${app.userName(m.senderId)} at ${time(m.createdAtMs)}`}
    onKeyDown=${(/** @type {KeyboardEvent} */ e) => {
      const li = /** @type {HTMLElement} */ (e.currentTarget);
      if (e.target !== li) return;
      if (e.key === "r") onAction("reply", m);
      if (e.key === "e" && mine && text) onAction("edit", m);
      if (e.key === "ArrowUp") /** @type {HTMLElement | null} */ (li.previousElementSibling)?.focus();
      if (e.key === "ArrowDown") /** @type {HTMLElement | null} */ (li.nextElementSibling)?.focus();
    }}>
    ${first && html`<div class="msg-head"><span class="sender">${app.userName(m.senderId)}</span><time>${time(m.createdAtMs)}</time></div>`}
    ${(m.important || m.silent) && html`<div class="flags">${m.important && html`<span class="flag important">❗ Important</span>`}${m.silent && html`<span class="flag" title="Sent silently">🔕</span>`}</div>`}
    ${m.forward && html`<div class="forwarded">Forwarded from ${app.userName(m.forward.senderId)}</div>`}
    ${quoted && html`<blockquote class="quote"><strong>${app.userName(quoted.senderId)}</strong> ${quoted.content.case === "text" ? quoted.content.value.text.slice(0, 120) : ""}</blockquote>`}
    ${m.deleted
      ? html`<div class="body deleted">Message deleted</div>`
      : sticker ? html`<div class="body sticker-body"><${StickerView} app=${app} s=${sticker} /></div>`
      : text && html`<div class="body">${renderText(text, (u) => app.userName(u), app.me?.id ?? "", emoji)}${m.editedAtMs ? html` <span class="edited">(edited)</span>` : ""}</div>`}
    ${text && text.attachments.length > 0 && !m.deleted && html`<div class="attachments">${text.attachments.map(
      (a) => html`<${Attachment} key=${a.fileId} sb=${app.sb} file=${a.file} fileId=${a.fileId} alt=${a.alt} onOpen=${onImage} />`,
    )}</div>`}
    <${LinkPreviews} sb=${app.sb} m=${m} />
    <${Reactions} app=${app} m=${m} onError=${(/** @type {unknown} */ e) => onAction("error", m, e)} />
    ${picking && html`<${ReactionPicker} app=${app} m=${m} onClose=${() => setPicking(false)} onError=${(/** @type {unknown} */ e) => onAction("error", m, e)} />`}
    ${m.thread && m.thread.replyCount > 0 && html`<button class="thread-link" onClick=${() => onAction("thread", m)}>
      ${m.thread.replyCount} ${m.thread.replyCount === 1 ? "reply" : "replies"}</button>`}
    ${seen.length > 0 && html`<div class="seen" aria-label="Seen by">Seen by ${seen.map((u) => app.userName(u)).join(", ")}</div>`}
    ${!m.deleted && html`<div class="actions" role="toolbar" aria-label="Message actions">
      <button onClick=${() => setPicking(!picking)} title="React" aria-label="React" aria-expanded=${picking}>☺</button>
      <button onClick=${() => onAction("reply", m)} title="Reply" aria-label="Reply">↩</button>
      ${convKind(app, convId) !== ConversationKind.THREAD && html`<button onClick=${() => onAction("thread", m)} title="Reply in thread" aria-label="Reply in thread">🧵</button>`}
      <button onClick=${() => onAction("forward", m)} title="Forward" aria-label="Forward">↪</button>
      <button onClick=${() => onAction("save", m)} title=${app.saved.has(m.id) ? "Remove from saved" : "Save"}
        aria-label=${app.saved.has(m.id) ? "Remove from saved" : "Save"} aria-pressed=${app.saved.has(m.id)}>🔖</button>
      ${canPin(app, convId) && (app.convs.get(convId)?.conversation?.pinnedMessageId === m.id
        ? html`<button onClick=${() => onAction("unpin", m)} title="Unpin" aria-label="Unpin">📍</button>`
        : html`<button onClick=${() => onAction("pin", m)} title="Pin" aria-label="Pin">📌</button>`)}
      ${mine && text && html`<button onClick=${() => onAction("edit", m)} title="Edit" aria-label="Edit">✎</button>`}
      ${mine && html`<button onClick=${() => onAction("delete", m)} title="Delete" aria-label="Delete">🗑</button>`}
    </div>`}
  </li>`;
}

/** @param {AppState} app @param {string} id */
function convKind(app, id) {
  return app.convs.get(id)?.conversation?.kind;
}

/** A message being sent, or that failed (with retry). @param {{ app: AppState, id: string, p: Pending }} props */
function PendingItem({ app, id, p }) {
  const drop = () => {
    app.pending.set(id, (app.pending.get(id) ?? []).filter((x) => x !== p));
    app.changed();
  };
  return html`<li class=${`msg mine pending ${p.state}`} role="article" aria-label=${p.state === "failed" ? "Not sent" : "Sending"}>
    <div class="body">${p.text}${p.fileIds.length ? ` 📎×${p.fileIds.length}` : ""}</div>
    ${p.state === "sending"
      ? html`<div class="seen">Sending…</div>`
      : html`<div class="error" role="alert">${p.error} <button onClick=${() => app.deliver(id, p)}>Retry</button> <button onClick=${drop}>Discard</button></div>`}
  </li>`;
}

/**
 * The history, windowed: at most WINDOW messages are in the DOM; scrolling near an end
 * moves the window (and loads older pages from the server), keeping what is on screen
 * where it was.
 * @param {{ app: AppState, id: string, onAction: (action: string, m: Message, err?: unknown) => void, onImage: (src: string, alt: string) => void }} props
 */
function MessageList({ app, id, onAction, onImage }) {
  const h = app.historyOf(id);
  const items = h.items;
  const pending = app.pending.get(id) ?? [];
  const [end, setEnd] = useState(/** @type {number | null} */ (null)); // null: follow the newest
  const ref = useRef(/** @type {HTMLOListElement | null} */ (null));
  const anchor = useRef(/** @type {{ seq: string, top: number } | null} */ (null));
  const stick = useRef(true);
  useEffect(() => {
    setEnd(null);
    stick.current = true;
  }, [id]);
  const stop = end === null ? items.length : Math.min(end, items.length);
  const start = Math.max(0, stop - WINDOW);
  const shown = items.slice(start, stop);

  /** Remembers the first message on screen, to put it back after the DOM changes. */
  const remember = () => {
    const el = ref.current;
    if (!el) return;
    for (const li of /** @type {NodeListOf<HTMLElement>} */ (el.querySelectorAll("li[data-seq]"))) {
      if (li.offsetTop + li.offsetHeight > el.scrollTop) {
        anchor.current = { seq: li.dataset.seq ?? "", top: li.offsetTop - el.scrollTop };
        return;
      }
    }
  };
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (stick.current && end === null) {
      el.scrollTop = el.scrollHeight;
      return;
    }
    const a = anchor.current;
    if (a) {
      const li = /** @type {HTMLElement | null} */ (el.querySelector(`li[data-seq="${a.seq}"]`));
      if (li) el.scrollTop = li.offsetTop - a.top;
      anchor.current = null;
    }
  });
  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    stick.current = fromBottom < 40 && stop >= items.length;
    if (el.scrollTop < 300) {
      if (start > 0) {
        remember();
        setEnd(Math.max(WINDOW, stop - STEP));
      } else if (h.hasMoreBefore && !h.loading) {
        remember();
        void app.loadOlder(id);
      }
    } else if (fromBottom < 300 && end !== null) {
      remember();
      const next = stop + STEP;
      setEnd(next >= items.length ? null : next);
    }
  };
  const mine = app.me?.id ?? "";
  const lastMine = [...shown].reverse().find((m) => m.senderId === mine && m.content.case === "text");
  const byId = new Map(shown.map((m) => [m.id, m]));
  return html`<ol class="messages" ref=${ref} onScroll=${onScroll} role="log" aria-live="polite" aria-label="Messages" tabindex="0">
    ${start === 0 && !h.hasMoreBefore && html`<li class="service">This is the beginning of the conversation.</li>`}
    ${(h.loading || start > 0 || h.hasMoreBefore) && html`<li class="service loading-more">${h.loading ? "Loading…" : ""}</li>`}
    ${shown.map((m, i) => {
      const prev = shown[i - 1];
      const first = !prev || prev.senderId !== m.senderId || prev.content.case === "service" || Number(m.createdAtMs - prev.createdAtMs) > 300000;
      const seen = m === lastMine ? app.seenBy(id, m) : [];
      return html`<${MessageItem} key=${String(m.seq)} app=${app} m=${m} convId=${id} first=${first} seen=${seen}
        quoted=${m.replyToMessageId ? byId.get(m.replyToMessageId) : undefined} onAction=${onAction} onImage=${onImage} />`;
    })}
    ${end === null && (app.online.get(id) ?? []).map((m) => html`<li class=${`msg online ${m.senderId === mine ? "mine" : ""}`} role="article"
      aria-label=${`${app.userName(m.senderId)}, online only`} key=${`online-${m.clientKey}-${m.createdAtMs}`}>
      <div class="msg-head"><span class="sender">${app.userName(m.senderId)}</span><span class="flag">online only, not kept</span></div>
      <div class="body">${m.content.case === "text" ? renderText(m.content.value, (u) => app.userName(u), mine) : ""}</div>
    </li>`)}
    ${end === null && pending.map((p) => html`<${PendingItem} key=${p.clientKey} app=${app} id=${id} p=${p} />`)}
  </ol>`;
}

/** Someone is typing. @param {{ app: AppState, id: string }} props */
function TypingLine({ app, id }) {
  const [, tick] = useState(0);
  const who = app.typingIn(id);
  useEffect(() => {
    if (!who.length) return;
    const t = setTimeout(() => tick((n) => n + 1), 1000);
    return () => clearTimeout(t);
  });
  const text = who.length === 0 ? "" : who.length === 1 ? `${app.userName(who[0])} is typing…` : `${who.length} people are typing…`;
  return html`<div class="typing" aria-live="polite">${text}</div>`;
}

/** Members with their roles. @param {{ app: AppState, id: string, onClose: () => void }} props */
function MembersPanel({ app, id, onClose }) {
  const members = app.reads.get(id);
  const [roles, setRoles] = useState(/** @type {Map<string, MemberRole>} */ (new Map()));
  useEffect(() => {
    app.sb.conversations
      .listMembers({ conversationId: id, limit: 200 })
      .then((r) => setRoles(new Map(r.members.map((m) => [m.userId, m.role]))))
      .catch(() => {});
  }, [id]);
  const label = (/** @type {MemberRole | undefined} */ r) => (r === MemberRole.OWNER ? "owner" : r === MemberRole.ADMIN ? "admin" : "");
  return html`<aside class="side-panel" aria-label="Members">
    <header><h2>Members</h2><button class="close" aria-label="Close" onClick=${onClose}>✕</button></header>
    <ul class="members">${[...(members?.keys() ?? [])].map(
      (u) => html`<li><${Dot} app=${app} userId=${u} /> ${app.userName(u)} <span class="hint">${label(roles.get(u))}</span></li>`,
    )}</ul>
  </aside>`;
}

/** A thread beside its conversation. @param {{ app: AppState, parentId: string, threadId: string, onImage: (src: string, alt: string) => void }} props */
function ThreadPanel({ app, parentId, threadId, onImage }) {
  const [reply, setReply] = useState(/** @type {Message | null} */ (null));
  const [edit, setEdit] = useState(/** @type {Message | null} */ (null));
  useEffect(() => {
    if (!app.convs.has(threadId)) void app.refreshConversation(threadId);
    void app.loadReads(threadId);
  }, [threadId]);
  const onAction = (/** @type {string} */ a, /** @type {Message} */ m) => {
    if (a === "reply") setReply(m);
    if (a === "edit") setEdit(m);
    if (a === "delete") void app.sb.messages.deleteMessages({ conversationId: threadId, messageIds: [m.id], forEveryone: true });
  };
  return html`<aside class="side-panel thread" aria-label="Thread">
    <header><h2>Thread</h2><button class="close" aria-label="Close thread" onClick=${() => go(`/c/${parentId}`)}>✕</button></header>
    <${MessageList} app=${app} id=${threadId} onAction=${onAction} onImage=${onImage} />
    <${TypingLine} app=${app} id=${threadId} />
    <${Composer} app=${app} id=${threadId} reply=${reply} edit=${edit} onDone=${() => { setReply(null); setEdit(null); }} />
  </aside>`;
}

/** Picks where to forward a message. @param {{ app: AppState, from: Message, onClose: () => void }} props */
function ForwardDialog({ app, from, onClose }) {
  const [error, setError] = useState("");
  const send = async (/** @type {string} */ to) => {
    try {
      await app.sb.messages.sendMessage({ conversationId: to, clientKey: crypto.randomUUID(), forwardFrom: { conversationId: from.conversationId, messageId: from.id } });
      onClose();
      go(`/c/${to}`);
    } catch (e) {
      setError(humanError(e));
    }
  };
  return html`<${Modal} title="Forward to…" onClose=${onClose}>
    <ul class="picks">${app.chatList().map((c) => html`<li><button onClick=${() => send(c.conversation?.id ?? "")}>${app.title(c)}</button></li>`)}</ul>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  <//>`;
}

/** @param {{ app: AppState, id: string, thread: string, onBack: () => void }} props */
export function ChatView({ app, id, thread, onBack }) {
  const c = app.convs.get(id);
  const [reply, setReply] = useState(/** @type {Message | null} */ (null));
  const [edit, setEdit] = useState(/** @type {Message | null} */ (null));
  const [forward, setForward] = useState(/** @type {Message | null} */ (null));
  const [image, setImage] = useState(/** @type {{ src: string, alt: string } | null} */ (null));
  const [panel, setPanel] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    setReply(null);
    setEdit(null);
    setPanel("");
  }, [id]);
  if (!c?.conversation) return html`<div class="empty-main"><p>Loading…</p></div>`;
  const conv = c.conversation;
  const onAction = async (/** @type {string} */ a, /** @type {Message} */ m, /** @type {unknown} */ err) => {
    setError("");
    try {
      if (a === "error") throw err;
      if (a === "pin" || a === "unpin") await app.setPin(m, a === "pin");
      else if (a === "save") await app.toggleSaved(m);
      else if (a === "reply") setReply(m);
      else if (a === "edit") setEdit(m);
      else if (a === "forward") setForward(m);
      else if (a === "delete") {
        if (confirm("Delete this message for everyone?")) await app.sb.messages.deleteMessages({ conversationId: id, messageIds: [m.id], forEveryone: true });
      } else if (a === "thread") {
        const r = await app.sb.threads.startThread({ conversationId: id, messageId: m.id });
        const t = r.thread?.conversation;
        if (t) {
          app.convs.set(t.id, app.convs.get(t.id) ?? /** @type {any} */ ({ conversation: t, unreadCount: 0, mentionCount: 0, readSeq: 0n }));
          go(`/c/${id}/t/${t.id}`);
        }
      }
    } catch (e) {
      setError(humanError(e));
    }
  };
  const setting = async (/** @type {{ pinned?: boolean, archived?: boolean, mutedUntilMs?: bigint }} */ s) => {
    try {
      const r = await app.sb.conversations.updateMemberSettings({ conversationId: id, ...s });
      c.settings = r.settings;
      app.changed();
    } catch (e) {
      setError(humanError(e));
    }
  };
  const muted = Number(c.settings?.mutedUntilMs ?? 0n) > Date.now();
  let subtitle = "";
  if (conv.kind === ConversationKind.DIRECT) {
    const p = app.presence.get(conv.peerUserId);
    subtitle = p?.status === PresenceStatus.ONLINE ? "online" : p?.status === PresenceStatus.AWAY ? "away" : p?.lastSeenAtMs ? `last seen ${ago(p.lastSeenAtMs)}` : "";
  } else subtitle = count(conv.memberCount, "member");
  const canInvite = conv.kind === ConversationKind.GROUP || conv.kind === ConversationKind.CHANNEL;
  return html`<section class=${`chat ${thread ? "with-thread" : ""} ${panel ? "with-panel" : ""}`} aria-label=${app.title(c)}>
    <header class="chat-head">
      <button class="back" aria-label="Back to chats" onClick=${onBack}>←</button>
      <div class="chat-title">
        <h1>${conv.kind === ConversationKind.DIRECT && html`<${Dot} app=${app} userId=${conv.peerUserId} /> `}${app.title(c)}</h1>
        <span class="hint">${subtitle}</span>
      </div>
      <div class="chat-actions">
        <button onClick=${() => setting({ pinned: !c.settings?.pinned })} aria-pressed=${!!c.settings?.pinned}>${c.settings?.pinned ? "Unpin chat" : "Pin chat"}</button>
        <button onClick=${() => setting({ mutedUntilMs: muted ? 0n : BigInt(Date.now() + 8 * 3600_000) })} aria-pressed=${muted}>${muted ? "Unmute" : "Mute"}</button>
        <button onClick=${() => setting({ archived: !c.settings?.archived })} aria-pressed=${!!c.settings?.archived}>${c.settings?.archived ? "Unarchive" : "Archive"}</button>
        ${conv.kind !== ConversationKind.DIRECT && html`<button onClick=${() => setPanel(panel === "members" ? "" : "members")}>Members</button>`}
        ${canInvite && html`<button onClick=${() => setPanel("invite")}>Invite</button>`}
        <button onClick=${() => setPanel("search")} title="Search in this chat">Search</button>
      </div>
    </header>
    ${error && html`<p class="error banner-error" role="alert">${error}</p>`}
    <${PinnedBar} app=${app} id=${id} onError=${(/** @type {unknown} */ e) => setError(humanError(e))} />
    <${ScheduledBar} app=${app} id=${id} />
    <div class="chat-body">
      <div class="chat-main">
        <${MessageList} app=${app} id=${id} onAction=${onAction} onImage=${(/** @type {string} */ src, /** @type {string} */ alt) => setImage({ src, alt })} />
        <${TypingLine} app=${app} id=${id} />
        <${Composer} app=${app} id=${id} reply=${reply} edit=${edit} onDone=${() => { setReply(null); setEdit(null); }} />
      </div>
      ${thread && html`<${ThreadPanel} app=${app} parentId=${id} threadId=${thread} onImage=${(/** @type {string} */ src, /** @type {string} */ alt) => setImage({ src, alt })} />`}
      ${panel === "members" && html`<${MembersPanel} app=${app} id=${id} onClose=${() => setPanel("")} />`}
    </div>
    ${panel === "invite" && html`<${InviteDialog} app=${app} conversationId=${id} onClose=${() => setPanel("")} />`}
    ${panel === "search" && html`<${SearchDialog} app=${app} inConversation=${id} onClose=${() => setPanel("")} />`}
    ${forward && html`<${ForwardDialog} app=${app} from=${forward} onClose=${() => setForward(null)} />`}
    ${image && html`<${Viewer} src=${image.src} alt=${image.alt} onClose=${() => setImage(null)} />`}
  </section>`;
}
