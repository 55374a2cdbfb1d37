// A space's administration: members and their roles, roles and their permissions, channel
// permission overwrites, invites, bans, join requests, custom emoji and stickers. Each tab shows only what the
// caller's permissions allow; the server checks again.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { Permission } from "@switchboard/sdk/gen/spaces_pb.js";
import { humanError } from "./errors.js";
import { ago, count } from "./format.js";
import { ExpressionsAdmin } from "./expressions.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/spaces_pb.js").Space} Space
 * @typedef {import("@switchboard/sdk/gen/spaces_pb.js").SpaceMember} SpaceMember
 * @typedef {import("@switchboard/sdk/gen/spaces_pb.js").Role} Role
 * @typedef {import("@switchboard/sdk/gen/spaces_pb.js").Ban} Ban
 * @typedef {import("@switchboard/sdk/gen/invites_pb.js").Invite} Invite
 * @typedef {import("@switchboard/sdk/gen/invites_pb.js").JoinRequest} JoinRequest
 */

/** The permissions a role can hold, with the words the screens use. */
const PERMISSIONS = /** @type {[Permission, string][]} */ ([
  [Permission.VIEW, "View channels"],
  [Permission.SEND, "Send messages"],
  [Permission.SEND_IN_THREADS, "Send in threads"],
  [Permission.MANAGE_MESSAGES, "Manage messages"],
  [Permission.MENTION_EVERYONE, "Mention @all"],
  [Permission.MANAGE_CHANNELS, "Manage channels"],
  [Permission.MANAGE_ROLES, "Manage roles"],
  [Permission.MANAGE_SPACE, "Manage the space"],
  [Permission.KICK, "Remove members"],
  [Permission.BAN, "Ban members"],
  [Permission.CREATE_INVITES, "Create invites"],
  [Permission.MANAGE_WEBHOOKS, "Manage webhooks"],
  [Permission.MANAGE_EXPRESSIONS, "Manage emoji and stickers"],
  [Permission.ADMINISTRATOR, "Administrator"],
]);

/** @param {Space} s @param {Permission} p */
const can = (s, p) => s.myPermissions.includes(p) || s.myPermissions.includes(Permission.ADMINISTRATOR);

/** @param {{ app: AppState, spaceId: string }} props */
export function SpaceAdmin({ app, spaceId }) {
  const space = app.spaces.get(spaceId);
  const [tab, setTab] = useState("members");
  const [error, setError] = useState("");
  if (!space) return html`<div class="empty-main"><p>This space is not one of yours.</p></div>`;
  const tabs = /** @type {[string, string, boolean][]} */ ([
    ["members", "Members", true],
    ["settings", "Settings", can(space, Permission.MANAGE_SPACE)],
    ["roles", "Roles", can(space, Permission.MANAGE_ROLES)],
    ["channels", "Channel permissions", can(space, Permission.MANAGE_CHANNELS)],
    ["invites", "Invites", can(space, Permission.CREATE_INVITES)],
    ["bans", "Bans", can(space, Permission.BAN)],
    ["requests", "Join requests", can(space, Permission.KICK)],
    ["expressions", "Emoji and stickers", can(space, Permission.MANAGE_EXPRESSIONS)],
  ]);
  /** Runs an action, showing its error. @param {() => Promise<unknown>} f */
  const act = async (f) => {
    setError("");
    try {
      await f();
      await app.refreshSpace(spaceId);
    } catch (e) {
      setError(humanError(e));
    }
  };
  const props = { app, space, act };
  return html`<section class="admin" aria-label=${`${space.name}: administration`}>
    <header class="chat-head"><h1>${space.name}</h1><span class="muted">${count(space.memberCount, "member")}</span></header>
    <div role="tablist" class="tabs">
      ${tabs
        .filter(([, , shown]) => shown)
        .map(
          ([id, label]) =>
            html`<button role="tab" aria-selected=${tab === id} class=${tab === id ? "active" : ""} onClick=${() => setTab(id)}>${label}</button>`,
        )}
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div role="tabpanel" class="admin-body">
      ${tab === "members" && html`<${Members} ...${props} />`}
      ${tab === "settings" && html`<${Settings} ...${props} />`}
      ${tab === "roles" && html`<${Roles} ...${props} />`}
      ${tab === "channels" && html`<${ChannelPermissions} ...${props} />`}
      ${tab === "invites" && html`<${Invites} ...${props} />`}
      ${tab === "bans" && html`<${Bans} ...${props} />`}
      ${tab === "requests" && html`<${JoinRequests} ...${props} />`}
      ${tab === "expressions" && html`<${ExpressionsAdmin} ...${props} />`}
    </div>
  </section>`;
}

/** @typedef {{ app: AppState, space: Space, act: (f: () => Promise<unknown>) => Promise<void> }} TabProps */

/** Loads a list and reloads it after each action. @template T @param {() => Promise<T[]>} load @param {unknown[]} deps */
function useList(load, deps) {
  const [items, setItems] = useState(/** @type {T[] | null} */ (null));
  const [version, setVersion] = useState(0);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    load()
      .then((x) => live && setItems(x))
      .catch((e) => live && setError(humanError(e)));
    return () => {
      live = false;
    };
  }, [...deps, version]);
  return { items, error, reload: () => setVersion((v) => v + 1) };
}

/** @param {TabProps} props */
function Members({ app, space, act }) {
  const list = useList(async () => {
    /** @type {SpaceMember[]} */
    const all = [];
    let cursor = "";
    do {
      const r = await app.sb.spaces.listSpaceMembers({ spaceId: space.id, cursor, limit: 200 });
      all.push(...r.members);
      cursor = r.nextCursor;
    } while (cursor && all.length < 2000);
    await app.needUsers(all.map((m) => m.userId));
    return all;
  }, [space.id]);
  const roles = space.roles.filter((r) => r.id !== "0");
  const manage = can(space, Permission.MANAGE_ROLES);
  /** @param {() => Promise<unknown>} f */
  const run = (f) => act(f).then(list.reload);
  if (list.error) return html`<p class="error">${list.error}</p>`;
  if (!list.items) return html`<p class="muted">Loading…</p>`;
  return html`<table class="grid" aria-label="Members">
    <thead><tr><th>Member</th><th>Roles</th><th>Joined</th><th><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>
      ${list.items.map((m) => {
        const mine = m.userId === app.me?.id;
        return html`<tr key=${m.userId} data-user=${m.userId}>
          <td>${m.nickname || app.userName(m.userId)}${m.userId === space.ownerId ? html` <span class="tag">owner</span>` : ""}${m.title ? html` <span class="muted">${m.title}</span>` : ""}</td>
          <td>
            ${m.roleIds.map((id) => {
              const role = space.roles.find((r) => r.id === id);
              return html`<span class="tag role" key=${id}>${role?.name ?? id}${manage && html`<button class="link" aria-label=${`Remove role ${role?.name ?? id}`} onClick=${() => run(() => app.sb.spaces.unassignRole({ spaceId: space.id, userId: m.userId, roleId: id }))}>✕</button>`}</span>`;
            })}
            ${manage &&
            html`<select aria-label=${`Give ${app.userName(m.userId)} a role`} value="" onChange=${(/** @type {any} */ e) => {
              const roleId = e.target.value;
              e.target.value = "";
              if (roleId) void run(() => app.sb.spaces.assignRole({ spaceId: space.id, userId: m.userId, roleId }));
            }}>
              <option value="">+ role</option>
              ${roles.filter((r) => !m.roleIds.includes(r.id)).map((r) => html`<option value=${r.id}>${r.name}</option>`)}
            </select>`}
          </td>
          <td class="muted">${ago(Number(m.joinedAtMs))}</td>
          <td class="actions">
            ${!mine && m.userId !== space.ownerId && can(space, Permission.KICK) && html`<button onClick=${() => confirm(`Remove ${app.userName(m.userId)} from ${space.name}?`) && run(() => app.sb.spaces.kickMember({ spaceId: space.id, userId: m.userId }))}>Remove</button>`}
            ${!mine && m.userId !== space.ownerId && can(space, Permission.BAN) && html`<button class="danger" onClick=${() => {
              const reason = prompt(`Ban ${app.userName(m.userId)}? Reason (optional):`);
              if (reason !== null) void run(() => app.sb.spaces.banMember({ spaceId: space.id, userId: m.userId, reason }));
            }}>Ban</button>`}
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/** Name, about, who may find and join. @param {TabProps} props */
function Settings({ app, space, act }) {
  const [saved, setSaved] = useState(false);
  /** @param {SubmitEvent} e */
  const save = (e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    setSaved(false);
    void act(async () => {
      await app.sb.spaces.updateSpace({
        spaceId: space.id,
        name: String(f.get("name") ?? "").trim(),
        about: String(f.get("about") ?? ""),
        public: f.get("public") === "on",
        requireApproval: f.get("approval") === "on",
      });
      setSaved(true);
    });
  };
  return html`<form class="stack narrow" onSubmit=${save}>
    <label>Name <input name="name" required maxlength="100" value=${space.name} /></label>
    <label>About <textarea name="about" maxlength="1000" rows="3">${space.about}</textarea></label>
    <label class="check"><input type="checkbox" name="public" checked=${space.public} /> Anyone can find and join it</label>
    <label class="check"><input type="checkbox" name="approval" checked=${space.requireApproval} /> Joining needs approval</label>
    <div class="row"><button type="submit" class="primary">Save</button>${saved && html`<span class="muted" role="status">Saved</span>`}</div>
  </form>`;
}

/** @param {TabProps} props */
function Roles({ app, space, act }) {
  const [name, setName] = useState("");
  const [editing, setEditing] = useState("");
  /** @param {Event} e */
  const create = (e) => {
    e.preventDefault();
    if (!name.trim()) return;
    void act(() => app.sb.spaces.createRole({ spaceId: space.id, name: name.trim(), position: 1, permissions: [Permission.VIEW, Permission.SEND], mentionable: true })).then(() => setName(""));
  };
  return html`<div>
    <form class="row" onSubmit=${create}>
      <input aria-label="New role name" placeholder="New role" value=${name} onInput=${(/** @type {any} */ e) => setName(e.target.value)} maxlength="100" />
      <button type="submit">Create role</button>
    </form>
    <ul class="roles">
      ${space.roles.map(
        (r) => html`<li key=${r.id} data-role=${r.id}>
          <div class="row">
            <strong>${r.id === "0" ? "Everyone" : r.name}</strong>
            <span class="muted">${r.permissions.length} permissions</span>
            <button onClick=${() => setEditing(editing === r.id ? "" : r.id)} aria-expanded=${editing === r.id}>${editing === r.id ? "Done" : "Edit"}</button>
            ${r.id !== "0" && html`<button class="danger" onClick=${() => confirm(`Delete the role ${r.name}?`) && act(() => app.sb.spaces.deleteRole({ spaceId: space.id, roleId: r.id }))}>Delete</button>`}
          </div>
          ${editing === r.id && html`<${PermissionBoxes} role=${r} onChange=${(/** @type {Permission[]} */ permissions) => act(() => app.sb.spaces.updateRole({ spaceId: space.id, roleId: r.id, setPermissions: true, permissions }))} />`}
        </li>`,
      )}
    </ul>
  </div>`;
}

/** @param {{ role: Role, onChange: (p: Permission[]) => void }} props */
function PermissionBoxes({ role, onChange }) {
  return html`<fieldset class="permissions"><legend>Permissions of ${role.name || "everyone"}</legend>
    ${PERMISSIONS.map(
      ([p, label]) => html`<label key=${p}><input type="checkbox" checked=${role.permissions.includes(p)} onChange=${(/** @type {any} */ e) =>
        onChange(e.target.checked ? [...role.permissions, p] : role.permissions.filter((x) => x !== p))} /> ${label}</label>`,
    )}
  </fieldset>`;
}

/** Allow / inherit / deny per permission, per role, per channel. @param {TabProps} props */
function ChannelPermissions({ app, space, act }) {
  const [channelId, setChannelId] = useState(space.channels[0]?.conversation?.id ?? "");
  const [roleId, setRoleId] = useState("0");
  const channel = space.channels.find((c) => c.conversation?.id === channelId);
  const overwrite = channel?.overwrites.find((o) => o.target?.target.case === "roleId" && o.target.target.value === roleId);
  /** @param {Permission} p */
  const state = (p) => (overwrite?.allow.includes(p) ? "allow" : overwrite?.deny.includes(p) ? "deny" : "inherit");
  /** @param {Permission} p @param {string} to */
  const set = (p, to) => {
    const allow = (overwrite?.allow ?? []).filter((x) => x !== p);
    const deny = (overwrite?.deny ?? []).filter((x) => x !== p);
    if (to === "allow") allow.push(p);
    if (to === "deny") deny.push(p);
    const target = { target: { case: /** @type {const} */ ("roleId"), value: roleId } };
    void act(() =>
      allow.length || deny.length
        ? app.sb.spaces.setOverwrite({ spaceId: space.id, channelId, overwrite: { target, allow, deny } })
        : app.sb.spaces.removeOverwrite({ spaceId: space.id, channelId, target }),
    );
  };
  if (!space.channels.length) return html`<p class="muted">No channels yet.</p>`;
  return html`<div>
    <div class="row">
      <label>Channel <select aria-label="Channel" value=${channelId} onChange=${(/** @type {any} */ e) => setChannelId(e.target.value)}>
        ${space.channels.map((c) => html`<option value=${c.conversation?.id}>#${c.conversation?.title}</option>`)}
      </select></label>
      <label>Role <select aria-label="Role" value=${roleId} onChange=${(/** @type {any} */ e) => setRoleId(e.target.value)}>
        ${space.roles.map((r) => html`<option value=${r.id}>${r.id === "0" ? "Everyone" : r.name}</option>`)}
      </select></label>
    </div>
    <table class="grid" aria-label="Channel permissions">
      <thead><tr><th>Permission</th><th>Allow</th><th>Inherit</th><th>Deny</th></tr></thead>
      <tbody>
        ${PERMISSIONS.filter(([p]) => p !== Permission.ADMINISTRATOR && p !== Permission.MANAGE_SPACE && p !== Permission.MANAGE_ROLES).map(
          ([p, label]) => html`<tr key=${p}><td>${label}</td>
            ${["allow", "inherit", "deny"].map(
              (to) => html`<td><input type="radio" name=${`perm-${p}`} aria-label=${`${label}: ${to}`} checked=${state(p) === to} onChange=${() => set(p, to)} /></td>`,
            )}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** @param {TabProps} props */
function Invites({ app, space, act }) {
  const list = useList(async () => (await app.sb.invites.listInvites({ conversationId: space.id })).invites, [space.id]);
  /** @param {() => Promise<unknown>} f */
  const run = (f) => act(f).then(list.reload);
  if (list.error) return html`<p class="error">${list.error}</p>`;
  return html`<div>
    <button onClick=${() => run(() => app.sb.invites.createInvite({ conversationId: space.id, expiresInSecs: 7n * 86400n }))}>New invite link (7 days)</button>
    <table class="grid" aria-label="Invites">
      <thead><tr><th>Link</th><th>Uses</th><th>Expires</th><th><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${(list.items ?? []).map(
          (/** @type {Invite} */ i) => html`<tr key=${i.code}>
            <td><code class="invite-link">${`${location.origin}/invite/${i.code}`}</code></td>
            <td>${i.uses}${i.maxUses ? ` / ${i.maxUses}` : ""}</td>
            <td class="muted">${i.expiresAtMs ? new Date(Number(i.expiresAtMs)).toLocaleString() : "never"}</td>
            <td class="actions"><button class="danger" onClick=${() => run(() => app.sb.invites.revokeInvite({ code: i.code }))}>Revoke</button></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** @param {TabProps} props */
function Bans({ app, space, act }) {
  const list = useList(async () => {
    const r = await app.sb.spaces.listBans({ spaceId: space.id, limit: 200 });
    await app.needUsers(r.bans.map((b) => b.userId));
    return r.bans;
  }, [space.id]);
  if (list.error) return html`<p class="error">${list.error}</p>`;
  if (list.items && !list.items.length) return html`<p class="muted">Nobody is banned.</p>`;
  return html`<ul class="plain">
    ${(list.items ?? []).map(
      (/** @type {Ban} */ b) => html`<li key=${b.userId} class="row">
        <strong>${app.userName(b.userId)}</strong><span class="muted">${b.reason || "no reason given"}, ${ago(Number(b.createdAtMs))}</span>
        <button onClick=${() => act(() => app.sb.spaces.unbanMember({ spaceId: space.id, userId: b.userId })).then(list.reload)}>Unban</button>
      </li>`,
    )}
  </ul>`;
}

/** @param {TabProps} props */
function JoinRequests({ app, space, act }) {
  const list = useList(async () => {
    const r = await app.sb.invites.listJoinRequests({ conversationId: space.id });
    await app.needUsers(r.requests.map((x) => x.userId));
    return r.requests;
  }, [space.id]);
  if (list.error) return html`<p class="error">${list.error}</p>`;
  if (list.items && !list.items.length) return html`<p class="muted">No requests are waiting.</p>`;
  /** @param {JoinRequest} r @param {boolean} accept */
  const decide = (r, accept) => act(() => app.sb.invites.decideJoinRequest({ conversationId: space.id, userId: r.userId, accept })).then(list.reload);
  return html`<ul class="plain">
    ${(list.items ?? []).map(
      (/** @type {JoinRequest} */ r) => html`<li key=${r.userId} class="row">
        <strong>${app.userName(r.userId)}</strong><span class="muted">${r.message}</span>
        <button onClick=${() => decide(r, true)}>Accept</button><button class="danger" onClick=${() => decide(r, false)}>Decline</button>
      </li>`,
    )}
  </ul>`;
}
