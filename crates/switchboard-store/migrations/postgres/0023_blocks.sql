-- blocks: whom each user blocked; looked up by the blocked side too (who blocked me).
CREATE TABLE blocks (
    owner_id BIGINT NOT NULL,
    blocked_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks(blocked_id, owner_id);
