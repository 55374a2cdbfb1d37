-- a user's synced settings: a small key/value store shared by their devices.
CREATE TABLE user_settings (
    user_id BIGINT NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
