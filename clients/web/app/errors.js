// Human messages for every error the server sends: by reason first (the cases a person
// can act on), then by code.
import { Code, ConnectError, UploadError, errorInfo } from "@switchboard/sdk";

/** @type {Record<string, string>} */
const REASONS = {
  edit_window_closed: "This message is too old to edit.",
  owner_must_transfer: "Hand ownership to someone else before leaving.",
  invite_used_up: "This invite has been used up.",
  invite_expired: "This invite has expired.",
  limit_reached: "A limit was reached (members, roles, folders or channels).",
  folder_not_empty: "Move or delete what is in this folder first.",
  no_event_stream: "Not connected yet; try again in a moment.",
  already_subscribed: "This connection is already receiving events.",
  service_message: "Service messages cannot be deleted, pinned or reacted to.",
  reaction_limit: "This message has as many different reactions as it can take; pick one already there.",
  not_a_text_message: "Threads can only start on text messages.",
  no_password: "This account has no password to change.",
  rate_limited: "You are going a little fast. Wait a moment and try again.",
  sign_in_limited: "Too many sign-in attempts from this network. Wait a moment.",
  account_locked: "Too many failed sign-ins to this account. Try again later.",
  hashing_busy: "The server is busy signing people in. Try again in a moment.",
  too_many_connections: "Too many open tabs or devices. Close some and retry.",
  too_many_in_flight: "Too many requests at once; try again.",
  too_many_presence_subscriptions: "Following too many people's presence.",
  file_too_large: "This file is larger than the server accepts.",
  upload_length_exceeded: "The file changed while it was being sent.",
  quota_exceeded: "Your storage is full. Delete some files first.",
  type_not_allowed: "This kind of file is not accepted here.",
  checksum_mismatch: "The file arrived damaged; send it again.",
  offset_mismatch: "The upload got out of step; send it again.",
  upload_not_found: "The upload expired; send the file again.",
  image_too_large: "This image has too many pixels to process.",
  image_unreadable: "This image could not be read.",
  avatar_not_public_image: "An avatar must be an image.",
  range_not_satisfiable: "That part of the file does not exist.",
  link_invalid: "This link has expired.",
  sticker_elsewhere: "This space's stickers can only be sent in the space.",
  sticker_not_editable: "A sticker cannot be edited.",
  sticker_not_public_image: "A sticker must be an image.",
  sticker_limit: "This pack is full.",
  sticker_pack_limit: "There are as many sticker packs as allowed.",
  custom_emoji_elsewhere: "That custom emoji belongs to another space.",
  emoji_not_public_image: "A custom emoji must be an image.",
  custom_emoji_limit: "This space has as many custom emoji as allowed.",
  contact_limit: "You have as many contacts as the server allows.",
  not_reachable: "This person does not accept that from you.",
  already_friends: "You are already each other's contacts.",
  friend_request_limit: "You have many friend requests waiting; take some back first.",
  friendship_required: "On this server you can message someone once they accept your friend request.",
};

/** @type {Record<number, string>} */
const CODES = {
  [Code.InvalidArgument]: "That was not accepted",
  [Code.Unauthenticated]: "Your session has ended. Sign in again.",
  [Code.PermissionDenied]: "You are not allowed to do that.",
  [Code.NotFound]: "Not found (or you are not a member).",
  [Code.AlreadyExists]: "That already exists.",
  [Code.FailedPrecondition]: "That cannot be done right now.",
  [Code.ResourceExhausted]: "Too many requests. Wait a moment and try again.",
  [Code.Unimplemented]: "This server does not support that yet.",
  [Code.Unavailable]: "The server cannot be reached. Check your connection.",
  [Code.Internal]: "Something went wrong on the server.",
  [Code.DeadlineExceeded]: "The server took too long to answer; try again.",
  [Code.Canceled]: "Cancelled.",
  [Code.Unknown]: "Something went wrong.",
  [Code.Aborted]: "Interrupted; try again.",
  [Code.DataLoss]: "Something went wrong on the server.",
  [Code.OutOfRange]: "That was out of range.",
};

/**
 * What to tell a person about a failure.
 * @param {unknown} err
 * @returns {string}
 */
export function humanError(err) {
  if (err instanceof UploadError) {
    return REASONS[err.reason] ?? err.message;
  }
  if (!(err instanceof ConnectError) && err instanceof Error && err.name === "AbortError") return "Cancelled.";
  const info = errorInfo(err);
  if (info.reason && REASONS[info.reason]) return REASONS[info.reason];
  const base = CODES[info.code] ?? "Something went wrong.";
  if (info.code === Code.InvalidArgument || info.code === Code.AlreadyExists || info.code === Code.FailedPrecondition) {
    return info.message ? `${base}: ${info.message}` : base;
  }
  if (info.code === Code.ResourceExhausted && info.retryAfterMs > 0) {
    return `${base} (about ${Math.ceil(info.retryAfterMs / 1000)} s)`;
  }
  return base;
}

/** True when the failure is about the network or the server being away (worth retrying). */
export function isTransient(/** @type {unknown} */ err) {
  const code = errorInfo(err).code;
  return code === Code.Unavailable || code === Code.DeadlineExceeded || code === Code.Unknown || code === Code.Aborted;
}
