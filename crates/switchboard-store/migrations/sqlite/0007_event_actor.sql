-- who caused each conversation event and when (for deletes: who deleted); NULL for older rows.
ALTER TABLE conv_events ADD COLUMN actor_id INTEGER;
ALTER TABLE conv_events ADD COLUMN created_at INTEGER;
