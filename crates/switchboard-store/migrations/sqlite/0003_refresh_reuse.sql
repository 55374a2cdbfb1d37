-- the refresh token a session's current one replaced, to recognise its reuse.
ALTER TABLE sessions ADD COLUMN prev_refresh_hash BLOB;
CREATE INDEX sessions_prev_refresh ON sessions(prev_refresh_hash) WHERE prev_refresh_hash IS NOT NULL;
