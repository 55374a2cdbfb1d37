-- a group or channel dismissed by its owner: no members, nobody joins again.
ALTER TABLE conversations ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
