-- the format of each row's JSON columns (1: serde JSON of the core types as pinned by
-- switchboard-core/tests/fixtures/v1), so that a node can tell a newer node's rows apart.
ALTER TABLE messages ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE user_events ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE records ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
