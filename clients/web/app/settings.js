// Settings: profile and avatar, theme, desktop notifications, privacy, sessions, sign out.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { uploadFile } from "@switchboard/sdk";
import { humanError } from "./errors.js";
import { ago } from "./format.js";
import { fileUrl } from "./media.js";
import { Privacy } from "./privacy.js";

/** @typedef {import("./state.js").AppState} AppState */

/** @param {{ app: AppState }} props */
function Profile({ app }) {
  const me = app.me;
  const [status, setStatus] = useState("");
  const [avatar, setAvatar] = useState("");
  useEffect(() => {
    if (!me?.avatarFileId) return;
    fileUrl(app.sb, me.avatarFileId, "avatar").then(setAvatar).catch(() => setAvatar(""));
  }, [me?.avatarFileId]);
  if (!me) return null;
  const save = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    try {
      const r = await app.sb.users.updateProfile({
        displayName: String(f.get("displayName") ?? ""),
        bio: String(f.get("bio") ?? ""),
        statusText: String(f.get("statusText") ?? ""),
      });
      if (r.user) app.me = r.user;
      setStatus("Saved.");
      app.changed();
    } catch (err) {
      setStatus(humanError(err));
    }
  };
  const pick = async (/** @type {any} */ e) => {
    const file = /** @type {File | undefined} */ (e.target.files?.[0]);
    if (!file) return;
    try {
      const id = await uploadFile(app.sb, { blob: file, name: file.name, isPublic: true });
      const r = await app.sb.users.updateProfile({ avatarFileId: id });
      if (r.user) app.me = r.user;
      setStatus("Avatar changed; its preview appears once it is made.");
      app.changed();
    } catch (err) {
      setStatus(humanError(err));
    }
  };
  return html`<section class="card" aria-labelledby="profile-title">
    <h2 id="profile-title">Profile</h2>
    <div class="avatar-row">
      ${avatar ? html`<img class="avatar" src=${avatar} alt="Your avatar" />` : html`<span class="avatar none" aria-hidden="true">${(me.displayName || me.username).slice(0, 1)}</span>`}
      <label class="button">Change avatar <input type="file" accept="image/*" hidden onChange=${pick} /></label>
    </div>
    <form class="stack" onSubmit=${save}>
      <p class="hint">@${me.username}</p>
      <label>Display name <input name="displayName" value=${me.displayName} maxlength="64" /></label>
      <label>Status <input name="statusText" value=${me.statusText} maxlength="128" /></label>
      <label>About <textarea name="bio" maxlength="1000">${me.bio}</textarea></label>
      <button class="primary" type="submit">Save</button>
      ${status && html`<p role="status">${status}</p>`}
    </form>
  </section>`;
}

/** @param {{ app: AppState }} props */
function Sessions({ app }) {
  const [list, setList] = useState(/** @type {import("@switchboard/sdk/gen/auth_pb.js").Session[]} */ ([]));
  const [error, setError] = useState("");
  const load = () => app.sb.sessions.listSessions({}).then((r) => setList(r.sessions)).catch((e) => setError(humanError(e)));
  useEffect(() => {
    void load();
  }, []);
  const end = async (/** @type {string} */ id) => {
    await app.sb.sessions.endSession({ sessionId: id }).catch((e) => setError(humanError(e)));
    void load();
  };
  const others = async () => {
    await app.sb.sessions.endOtherSessions({}).catch((e) => setError(humanError(e)));
    void load();
  };
  return html`<section class="card" aria-labelledby="sessions-title">
    <h2 id="sessions-title">Sessions</h2>
    <ul class="sessions">${list.map(
      (s) => html`<li><span><strong>${s.device?.name || "Unnamed device"}</strong> <span class="hint">${s.device?.platform} · active ${ago(s.lastSeenAtMs)}</span></span>
        ${s.current ? html`<span class="hint">this device</span>` : html`<button onClick=${() => end(s.id)}>End</button>`}</li>`,
    )}</ul>
    <button onClick=${others}>End all other sessions</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </section>`;
}

/** @param {{ app: AppState }} props */
export function SettingsScreen({ app }) {
  const [theme, setTheme] = useState(localStorage.getItem("switchboard.theme") ?? "");
  const [perm, setPerm] = useState(typeof Notification === "undefined" ? "unsupported" : Notification.permission);
  const choose = (/** @type {string} */ t) => {
    setTheme(t);
    if (t) {
      localStorage.setItem("switchboard.theme", t);
      document.documentElement.dataset.theme = t;
    } else {
      localStorage.removeItem("switchboard.theme");
      delete document.documentElement.dataset.theme;
    }
  };
  return html`<div class="settings">
    <h1>Settings</h1>
    <${Profile} app=${app} />
    <section class="card" aria-labelledby="look-title">
      <h2 id="look-title">Appearance and notifications</h2>
      <label>Theme <select value=${theme} onChange=${(/** @type {any} */ e) => choose(e.target.value)}>
        <option value="">Like the system</option><option value="light">Light</option><option value="dark">Dark</option></select></label>
      <p>Desktop notifications: ${perm}
        ${perm === "default" && html` <button onClick=${() => Notification.requestPermission().then(setPerm)}>Allow</button>`}</p>
    </section>
    <${Privacy} app=${app} />
    <${Sessions} app=${app} />
    <button class="danger" onClick=${() => app.signOut()}>Sign out</button>
  </div>`;
}
