-- spaces, channels and threads on conversations; versioned records.
ALTER TABLE conversations ADD COLUMN space_id INTEGER;
ALTER TABLE conversations ADD COLUMN parent_id INTEGER;
ALTER TABLE conversations ADD COLUMN root_message_id INTEGER;
CREATE UNIQUE INDEX conversations_thread_root ON conversations(parent_id, root_message_id)
    WHERE parent_id IS NOT NULL;
CREATE INDEX conversations_threads ON conversations(parent_id, last_activity_at) WHERE parent_id IS NOT NULL;

CREATE TABLE records (
    scope INTEGER NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (scope, kind, key)
) WITHOUT ROWID;
CREATE INDEX records_kind_key ON records(kind, key);
