-- blocks: whom each user blocked; looked up by the blocked side too (who blocked me).
CREATE TABLE blocks (
    owner_id INTEGER NOT NULL,
    blocked_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX blocks_blocked ON blocks(blocked_id, owner_id);
