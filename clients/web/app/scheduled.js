// Scheduled messages of the open chat: the composer's "send later" picker and the list
// (send now, change the time, cancel).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { humanError } from "./errors.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").ScheduledMessage} ScheduledMessage
 */

/** A time for a datetime-local input. @param {number} ms */
export function localInput(ms) {
  const d = new Date(ms);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Tomorrow at nine, the picker's first suggestion. */
export function tomorrowMorning() {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(9, 0, 0, 0);
  return d.getTime();
}

/**
 * The chat's scheduled messages, as a bar that opens the list.
 * @param {{ app: AppState, id: string }} props
 */
export function ScheduledBar({ app, id }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState("");
  const list = app.scheduledIn(id);
  useEffect(() => void app.loadScheduled(id), [id]);
  if (list.length === 0) return null;
  const act = async (/** @type {() => Promise<unknown>} */ f) => {
    setError("");
    try {
      await f();
      await app.loadScheduled(id);
    } catch (e) {
      setError(humanError(e));
    }
  };
  return html`<div class="scheduled-bar">
    <button class="pinned-latest" aria-expanded=${open} onClick=${() => setOpen(!open)}>🕓 ${list.length} scheduled</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${open && html`<ul class="pinned-list" aria-label="Scheduled messages">${list.map((s) => html`<li>
      <span class="hint">${new Date(Number(s.sendAtMs)).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}</span>
      <span>${s.text?.text ?? ""}</span>
      ${s.failedReason && html`<span class="error">${s.failedReason}</span>`}
      <input type="datetime-local" aria-label="New time" value=${localInput(Number(s.sendAtMs))}
        onChange=${(/** @type {any} */ e) => act(() => app.sb.messages.updateScheduledMessage({ id: s.id, sendAtMs: BigInt(new Date(e.target.value).getTime()) }))} />
      <button class="small" onClick=${() => act(() => app.sb.messages.sendScheduledMessageNow({ id: s.id }))}>Send now</button>
      <button class="small" onClick=${() => act(() => app.sb.messages.cancelScheduledMessage({ id: s.id }))}>Cancel</button>
    </li>`)}</ul>`}
  </div>`;
}
