// The sidebar: the spaces rail, then either the chat list (direct chats, groups and
// broadcast channels by activity) or the selected space's folders and channels.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { ConversationKind } from "@switchboard/sdk/gen/conversations_pb.js";
import { Permission } from "@switchboard/sdk/gen/spaces_pb.js";
import { PresenceStatus } from "@switchboard/sdk/gen/signals_pb.js";
import { go } from "./main.js";
import { time, count } from "./format.js";
import { serviceText } from "./service.js";
import { NewChat, NewSpace, NewChannel, InviteDialog } from "./dialogs.js";
import { SearchDialog } from "./search.js";
import { SavedDialog } from "./saved.js";
import { ContactsDialog } from "./contacts.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/conversations_pb.js").ConversationView} ConversationView
 */

/** Unread and mention badges. @param {{ c: ConversationView | undefined }} props */
function Badges({ c }) {
  if (!c) return null;
  const muted = Number(c.settings?.mutedUntilMs ?? 0n) > Date.now();
  return html`<span class="badges">
    ${c.importantCount > 0 && html`<span class="badge important" aria-label=${`${c.importantCount} important`}>❗${c.importantCount}</span>`}
    ${c.mentionCount > 0 && html`<span class="badge mention" aria-label=${`${c.mentionCount} mentions`}>@${c.mentionCount}</span>`}
    ${c.unreadCount > 0 && html`<span class=${`badge ${muted ? "muted" : ""}`} aria-label=${`${c.unreadCount} unread`}>${c.unreadCount}</span>`}
  </span>`;
}

/** A presence dot for a user. @param {{ app: AppState, userId: string }} props */
export function Dot({ app, userId }) {
  const p = app.presence.get(userId);
  const s = p?.status === PresenceStatus.ONLINE ? "online" : p?.status === PresenceStatus.AWAY ? "away" : "offline";
  return html`<span class=${`dot ${s}`} title=${s} aria-label=${s}></span>`;
}

/** @param {{ app: AppState, c: ConversationView, current: boolean }} props */
function ChatRow({ app, c, current }) {
  const conv = c.conversation;
  if (!conv) return null;
  const last = c.lastMessage;
  let preview = "";
  if (last?.deleted) preview = "Message deleted";
  else if (last?.content.case === "sticker") preview = `${last.content.value.emoji} Sticker`;
  else if (last?.content.case === "text") preview = last.content.value.text || (last.content.value.attachments.length ? "📎 Attachment" : "");
  else if (last?.content.case === "service") preview = serviceText(app, last);
  const who = last && last.content.case !== "service" && last.senderId !== app.me?.id && conv.kind !== ConversationKind.DIRECT ? `${app.userName(last.senderId)}: ` : "";
  const icon = conv.kind === ConversationKind.DIRECT ? html`<${Dot} app=${app} userId=${conv.peerUserId} />` : conv.kind === ConversationKind.CHANNEL ? "📢" : "#";
  return html`<li>
    <a href=${`/c/${conv.id}`} class=${`row ${current ? "current" : ""} ${c.unreadCount ? "unread" : ""}`} aria-current=${current ? "page" : undefined}
      onClick=${(/** @type {MouseEvent} */ e) => { e.preventDefault(); go(`/c/${conv.id}`); }}>
      <span class="row-icon" aria-hidden="true">${icon}</span>
      <span class="row-main">
        <span class="row-title">${c.settings?.pinned ? "📌 " : ""}${app.title(c)}</span>
        <span class="row-preview">${who}${preview}</span>
      </span>
      <span class="row-side">
        <span class="row-time">${conv.lastActivityAtMs ? time(conv.lastActivityAtMs) : ""}</span>
        <${Badges} c=${c} />
      </span>
    </a>
  </li>`;
}

/** @param {{ app: AppState, spaceId: string, current: string }} props */
function SpaceTree({ app, spaceId, current }) {
  const space = app.spaces.get(spaceId);
  const [dialog, setDialog] = useState("");
  if (!space) return html`<p class="hint">Loading space…</p>`;
  const can = (/** @type {Permission} */ p) => space.myPermissions.includes(p) || space.myPermissions.includes(Permission.ADMINISTRATOR);
  const channels = [...space.channels].sort((a, b) => a.position - b.position);
  const folders = [...space.folders].sort((a, b) => a.position - b.position);
  /** @param {string} folderId */
  const list = (folderId) =>
    channels
      .filter((ch) => ch.folderId === folderId && ch.conversation)
      .map((ch) => {
        const id = ch.conversation?.id ?? "";
        const c = app.convs.get(id);
        return html`<li><a href=${`/c/${id}`} class=${`row channel ${current === id ? "current" : ""} ${c?.unreadCount ? "unread" : ""}`}
          aria-current=${current === id ? "page" : undefined}
          onClick=${(/** @type {MouseEvent} */ e) => { e.preventDefault(); go(`/c/${id}`); }}>
          <span class="row-icon" aria-hidden="true">${ch.announcement ? "📢" : ch.private ? "🔒" : "#"}</span>
          <span class="row-title">${ch.conversation?.title}</span><${Badges} c=${c} /></a></li>`;
      });
  const unread = channels.reduce((n, ch) => n + (app.convs.get(ch.conversation?.id ?? "")?.unreadCount ?? 0), 0);
  return html`<div class="space-tree">
    <header class="space-head">
      <h2>${space.name}</h2>
      <span class="hint">${count(space.memberCount, "member")}${unread ? ` · ${unread} unread` : ""}</span>
      <div class="space-actions">
        ${can(Permission.CREATE_INVITES) && html`<button onClick=${() => setDialog("invite")}>Invite</button>`}
        ${can(Permission.MANAGE_CHANNELS) && html`<button onClick=${() => setDialog("channel")}>New channel</button>`}
        <button onClick=${() => go(`/s/${space.id}/admin`)}>${can(Permission.MANAGE_SPACE) || can(Permission.MANAGE_ROLES) || can(Permission.BAN) ? "Manage" : "Members"}</button>
      </div>
    </header>
    <ul class="rows" aria-label="Channels">${list("")}</ul>
    ${folders.map(
      (f) => html`<details open class="folder"><summary>${f.name}</summary><ul class="rows" aria-label=${f.name}>${list(f.id)}</ul></details>`,
    )}
    ${dialog === "channel" && html`<${NewChannel} app=${app} space=${space} onClose=${() => setDialog("")} />`}
    ${dialog === "invite" && html`<${InviteDialog} app=${app} conversationId=${space.id} onClose=${() => setDialog("")} />`}
  </div>`;
}

/** @param {{ app: AppState, current: string }} props */
export function Sidebar({ app, current }) {
  const [space, setSpace] = useState("");
  const [dialog, setDialog] = useState("");
  const [filter, setFilter] = useState("");
  const [archived, setArchived] = useState(false);
  const currentSpace = app.convs.get(current)?.conversation?.spaceId ?? "";
  const shown = space || currentSpace;
  const chats = app
    .chatList()
    .filter((c) => !!c.settings?.archived === archived)
    .filter((c) => !filter || app.title(c).toLowerCase().includes(filter.toLowerCase()));
  const spaceUnread = (/** @type {string} */ id) =>
    (app.spaces.get(id)?.channels ?? []).reduce((n, ch) => n + (app.convs.get(ch.conversation?.id ?? "")?.unreadCount ?? 0), 0);
  return html`<nav class="sidebar" aria-label="Chats and spaces">
    <div class="rail" role="tablist" aria-label="Spaces">
      <button role="tab" aria-selected=${!shown} class=${`rail-item ${!shown ? "current" : ""}`} title="Chats" onClick=${() => setSpace("")}>💬</button>
      ${[...app.spaces.values()].map(
        (s) => html`<button role="tab" aria-selected=${shown === s.id} class=${`rail-item ${shown === s.id ? "current" : ""}`} title=${s.name} aria-label=${s.name}
          onClick=${() => { setSpace(s.id); const first = s.defaultChannelId || s.channels[0]?.conversation?.id; if (first) go(`/c/${first}`); }}>
          ${s.name.slice(0, 2)}${spaceUnread(s.id) > 0 && html`<span class="rail-dot" aria-label="unread"></span>`}</button>`,
      )}
      <button class="rail-item add" title="New space" aria-label="New space" onClick=${() => setDialog("space")}>+</button>
      <button class="rail-item" title="Settings" aria-label="Settings" onClick=${() => go("/settings")}>⚙</button>
    </div>
    <div class="panel">
      ${shown
        ? html`<${SpaceTree} app=${app} spaceId=${shown} current=${current} />`
        : html`<div class="chats">
            <header class="chats-head">
              <input type="search" placeholder="Filter chats" aria-label="Filter chats" value=${filter} onInput=${(/** @type {any} */ e) => setFilter(e.target.value)} />
              <button title="Search messages" aria-label="Search messages" onClick=${() => setDialog("search")}>🔍</button>
              <button class="primary" onClick=${() => setDialog("chat")}>New</button>
            </header>
            <ul class="rows" aria-label="Chats">${chats.map((c) => html`<${ChatRow} key=${c.conversation?.id} app=${app} c=${c} current=${current === c.conversation?.id} />`)}</ul>
            <button class="link" onClick=${() => setArchived(!archived)}>${archived ? "← Back to chats" : "Archived chats"}</button>
            <button class="link" onClick=${() => setDialog("contacts")}>Contacts${app.friendRequests.incoming.length > 0
              ? html` <span class="badge" aria-label=${`${app.friendRequests.incoming.length} friend requests`}>${app.friendRequests.incoming.length}</span>` : ""}</button>
            <button class="link" onClick=${() => setDialog("saved")}>Saved messages</button>
            <button class="link" onClick=${() => app.notesToSelf().then((id) => id && go(`/c/${id}`))}>Notes to self</button>
          </div>`}
    </div>
    ${dialog === "chat" && html`<${NewChat} app=${app} onClose=${() => setDialog("")} />`}
    ${dialog === "search" && html`<${SearchDialog} app=${app} onClose=${() => setDialog("")} />`}
    ${dialog === "saved" && html`<${SavedDialog} app=${app} onClose=${() => setDialog("")} />`}
    ${dialog === "contacts" && html`<${ContactsDialog} app=${app} onClose=${() => setDialog("")} />`}
    ${dialog === "space" && html`<${NewSpace} app=${app} onClose=${(/** @type {string} */ id) => { setDialog(""); if (id) setSpace(id); }} />`}
  </nav>`;
}
