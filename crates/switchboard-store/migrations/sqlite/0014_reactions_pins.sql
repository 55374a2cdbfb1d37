-- reactions: who reacted to which message with which emoji; reaction_counts keeps the
-- per-emoji totals (and when each emoji first appeared, for their order) so that a read
-- never counts rows. conv_events.reaction names the emoji of a reaction event.
-- pins: the pinned messages of each conversation; conversations.pinned_message_id is the
-- most recently pinned one still pinned.
CREATE TABLE reactions (
    message_id INTEGER NOT NULL,
    emoji TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;
CREATE INDEX reactions_recent ON reactions(message_id, created_at, user_id);
CREATE TABLE reaction_counts (
    message_id INTEGER NOT NULL,
    emoji TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji)
) WITHOUT ROWID;
ALTER TABLE conv_events ADD COLUMN reaction TEXT;
CREATE TABLE pins (
    conversation_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    pinned_by INTEGER NOT NULL,
    pinned_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, message_id)
) WITHOUT ROWID;
ALTER TABLE conversations ADD COLUMN pinned_message_id INTEGER;
