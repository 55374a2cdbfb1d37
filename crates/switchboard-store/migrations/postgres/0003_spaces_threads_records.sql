-- spaces, channels and threads on conversations; versioned records.
ALTER TABLE conversations ADD COLUMN space_id BIGINT;
ALTER TABLE conversations ADD COLUMN parent_id BIGINT;
ALTER TABLE conversations ADD COLUMN root_message_id BIGINT;
CREATE UNIQUE INDEX conversations_thread_root ON conversations(parent_id, root_message_id)
    WHERE parent_id IS NOT NULL;
CREATE INDEX conversations_threads ON conversations(parent_id, last_activity_at) WHERE parent_id IS NOT NULL;

CREATE TABLE records (
    scope BIGINT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (scope, kind, key)
);
CREATE INDEX records_kind_key ON records(kind, key text_pattern_ops);
