-- friend_requests: requests waiting for their answer (an answer or a cancel deletes the
-- row; both people's logs keep what happened).
CREATE TABLE friend_requests (
    from_id INTEGER NOT NULL,
    to_id INTEGER NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id)
) WITHOUT ROWID;
CREATE INDEX friend_requests_incoming ON friend_requests(to_id, created_at);
