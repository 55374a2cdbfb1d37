// My contacts: add by username or ask to be friends, my own name for each person and
// notes, mutual marks, a direct chat in one click, remove; friend requests to answer or
// take back. Changes from my other devices and the other people arrive as events.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { go } from "./main.js";
import { humanError } from "./errors.js";
import { Modal } from "./dialogs.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/contacts_pb.js").Contact} Contact
 */

/** One contact: shown, or edited in place. @param {{ app: AppState, c: Contact, onError: (e: unknown) => void, onClose: () => void }} props */
function ContactRow({ app, c, onError, onClose }) {
  const [editing, setEditing] = useState(false);
  const u = app.users.get(c.userId);
  const real = u ? u.displayName || u.username : "…";
  const save = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    try {
      await app.putContact(c.userId, String(f.get("remark") ?? ""), String(f.get("notes") ?? ""));
      setEditing(false);
    } catch (err) {
      onError(err);
    }
  };
  const message = async () => {
    try {
      const id = await app.directWith(c.userId);
      onClose();
      if (id) go(`/c/${id}`);
    } catch (err) {
      onError(err);
    }
  };
  if (editing) {
    return html`<li class="contact editing" aria-label=${`Edit ${app.userName(c.userId)}`}>
      <form class="stack" onSubmit=${save}>
        <label>Name for them <input name="remark" maxlength="64" value=${c.remark} placeholder=${real} /></label>
        <label>Notes <textarea name="notes" maxlength="1024" rows="2">${c.notes}</textarea></label>
        <div class="row"><button type="submit" class="primary">Save</button><button type="button" onClick=${() => setEditing(false)}>Cancel</button></div>
      </form>
    </li>`;
  }
  return html`<li class="contact row" aria-label=${app.userName(c.userId)}>
    <div class="contact-who">
      <strong>${app.userName(c.userId)}</strong>
      ${c.remark && html`<span class="muted"> (${real})</span>`}
      ${u && html`<span class="muted"> @${u.username}</span>`}
      ${c.mutual && html`<span class="flag" title="They have you in their contacts too">mutual</span>`}
      ${c.notes && html`<div class="muted contact-notes">${c.notes}</div>`}
    </div>
    <button class="small" onClick=${message}>Message</button>
    <button class="small" onClick=${() => setEditing(true)}>Edit</button>
    <button class="small danger" onClick=${() => app.removeContact(c.userId).catch(onError)}>Remove</button>
    <button class="small danger" onClick=${() => app.setBlocked(c.userId, true).catch(onError)}>Block</button>
  </li>`;
}

/** @param {{ app: AppState, onClose: () => void }} props */
export function ContactsDialog({ app, onClose }) {
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  const onError = (/** @type {unknown} */ e) => setError(humanError(e));
  const add = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    setError("");
    try {
      const r = await app.sb.contacts.importContacts({ usernames: [name.trim()] });
      for (const u of r.users) app.users.set(u.id, u);
      for (const c of r.contacts) app.contacts.set(c.userId, c);
      if (r.contacts.length === 0) setError(`Nobody is called ${name.trim()}.`);
      else setName("");
      app.changed();
    } catch (err) {
      onError(err);
    }
  };
  const ask = async () => {
    setError("");
    try {
      const wanted = name.trim().replace(/^@/, "").toLowerCase();
      const found = (await app.sb.users.searchUsers({ query: wanted, limit: 10 })).users.find((u) => u.username.toLowerCase() === wanted);
      if (!found) return setError(`Nobody is called ${name.trim()}.`);
      const r = await app.sb.contacts.sendFriendRequest({ userId: found.id });
      app.users.set(found.id, found);
      setName("");
      await app.loadFriendRequests();
      if (r.accepted) await app.loadContacts();
      app.changed();
    } catch (err) {
      onError(err);
    }
  };
  const answer = (/** @type {string} */ userId, /** @type {boolean} */ accept) =>
    app.sb.contacts.answerFriendRequest({ userId, accept }).then(() => app.loadFriendRequests()).catch(onError);
  const cancel = (/** @type {string} */ userId) =>
    app.sb.contacts.cancelFriendRequest({ userId }).then(() => app.loadFriendRequests()).catch(onError);
  const { incoming, outgoing } = app.friendRequests;
  const list = [...app.contacts.values()].sort((a, b) => app.userName(a.userId).localeCompare(app.userName(b.userId)));
  return html`<${Modal} title="Contacts" onClose=${onClose}>
    <form class="row" onSubmit=${add}>
      <input aria-label="Username to add" placeholder="username" value=${name} required
        onInput=${(/** @type {any} */ e) => setName(e.target.value)} />
      <button type="submit">Add contact</button>
      <button type="button" onClick=${ask} disabled=${!name.trim()}>Ask to be friends</button>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${incoming.length > 0 && html`<section aria-label="Friend requests"><h3>Friend requests</h3><ul class="contacts">${incoming.map(
      (r) => html`<li key=${r.fromUserId} class="contact row" aria-label=${`Request from ${app.userName(r.fromUserId)}`}>
        <div class="contact-who"><strong>${app.userName(r.fromUserId)}</strong>${r.message && html`<div class="muted contact-notes">${r.message}</div>`}</div>
        <button class="small primary" onClick=${() => answer(r.fromUserId, true)}>Accept</button>
        <button class="small" onClick=${() => answer(r.fromUserId, false)}>Decline</button>
      </li>`,
    )}</ul></section>`}
    ${outgoing.length > 0 && html`<section aria-label="Requests sent"><h3>Waiting for an answer</h3><ul class="contacts">${outgoing.map(
      (r) => html`<li key=${r.toUserId} class="contact row" aria-label=${`Request to ${app.userName(r.toUserId)}`}>
        <div class="contact-who"><strong>${app.userName(r.toUserId)}</strong></div>
        <button class="small" onClick=${() => cancel(r.toUserId)}>Take back</button>
      </li>`,
    )}</ul></section>`}
    ${app.blocked.size > 0 && html`<section aria-label="Blocked"><h3>Blocked</h3><ul class="contacts">${[...app.blocked].map(
      (id) => html`<li key=${id} class="contact row" aria-label=${`Blocked ${app.userName(id)}`}>
        <div class="contact-who"><strong>${app.userName(id)}</strong></div>
        <button class="small" onClick=${() => app.setBlocked(id, false).catch(onError)}>Unblock</button>
      </li>`,
    )}</ul></section>`}
    ${list.length === 0 && html`<p class="hint">No contacts yet. Add someone by their username.</p>`}
    ${list.length > 0 && html`<ul class="contacts" aria-label="Your contacts">${list.map(
      (c) => html`<${ContactRow} key=${c.userId} app=${app} c=${c} onError=${onError} onClose=${onClose} />`,
    )}</ul>`}
  </${Modal}>`;
}
