-- messages: marked important by the sender (shown, counted, searchable), or sent silently
-- (notifies nobody).
ALTER TABLE messages ADD COLUMN important BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE messages ADD COLUMN silent BOOLEAN NOT NULL DEFAULT FALSE;
