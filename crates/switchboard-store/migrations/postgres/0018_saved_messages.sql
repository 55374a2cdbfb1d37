-- saved_messages: each user's private list of saved messages (references, in the order
-- they were saved).
CREATE TABLE saved_messages (
    user_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    saved_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX saved_messages_recent ON saved_messages(user_id, saved_at, message_id);
