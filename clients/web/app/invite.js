// An invite link (/invite/<code>): what it opens, and joining.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { go } from "./main.js";
import { humanError } from "./errors.js";
import { count } from "./format.js";

/** @param {{ app: import("./state.js").AppState, code: string }} props */
export function InviteScreen({ app, code }) {
  const [preview, setPreview] = useState(/** @type {import("@switchboard/sdk/gen/invites_pb.js").PreviewInviteResponse | null} */ (null));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState(false);
  useEffect(() => {
    app.sb.invites.previewInvite({ code }).then(setPreview).catch((e) => setError(humanError(e)));
  }, [code]);
  const join = async () => {
    setBusy(true);
    setError("");
    try {
      const r = await app.sb.invites.joinByInvite({ code });
      if (r.pending) {
        setPending(true);
        return;
      }
      await app.refreshConversation(r.conversationId);
      const target = r.channelId || app.spaces.get(r.conversationId)?.defaultChannelId || r.conversationId;
      await app.refreshConversation(target);
      go(`/c/${target}`);
    } catch (e) {
      setError(humanError(e));
    } finally {
      setBusy(false);
    }
  };
  const conv = preview?.conversation;
  return html`<div class="invite card" role="region" aria-label="Invite">
    ${!preview && !error && html`<p>Looking at the invite…</p>`}
    ${conv && html`<h1>${conv.title || "A conversation"}</h1>
      <p>${conv.about}</p>
      <p class="hint">${count(conv.memberCount, "member")}</p>
      ${preview?.joined
        ? html`<button class="primary" onClick=${() => go(`/c/${preview?.invite?.channelId || conv.id}`)}>Open</button>`
        : pending
          ? html`<p role="status">Your request to join was sent; you will be let in once it is accepted.</p>`
          : html`<button class="primary" disabled=${busy} onClick=${join}>${preview?.requireApproval ? "Ask to join" : "Join"}</button>`}`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}
