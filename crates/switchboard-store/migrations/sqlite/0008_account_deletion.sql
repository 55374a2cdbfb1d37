-- self-service account deletion: the row stays (messages keep their sender), the profile is erased.
ALTER TABLE users ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
