-- files: the blobs in use, stored files and their previews, uploads in progress, and which
-- messages carry which files.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    deleting BOOLEAN NOT NULL DEFAULT FALSE,
    size INTEGER NOT NULL,
    used_at INTEGER NOT NULL
);
CREATE INDEX blobs_used ON blobs(used_at);

CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    width INTEGER,
    height INTEGER,
    duration_ms INTEGER,
    blurhash TEXT,
    waveform TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL
);
CREATE INDEX files_owner ON files(owner_id);
CREATE INDEX files_sha256 ON files(sha256);
CREATE INDEX files_processing ON files(id) WHERE state = 'processing';

CREATE TABLE thumbnails (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    size TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    bytes INTEGER NOT NULL,
    mime TEXT NOT NULL,
    PRIMARY KEY (file_id, size)
);
CREATE INDEX thumbnails_sha256 ON thumbnails(sha256);

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    declared_mime TEXT NOT NULL,
    length INTEGER NOT NULL,
    upload_offset INTEGER NOT NULL DEFAULT 0,
    parts TEXT NOT NULL DEFAULT '',
    declared_sha256 TEXT,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    file_id INTEGER REFERENCES files(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX uploads_owner ON uploads(owner_id);
CREATE INDEX uploads_expiry ON uploads(expires_at);

CREATE TABLE message_files (
    file_id INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (file_id, conversation_id, seq)
) WITHOUT ROWID;
