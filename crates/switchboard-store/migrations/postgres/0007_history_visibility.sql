-- groups and channels: whether members who join later see the history from before.
ALTER TABLE conversations ADD COLUMN history_shared BOOLEAN NOT NULL DEFAULT TRUE;
