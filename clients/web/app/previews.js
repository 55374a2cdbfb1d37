// Link preview cards: what the server found on the pages a message links to (site, title,
// description and the page's image, re-hosted by the server so the reader's browser never
// contacts the site until the link is followed).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { fileUrl } from "./media.js";

/**
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").Message} Message
 * @typedef {import("@switchboard/sdk").Switchboard} Switchboard
 */

/** Only web links become anchors. @param {string} url */
function safeHref(url) {
  return /^https?:\/\//i.test(url) ? url : undefined;
}

/**
 * The small thumbnail of a card's image (or the image), fetched with the session's token.
 * @param {{ sb: Switchboard, fileId: string, thumb: boolean }} props
 */
function CardImage({ sb, fileId, thumb }) {
  const [src, setSrc] = useState("");
  useEffect(() => {
    let live = true;
    fileUrl(sb, fileId, thumb ? "small" : "").then(
      (u) => live && setSrc(u),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [fileId, thumb]);
  return src ? html`<img class="link-card-image" src=${src} alt="" />` : html`<div class="link-card-image placeholder"></div>`;
}

/** A message's link preview cards. @param {{ sb: Switchboard, m: Message }} props */
export function LinkPreviews({ sb, m }) {
  if (m.deleted || m.linkPreviews.length === 0) return null;
  return html`<div class="link-previews">${m.linkPreviews.map(
    (p) => html`<a class="link-card" key=${p.url} href=${safeHref(p.url)} target="_blank" rel="noopener noreferrer nofollow"
      aria-label=${`Link preview: ${p.title || p.url}`}>
      ${p.image?.file && html`<${CardImage} sb=${sb} fileId=${p.image.fileId} thumb=${p.image.file.thumbnails.length > 0} />`}
      <span class="link-card-text">
        ${p.siteName && html`<span class="link-card-site">${p.siteName}</span>`}
        ${p.title && html`<strong class="link-card-title">${p.title}</strong>`}
        ${p.description && html`<span class="link-card-description">${p.description}</span>`}
      </span>
    </a>`,
  )}</div>`;
}
