//! Column lists and stored codes shared by the SQL backends, so both read rows the same way.

/// Columns of a user row.
pub(crate) const USER_COLS: &str = "id, username, display_name, bio, status_text, bot, admin, disabled, created_at";
/// Columns of a session row.
pub(crate) const SESSION_COLS: &str = "id, user_id, device_name, platform, created_at, last_seen_at, access_expires_at";
/// Columns of a conversation row (alias `c`).
pub(crate) const CONV_COLS: &str = "c.id, c.kind, c.title, c.about, c.owner_id, c.member_count, c.last_seq, \
     c.created_at, c.last_activity_at, c.direct_a, c.direct_b, c.space_id, c.parent_id, c.root_message_id";
/// How many columns `CONV_COLS` has.
pub(crate) const CONV_COLS_LEN: usize = 14;
/// Columns of a member row (alias `m`).
pub(crate) const MEMBER_COLS: &str = "m.conversation_id, m.user_id, m.role, m.rights, m.joined_at, m.joined_seq, \
     m.read_seq, m.delivered_seq, m.visible_from_seq, m.muted_until, m.pinned, m.archived, m.draft";
/// Columns of a message row (alias `msg`).
pub(crate) const MSG_COLS: &str = "msg.id, msg.conversation_id, msg.seq, msg.sender_id, msg.created_at, \
     msg.edited_at, msg.content, msg.reply_to, msg.forward, msg.metadata, msg.client_key";

/// Stored kind of a text message (counters count only these).
pub(crate) const KIND_TEXT: i64 = 1;

/// The stored kind of a content.
pub(crate) fn content_kind(content: &switchboard_core::model::Content) -> i64 {
    use switchboard_core::model::Content;
    match content {
        Content::Text { .. } => KIND_TEXT,
        Content::Service(_) => 2,
        Content::Deleted => 3,
    }
}
