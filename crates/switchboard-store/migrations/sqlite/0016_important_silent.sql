-- messages: marked important by the sender (shown, counted, searchable), or sent silently
-- (notifies nobody).
ALTER TABLE messages ADD COLUMN important INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;
