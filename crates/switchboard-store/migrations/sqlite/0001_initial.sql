-- accounts, sessions, conversations, members, messages and the sync logs.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    username_canon TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    display_name_canon TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    status_text TEXT NOT NULL DEFAULT '',
    bot INTEGER NOT NULL DEFAULT 0,
    admin INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    last_user_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX users_display_name ON users(display_name_canon);

CREATE TABLE registration_invites (
    code_hash BLOB PRIMARY KEY,
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    device_name TEXT NOT NULL,
    platform TEXT NOT NULL,
    access_hash BLOB NOT NULL UNIQUE,
    access_expires_at INTEGER NOT NULL,
    refresh_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    about TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    creator_id INTEGER NOT NULL,
    client_key TEXT,
    member_count INTEGER NOT NULL DEFAULT 0,
    last_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    direct_a INTEGER,
    direct_b INTEGER
);
CREATE UNIQUE INDEX conversations_direct ON conversations(direct_a, direct_b) WHERE direct_a IS NOT NULL;
CREATE UNIQUE INDEX conversations_client_key ON conversations(creator_id, client_key) WHERE client_key IS NOT NULL;

CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    role INTEGER NOT NULL,
    rights INTEGER NOT NULL DEFAULT 0,
    joined_at INTEGER NOT NULL,
    joined_seq INTEGER NOT NULL,
    read_seq INTEGER NOT NULL DEFAULT 0,
    delivered_seq INTEGER NOT NULL DEFAULT 0,
    visible_from_seq INTEGER NOT NULL DEFAULT 0,
    muted_until INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    draft TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    sender_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at INTEGER,
    kind INTEGER NOT NULL,
    content TEXT NOT NULL,
    reply_to INTEGER,
    forward TEXT,
    metadata TEXT,
    client_key TEXT,
    mentions_all INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX messages_seq ON messages(conversation_id, seq);
CREATE UNIQUE INDEX messages_client_key ON messages(sender_id, client_key) WHERE client_key IS NOT NULL;

CREATE TABLE mentions (
    user_id INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
) WITHOUT ROWID;

CREATE TABLE hidden_messages (
    user_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;

CREATE TABLE conv_events (
    conversation_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;

CREATE TABLE user_events (
    user_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;
