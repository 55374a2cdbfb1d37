-- messages: the preview cards of their first links (format-encoded, NULL until the server
-- adds them), and whether the sender opted out of them; scheduled messages keep the
-- opt-out until they are sent.
ALTER TABLE messages ADD COLUMN link_previews TEXT;
ALTER TABLE messages ADD COLUMN no_link_preview BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE scheduled_messages ADD COLUMN no_link_preview BOOLEAN NOT NULL DEFAULT FALSE;
