// Privacy: who may message me, add me to groups, see when I am online, see my photo and
// bio, and find me; each with people always or never let in, picked by username. Changes
// from my other devices arrive as privacyChanged events.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { Audience, PrivacySetting } from "@switchboard/sdk/gen/users_pb.js";
import { humanError } from "./errors.js";

/** @typedef {import("./state.js").AppState} AppState */

/** @type {[PrivacySetting, string][]} */
const SETTINGS = [
  [PrivacySetting.DIRECT_MESSAGES, "Who can message me"],
  [PrivacySetting.GROUP_INVITES, "Who can add me to groups"],
  [PrivacySetting.PRESENCE, "Who can see when I am online"],
  [PrivacySetting.PROFILE_PHOTO, "Who can see my photo"],
  [PrivacySetting.BIO, "Who can see my bio"],
  [PrivacySetting.SEARCH, "Who can find me"],
];

/** @type {[Audience, string][]} */
const AUDIENCES = [
  [Audience.EVERYONE, "Everyone"],
  [Audience.CONTACTS, "My contacts"],
  [Audience.FRIENDS, "Friends (mutual contacts)"],
  [Audience.NOBODY, "Nobody"],
];

/** Finds an account by exact username: my contacts first, then search. @param {AppState} app @param {string} name */
async function byUsername(app, name) {
  const wanted = name.trim().replace(/^@/, "").toLowerCase();
  for (const u of app.users.values()) if (u.username.toLowerCase() === wanted) return u;
  const r = await app.sb.users.searchUsers({ query: wanted, limit: 20 });
  return r.users.find((u) => u.username.toLowerCase() === wanted);
}

/** One setting: the audience and its exceptions. @param {{ app: AppState, setting: PrivacySetting, label: string, onError: (e: unknown) => void }} props */
function Rule({ app, setting, label, onError }) {
  const rule = app.privacy.get(setting);
  const [name, setName] = useState("");
  if (!rule) return null;
  const save = (/** @type {Partial<typeof rule>} */ patch) => app.setPrivacy({ ...rule, ...patch }).catch(onError);
  const list = (/** @type {string[]} */ ids, /** @type {"allowUserIds" | "denyUserIds"} */ key, /** @type {string} */ title) =>
    ids.length > 0 && html`<div class="row" role="group" aria-label=${`${label}: ${title}`}><span class="hint">${title}:</span>${ids.map(
      (id) => html`<span key=${id} class="flag">${app.userName(id)}
        <button class="small" aria-label=${`Remove ${app.userName(id)}`} onClick=${() => save({ [key]: ids.filter((x) => x !== id) })}>×</button></span>`,
    )}</div>`;
  const add = async (/** @type {"allowUserIds" | "denyUserIds"} */ key) => {
    try {
      const u = await byUsername(app, name);
      if (!u) return onError(`Nobody is called ${name.trim()}.`);
      app.users.set(u.id, u);
      const other = key === "allowUserIds" ? "denyUserIds" : "allowUserIds";
      await app.setPrivacy({ ...rule, [key]: [...new Set([...rule[key], u.id])], [other]: rule[other].filter((x) => x !== u.id) });
      setName("");
    } catch (err) {
      onError(err);
    }
  };
  return html`<fieldset class="stack privacy-rule">
    <label>${label} <select aria-label=${label} data-setting=${setting} value=${rule.audience} onChange=${(/** @type {any} */ e) => save({ audience: Number(e.target.value) })}>
      ${AUDIENCES.map(([a, text]) => html`<option value=${a}>${text}</option>`)}</select></label>
    ${list(rule.allowUserIds, "allowUserIds", "Always")}
    ${list(rule.denyUserIds, "denyUserIds", "Never")}
    <div class="row">
      <input aria-label=${`${label}: exception`} placeholder="username" value=${name} onInput=${(/** @type {any} */ e) => setName(e.target.value)} />
      <button class="small" disabled=${!name.trim()} onClick=${() => add("allowUserIds")}>Always</button>
      <button class="small" disabled=${!name.trim()} onClick=${() => add("denyUserIds")}>Never</button>
    </div>
  </fieldset>`;
}

/** @param {{ app: AppState }} props */
export function Privacy({ app }) {
  const [error, setError] = useState("");
  useEffect(() => {
    app.loadPrivacy().catch((e) => setError(humanError(e)));
  }, []);
  const onError = (/** @type {unknown} */ e) => setError(typeof e === "string" ? e : humanError(e));
  return html`<section class="card" aria-labelledby="privacy-title">
    <h2 id="privacy-title">Privacy</h2>
    <p class="hint">People you blocked are always kept out.</p>
    ${SETTINGS.map(([s, label]) => html`<${Rule} key=${s} app=${app} setting=${s} label=${label} onError=${onError} />`)}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </section>`;
}
