// Service messages as sentences, for the history and the chat list.
import { ServiceAction } from "@switchboard/sdk/gen/messages_pb.js";

/**
 * @typedef {import("./state.js").AppState} AppState
 * @typedef {import("@switchboard/sdk/gen/messages_pb.js").Message} Message
 */

/** A service message as a sentence. @param {AppState} app @param {Message} m */
export function serviceText(app, m) {
  if (m.content.case !== "service") return "";
  const s = m.content.value;
  const who = app.userName(m.senderId);
  const them = s.userIds.map((u) => app.userName(u)).join(", ");
  switch (s.action) {
    case ServiceAction.CREATED: return `${who} created ${s.title || "the conversation"}`;
    case ServiceAction.MEMBERS_ADDED: return `${who} added ${them}`;
    case ServiceAction.MEMBER_REMOVED: return `${who} removed ${them}`;
    case ServiceAction.MEMBER_LEFT: return `${them || who} left`;
    case ServiceAction.MEMBER_JOINED: return `${them || who} joined`;
    case ServiceAction.TITLE_CHANGED: return `${who} renamed this to “${s.title}”`;
    case ServiceAction.ABOUT_CHANGED: return `${who} changed the description`;
    case ServiceAction.OWNERSHIP_TRANSFERRED: return `${who} handed ownership to ${them}`;
    case ServiceAction.ADMIN_PROMOTED: return `${who} made ${them} an admin`;
    case ServiceAction.ADMIN_DEMOTED: return `${who} removed ${them} as admin`;
    case ServiceAction.MEMBER_BANNED: return `${who} banned ${them}`;
    case ServiceAction.MEMBER_UNBANNED: return `${who} unbanned ${them}`;
    case ServiceAction.MEMBER_TIMED_OUT: return `${who} timed out ${them}`;
    case ServiceAction.THREAD_STARTED: return `${who} started a thread`;
    case ServiceAction.AVATAR_CHANGED: return `${who} changed the picture`;
    case ServiceAction.HISTORY_VISIBILITY_CHANGED: return `${who} changed who sees the history`;
    case ServiceAction.POSTING_RESTRICTED: return `${who} changed who may post`;
    case ServiceAction.MESSAGE_PINNED: return `${who} pinned a message`;
    case ServiceAction.MESSAGE_UNPINNED: return `${who} unpinned a message`;
    default: return `${who} changed the settings`;
  }
}
