// The composer: text with a kept draft, mentions with autocomplete, attachments with
// upload progress (refused before upload when too large), reply and edit, typing signals.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { uploadFile } from "@switchboard/sdk";
import { humanError } from "./errors.js";
import { bytes, parseMarkup } from "./format.js";
import { localInput, tomorrowMorning } from "./scheduled.js";
import { StickerPicker } from "./expressions.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").Message} Message
 * @typedef {{ name: string, sent: number, total: number, error: string }} Upload
 */

const TYPING_EVERY_MS = 3000;
const draftKey = (/** @type {string} */ id) => `switchboard.draft.${id}`;

/** @param {{ app: AppState, id: string, reply: Message | null, edit: Message | null, onDone: () => void }} props */
export function Composer({ app, id, reply, edit, onDone }) {
  const [text, setText] = useState(() => localStorage.getItem(draftKey(id)) ?? "");
  const [uploads, setUploads] = useState(/** @type {Upload[]} */ ([]));
  const [error, setError] = useState("");
  const [suggest, setSuggest] = useState(/** @type {{ start: number, query: string, pick: number } | null} */ (null));
  const [flags, setFlags] = useState({ important: false, silent: false, onlineOnly: false, noLinkPreview: false });
  const [flagMenu, setFlagMenu] = useState(false);
  const [stickers, setStickers] = useState(false);
  const [later, setLater] = useState("");
  const input = useRef(/** @type {HTMLTextAreaElement | null} */ (null));
  const files = useRef(/** @type {HTMLInputElement | null} */ (null));
  const typedAt = useRef(0);
  useEffect(() => {
    setText(localStorage.getItem(draftKey(id)) ?? "");
    setError("");
    setUploads([]);
  }, [id]);
  useEffect(() => {
    if (edit && edit.content.case === "text") {
      setText(edit.content.value.text);
      input.current?.focus();
    }
  }, [edit]);
  useEffect(() => {
    if (reply) input.current?.focus();
  }, [reply]);

  const keep = (/** @type {string} */ t) => {
    setText(t);
    if (t) localStorage.setItem(draftKey(id), t);
    else localStorage.removeItem(draftKey(id));
  };

  const candidates = () => {
    if (!suggest) return [];
    const q = suggest.query.toLowerCase();
    const members = [...(app.reads.get(id)?.keys() ?? [])].filter((u) => u !== app.me?.id);
    const people = members
      .map((u) => app.users.get(u))
      .filter((u) => !!u && (u.username.toLowerCase().startsWith(q) || u.displayName.toLowerCase().startsWith(q)))
      .slice(0, 6)
      .map((u) => ({ label: `${u?.displayName || u?.username} @${u?.username}`, insert: `@${u?.username} ` }));
    if ("all".startsWith(q)) people.push({ label: "@all — everyone here", insert: "@all " });
    return people;
  };

  const onInput = (/** @type {any} */ e) => {
    const t = /** @type {string} */ (e.target.value);
    keep(t);
    const caret = e.target.selectionStart ?? t.length;
    const m = /(^|\s)@([\p{L}\p{N}_.-]*)$/u.exec(t.slice(0, caret));
    setSuggest(m ? { start: caret - m[2].length - 1, query: m[2], pick: 0 } : null);
    if (Date.now() - typedAt.current > TYPING_EVERY_MS && t) {
      typedAt.current = Date.now();
      void app.sb.signals.setTyping({ conversationId: id, typing: true }).catch(() => {});
    }
  };

  const complete = (/** @type {string} */ insert) => {
    if (!suggest) return;
    const el = input.current;
    const caret = el?.selectionStart ?? text.length;
    const t = text.slice(0, suggest.start) + insert + text.slice(caret);
    keep(t);
    setSuggest(null);
    requestAnimationFrame(() => {
      const at = suggest.start + insert.length;
      el?.setSelectionRange(at, at);
      el?.focus();
    });
  };

  const stopTyping = () => {
    if (typedAt.current) void app.sb.signals.setTyping({ conversationId: id, typing: false }).catch(() => {});
    typedAt.current = 0;
  };

  const submit = async () => {
    const body = text.trim();
    if (!body && !uploads.length) return;
    setError("");
    if (edit) {
      try {
        const { text: t, entities } = parseMarkup(body);
        const all = [...entities, ...app.emojiEntities(id, t)];
        await app.sb.messages.editMessage({ conversationId: id, messageId: edit.id, text: { text: t, entities: all } });
        keep("");
        onDone();
      } catch (e) {
        setError(humanError(e));
      }
      return;
    }
    keep("");
    stopTyping();
    onDone();
    setFlags({ important: false, silent: false, onlineOnly: false, noLinkPreview: false });
    setFlagMenu(false);
    if (later) {
      const at = new Date(later).getTime();
      setLater("");
      app.schedule(id, body, at).catch((e) => setError(humanError(e)));
      return;
    }
    void app.send(id, { text: body, replyTo: flags.onlineOnly ? "" : reply?.id ?? "", ...flags });
  };

  const attach = async (/** @type {FileList | null} */ list) => {
    if (!list?.length) return;
    const limits = app.server?.limits;
    const max = Number(limits?.maxFileBytes ?? 0n);
    const picked = [...list];
    const most = limits?.maxAttachments || 10;
    if (picked.length > most) {
      setError(`At most ${most} files per message.`);
      return;
    }
    const tooBig = picked.find((f) => max > 0 && f.size > max);
    if (tooBig) {
      setError(`“${tooBig.name}” is ${bytes(tooBig.size)}; the server accepts files up to ${bytes(max)}.`);
      return;
    }
    setError("");
    /** @type {Upload[]} */
    const state = picked.map((f) => ({ name: f.name, sent: 0, total: f.size, error: "" }));
    setUploads(state);
    const caption = text.trim();
    try {
      const ids = await Promise.all(
        picked.map((f, i) =>
          uploadFile(app.sb, {
            blob: f,
            name: f.name,
            onProgress: (sent, total) => {
              state[i] = { ...state[i], sent, total };
              setUploads([...state]);
            },
          }),
        ),
      );
      keep("");
      onDone();
      setUploads([]);
      await app.send(id, { text: caption, replyTo: reply?.id ?? "", fileIds: ids, important: flags.important, silent: flags.silent, noLinkPreview: flags.noLinkPreview });
    } catch (e) {
      setUploads([]);
      setError(humanError(e));
    }
  };

  const onKeyDown = (/** @type {KeyboardEvent} */ e) => {
    const options = candidates();
    if (suggest && options.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = options.length;
        setSuggest({ ...suggest, pick: (suggest.pick + (e.key === "ArrowDown" ? 1 : n - 1)) % n });
        return;
      }
      if (e.key === "Tab" || e.key === "Enter") {
        e.preventDefault();
        complete(options[suggest.pick % options.length].insert);
        return;
      }
    }
    if (e.key === "Escape") {
      setSuggest(null);
      if (edit) keep("");
      onDone();
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void submit();
    }
  };

  const options = candidates();
  const banner = edit ? "Editing message" : reply ? `Replying to ${app.userName(reply.senderId)}` : "";
  return html`<form class="composer" onSubmit=${(/** @type {Event} */ e) => { e.preventDefault(); void submit(); }}>
    ${banner && html`<div class="composer-context">${banner} <button type="button" class="link" onClick=${() => { if (edit) keep(""); onDone(); }}>Cancel</button></div>`}
    ${uploads.length > 0 && html`<ul class="uploads" aria-label="Uploads">${uploads.map(
      (u) => html`<li>${u.name} <progress max=${u.total || 1} value=${u.sent} aria-label=${`Uploading ${u.name}`}></progress></li>`,
    )}</ul>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${suggest && options.length > 0 && html`<ul class="suggest" role="listbox" aria-label="Mention">${options.map(
      (o, i) => html`<li role="option" aria-selected=${i === suggest.pick % options.length}><button type="button" onMouseDown=${(/** @type {Event} */ e) => { e.preventDefault(); complete(o.insert); }}>${o.label}</button></li>`,
    )}</ul>`}
    <div class="composer-row">
      <button type="button" class="attach" aria-label="Attach files" disabled=${flags.onlineOnly} onClick=${() => files.current?.click()}>📎</button>
      <button type="button" class="stickers-toggle" aria-label="Stickers" aria-expanded=${stickers} disabled=${!!edit}
        onClick=${() => setStickers(!stickers)}>😺</button>
      ${stickers && html`<${StickerPicker} app=${app} id=${id} onClose=${() => setStickers(false)} />`}
      <button type="button" class=${`flags-toggle ${flags.important || flags.silent || flags.onlineOnly || flags.noLinkPreview ? "on" : ""}`} aria-label="Send options"
        aria-expanded=${flagMenu} onClick=${() => setFlagMenu(!flagMenu)}>⚑</button>
      ${flagMenu && html`<div class="flag-menu" role="group" aria-label="Send options">
        <label><input type="checkbox" checked=${flags.important} onChange=${() => setFlags({ ...flags, important: !flags.important })} /> Important</label>
        <label><input type="checkbox" checked=${flags.silent} onChange=${() => setFlags({ ...flags, silent: !flags.silent })} /> Silent (no notification)</label>
        <label><input type="checkbox" checked=${flags.noLinkPreview} onChange=${() => setFlags({ ...flags, noLinkPreview: !flags.noLinkPreview })} /> No link preview</label>
        <label><input type="checkbox" checked=${flags.onlineOnly} onChange=${() => setFlags({ ...flags, onlineOnly: !flags.onlineOnly })} /> Only to who is online now (not kept)</label>
        <label>Send later <input type="datetime-local" aria-label="Send at" value=${later} min=${localInput(Date.now())}
          onInput=${(/** @type {any} */ e) => setLater(e.target.value)} /></label>
        ${!later && html`<button type="button" class="small" onClick=${() => setLater(localInput(tomorrowMorning()))}>Tomorrow 9:00</button>`}
      </div>`}
      <input type="file" multiple hidden ref=${files} onChange=${(/** @type {any} */ e) => { void attach(e.target.files); e.target.value = ""; }} />
      <textarea ref=${input} rows="1" placeholder="Write a message" aria-label="Message" value=${text} onInput=${onInput} onKeyDown=${onKeyDown} onBlur=${stopTyping}></textarea>
      <button type="submit" class="primary send" aria-label="Send">Send</button>
    </div>
  </form>`;
}
