// Dialogs: new chat (direct, group, broadcast channel), new space, new channel, invite link.
import { html } from "htm/preact";
import { useEffect, useRef, useState, useLayoutEffect } from "preact/hooks";
import { ConversationKind } from "@switchboard/sdk/gen/conversations_pb.js";
import { go } from "./main.js";
import { humanError } from "./errors.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/common_pb.js").User} User
 * @typedef {import("preact").ComponentChildren} Children
 */

/** A modal dialog: Escape closes, focus starts inside. @param {{ title: string, onClose: () => void, children: Children }} props */
export function Modal({ title, onClose, children }) {
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  useLayoutEffect(() => {
    const prev = document.activeElement;
    const first = ref.current?.querySelector("input, select, textarea, button:not(.close)");
    if (first instanceof HTMLElement) first.focus();
    const key = (/** @type {KeyboardEvent} */ e) => e.key === "Escape" && onClose();
    addEventListener("keydown", key);
    return () => {
      removeEventListener("keydown", key);
      if (prev instanceof HTMLElement) prev.focus();
    };
  }, []);
  return html`<div class="overlay" onClick=${(/** @type {MouseEvent} */ e) => e.target === e.currentTarget && onClose()}>
    <div class="dialog" role="dialog" aria-modal="true" aria-label=${title} ref=${ref}>
      <header><h2>${title}</h2><button class="close" aria-label="Close" onClick=${onClose}>✕</button></header>
      ${children}
    </div>
  </div>`;
}

/** Finds people by name. @param {{ app: AppState, onPick: (u: User) => void, label?: string }} props */
export function UserSearch({ app, onPick, label = "Find people" }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState(/** @type {User[]} */ ([]));
  useEffect(() => {
    if (!q.trim()) return setFound([]);
    let live = true;
    const t = setTimeout(() => {
      app.sb.users
        .searchUsers({ query: q.trim(), limit: 10 })
        .then((r) => {
          if (!live) return;
          for (const u of r.users) app.users.set(u.id, u);
          setFound(r.users.filter((u) => u.id !== app.me?.id));
        })
        .catch(() => {});
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q]);
  return html`<div class="user-search">
    <input type="search" placeholder="Username or name" aria-label=${label} value=${q} onInput=${(/** @type {any} */ e) => setQ(e.target.value)} />
    <ul class="picks" role="listbox" aria-label="People found">
      ${found.map(
        (u) => html`<li role="option" aria-selected="false"><button type="button" onClick=${() => onPick(u)}>
          <strong>${u.displayName || u.username}</strong> <span class="hint">@${u.username}</span></button></li>`,
      )}
    </ul>
  </div>`;
}

/** @param {{ app: AppState, onClose: () => void }} props */
export function NewChat({ app, onClose }) {
  const [tab, setTab] = useState(/** @type {"direct" | "group" | "channel"} */ ("direct"));
  const [members, setMembers] = useState(/** @type {User[]} */ ([]));
  const [title, setTitle] = useState("");
  const [error, setError] = useState("");
  /** @param {User} u */
  const direct = async (u) => {
    try {
      const r = await app.sb.conversations.createDirect({ userId: u.id });
      const c = r.conversation;
      if (c?.conversation) {
        app.convs.set(c.conversation.id, c);
        onClose();
        go(`/c/${c.conversation.id}`);
      }
    } catch (e) {
      setError(humanError(e));
    }
  };
  const create = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    try {
      const r = await app.sb.conversations.createConversation({
        kind: tab === "group" ? ConversationKind.GROUP : ConversationKind.CHANNEL,
        title: title.trim(),
        memberIds: members.map((m) => m.id),
        clientKey: crypto.randomUUID(),
      });
      const c = r.conversation;
      if (c?.conversation) {
        app.convs.set(c.conversation.id, c);
        onClose();
        go(`/c/${c.conversation.id}`);
      }
    } catch (err) {
      setError(humanError(err));
    }
  };
  return html`<${Modal} title="New chat" onClose=${onClose}>
    <div role="tablist" class="tabs">
      ${/** @type {const} */ (["direct", "group", "channel"]).map(
        (t) => html`<button role="tab" aria-selected=${tab === t} class=${tab === t ? "current" : ""} onClick=${() => setTab(t)}>
          ${t === "direct" ? "Direct message" : t === "group" ? "Group" : "Broadcast channel"}</button>`,
      )}
    </div>
    ${tab === "direct"
      ? html`<${UserSearch} app=${app} onPick=${direct} />`
      : html`<form onSubmit=${create} class="stack">
          <label>Title <input required maxlength="128" value=${title} onInput=${(/** @type {any} */ e) => setTitle(e.target.value)} /></label>
          <${UserSearch} app=${app} label="Add members" onPick=${(/** @type {User} */ u) => !members.some((m) => m.id === u.id) && setMembers([...members, u])} />
          <ul class="chips" aria-label="Members to add">${members.map(
            (m) => html`<li>${m.displayName || m.username} <button type="button" aria-label=${`Remove ${m.username}`} onClick=${() => setMembers(members.filter((x) => x.id !== m.id))}>✕</button></li>`,
          )}</ul>
          <button type="submit" class="primary">Create ${tab === "group" ? "group" : "channel"}</button>
        </form>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  <//>`;
}

/** @param {{ app: AppState, onClose: (id: string) => void }} props */
export function NewSpace({ app, onClose }) {
  const [error, setError] = useState("");
  const submit = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    try {
      const r = await app.sb.spaces.createSpace({
        name: String(f.get("name") ?? "").trim(),
        about: String(f.get("about") ?? ""),
        public: f.get("public") === "on",
        clientKey: crypto.randomUUID(),
      });
      if (r.space) {
        app.spaces.set(r.space.id, r.space);
        await app.refreshConversation(r.space.id);
        for (const ch of r.space.channels) if (ch.conversation) await app.refreshConversation(ch.conversation.id);
        onClose(r.space.id);
        const first = r.space.defaultChannelId || r.space.channels[0]?.conversation?.id;
        if (first) go(`/c/${first}`);
      }
    } catch (err) {
      setError(humanError(err));
    }
  };
  return html`<${Modal} title="New space" onClose=${() => onClose("")}>
    <form onSubmit=${submit} class="stack">
      <label>Name <input name="name" required maxlength="100" /></label>
      <label>About <input name="about" maxlength="1000" /></label>
      <label class="check"><input name="public" type="checkbox" /> Anyone can find and join it</label>
      <button type="submit" class="primary">Create space</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  <//>`;
}

/** @param {{ app: AppState, space: import("@switchboard/sdk/gen/spaces_pb.js").Space, onClose: () => void }} props */
export function NewChannel({ app, space, onClose }) {
  const [error, setError] = useState("");
  const submit = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    try {
      const r = await app.sb.spaces.createChannel({
        spaceId: space.id,
        name: String(f.get("name") ?? "").trim(),
        folderId: String(f.get("folder") ?? ""),
        announcement: f.get("announcement") === "on",
        private: f.get("private") === "on",
      });
      await app.refreshSpace(space.id);
      const id = r.channel?.conversation?.id;
      if (id) {
        await app.refreshConversation(id);
        onClose();
        go(`/c/${id}`);
      }
    } catch (err) {
      setError(humanError(err));
    }
  };
  return html`<${Modal} title="New channel" onClose=${onClose}>
    <form onSubmit=${submit} class="stack">
      <label>Name <input name="name" required maxlength="100" /></label>
      <label>Folder <select name="folder"><option value="">(none)</option>${space.folders.map((f) => html`<option value=${f.id}>${f.name}</option>`)}</select></label>
      <label class="check"><input name="announcement" type="checkbox" /> Announcements (only some may post)</label>
      <label class="check"><input name="private" type="checkbox" /> Private</label>
      <button type="submit" class="primary">Create channel</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  <//>`;
}

/** An invite link to a space or group. @param {{ app: AppState, conversationId: string, onClose: () => void }} props */
export function InviteDialog({ app, conversationId, onClose }) {
  const [link, setLink] = useState("");
  const [error, setError] = useState("");
  const create = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    try {
      const r = await app.sb.invites.createInvite({
        conversationId,
        expiresInSecs: BigInt(Number(f.get("expires") ?? 0)),
        maxUses: Number(f.get("uses") ?? 0),
      });
      if (r.invite) setLink(`${location.origin}/invite/${r.invite.code}`);
    } catch (err) {
      setError(humanError(err));
    }
  };
  return html`<${Modal} title="Invite people" onClose=${onClose}>
    <form onSubmit=${create} class="stack">
      <label>Expires <select name="expires"><option value="86400">in a day</option><option value="604800">in a week</option><option value="0">never</option></select></label>
      <label>Uses <select name="uses"><option value="0">unlimited</option><option value="1">1</option><option value="10">10</option><option value="100">100</option></select></label>
      <button type="submit" class="primary">Create link</button>
    </form>
    ${link && html`<p class="invite-link"><input readonly value=${link} aria-label="Invite link" onFocus=${(/** @type {any} */ e) => e.target.select()} />
      <button onClick=${() => navigator.clipboard?.writeText(link)}>Copy</button></p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  <//>`;
}
