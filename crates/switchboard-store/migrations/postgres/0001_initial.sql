-- accounts, sessions, conversations, members, messages and the sync logs.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    username_canon TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    display_name_canon TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    status_text TEXT NOT NULL DEFAULT '',
    bot BOOLEAN NOT NULL DEFAULT FALSE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    last_user_seq BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX users_username_prefix ON users (username_canon text_pattern_ops);
CREATE INDEX users_display_name_prefix ON users (display_name_canon text_pattern_ops);

CREATE TABLE registration_invites (
    code_hash BYTEA PRIMARY KEY,
    max_uses BIGINT NOT NULL,
    uses BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    device_name TEXT NOT NULL,
    platform TEXT NOT NULL,
    access_hash BYTEA NOT NULL UNIQUE,
    access_expires_at BIGINT NOT NULL,
    refresh_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE conversations (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    about TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    creator_id BIGINT NOT NULL,
    client_key TEXT,
    member_count BIGINT NOT NULL DEFAULT 0,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    direct_a BIGINT,
    direct_b BIGINT
);
CREATE UNIQUE INDEX conversations_direct ON conversations(direct_a, direct_b) WHERE direct_a IS NOT NULL;
CREATE UNIQUE INDEX conversations_client_key ON conversations(creator_id, client_key) WHERE client_key IS NOT NULL;

CREATE TABLE members (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    role BIGINT NOT NULL,
    rights BIGINT NOT NULL DEFAULT 0,
    joined_at BIGINT NOT NULL,
    joined_seq BIGINT NOT NULL,
    read_seq BIGINT NOT NULL DEFAULT 0,
    delivered_seq BIGINT NOT NULL DEFAULT 0,
    visible_from_seq BIGINT NOT NULL DEFAULT 0,
    muted_until BIGINT NOT NULL DEFAULT 0,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    draft TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    seq BIGINT NOT NULL,
    sender_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    kind BIGINT NOT NULL,
    content TEXT NOT NULL,
    reply_to BIGINT,
    forward TEXT,
    metadata TEXT,
    client_key TEXT,
    mentions_all BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX messages_seq ON messages(conversation_id, seq);
CREATE UNIQUE INDEX messages_client_key ON messages(sender_id, client_key) WHERE client_key IS NOT NULL;

CREATE TABLE mentions (
    user_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
);

CREATE TABLE hidden_messages (
    user_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, message_id)
);

CREATE TABLE conv_events (
    conversation_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    kind BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE user_events (
    user_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
);
