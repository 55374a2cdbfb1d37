-- groups and channels: a member muted until a time; only admins post while admins_only is on.
ALTER TABLE members ADD COLUMN post_muted_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN admins_only BOOLEAN NOT NULL DEFAULT FALSE;
