-- avatars: an image file (public, with a square preview) for users and conversations.
ALTER TABLE users ADD COLUMN avatar_file_id BIGINT REFERENCES files(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN avatar_file_id BIGINT REFERENCES files(id) ON DELETE SET NULL;
