-- friend_requests: requests waiting for their answer (an answer or a cancel deletes the
-- row; both people's logs keep what happened).
CREATE TABLE friend_requests (
    from_id BIGINT NOT NULL,
    to_id BIGINT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX friend_requests_incoming ON friend_requests(to_id, created_at);
