-- saved_messages: each user's private list of saved messages (references, in the order
-- they were saved).
CREATE TABLE saved_messages (
    user_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    saved_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;
CREATE INDEX saved_messages_recent ON saved_messages(user_id, saved_at, message_id);
