-- scheduled_messages: messages to send later. Delivering one deletes its row and appends
-- the message in one transaction, so it goes out exactly once; claimed_until is a lease
-- that keeps other nodes from preparing the same delivery meanwhile. failed holds why a
-- delivery was refused (the sender may no longer post there); failed rows wait for an
-- edit, a reschedule or a cancel.
CREATE TABLE scheduled_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    send_at INTEGER NOT NULL,
    content TEXT NOT NULL,
    reply_to INTEGER,
    metadata TEXT,
    important INTEGER NOT NULL DEFAULT 0,
    silent INTEGER NOT NULL DEFAULT 0,
    client_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    failed TEXT,
    format INTEGER NOT NULL
);
CREATE UNIQUE INDEX scheduled_messages_key ON scheduled_messages(sender_id, client_key);
CREATE INDEX scheduled_messages_due ON scheduled_messages(send_at) WHERE failed IS NULL;
