-- avatars: an image file (public, with a square preview) for users and conversations.
-- No foreign key: files name their owner, so one would make a cycle between users and
-- files; deleting a file clears the avatars that use it.
ALTER TABLE users ADD COLUMN avatar_file_id INTEGER;
ALTER TABLE conversations ADD COLUMN avatar_file_id INTEGER;
