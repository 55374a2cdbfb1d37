-- scheduled_messages: messages to send later. Delivering one deletes its row and appends
-- the message in one transaction, so it goes out exactly once; claimed_until is a lease
-- that keeps other nodes from preparing the same delivery meanwhile (claimed with
-- FOR UPDATE SKIP LOCKED). failed holds why a delivery was refused (the sender may no
-- longer post there); failed rows wait for an edit, a reschedule or a cancel.
CREATE TABLE scheduled_messages (
    id BIGSERIAL PRIMARY KEY,
    sender_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    send_at BIGINT NOT NULL,
    content TEXT NOT NULL,
    reply_to BIGINT,
    metadata TEXT,
    important BOOLEAN NOT NULL DEFAULT FALSE,
    silent BOOLEAN NOT NULL DEFAULT FALSE,
    client_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    failed TEXT,
    format BIGINT NOT NULL
);
CREATE UNIQUE INDEX scheduled_messages_key ON scheduled_messages(sender_id, client_key);
CREATE INDEX scheduled_messages_due ON scheduled_messages(send_at) WHERE failed IS NULL;
