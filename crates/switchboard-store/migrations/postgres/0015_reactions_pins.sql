-- reactions: who reacted to which message with which emoji; reaction_counts keeps the
-- per-emoji totals (and when each emoji first appeared, for their order) so that a read
-- never counts rows. conv_events.reaction names the emoji of a reaction event.
-- pins: the pinned messages of each conversation; conversations.pinned_message_id is the
-- most recently pinned one still pinned.
CREATE TABLE reactions (
    message_id BIGINT NOT NULL,
    emoji TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);
CREATE INDEX reactions_recent ON reactions(message_id, created_at, user_id);
CREATE TABLE reaction_counts (
    message_id BIGINT NOT NULL,
    emoji TEXT NOT NULL,
    count BIGINT NOT NULL,
    first_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji)
);
ALTER TABLE conv_events ADD COLUMN reaction TEXT;
CREATE TABLE pins (
    conversation_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    pinned_by BIGINT NOT NULL,
    pinned_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, message_id)
);
ALTER TABLE conversations ADD COLUMN pinned_message_id BIGINT;
