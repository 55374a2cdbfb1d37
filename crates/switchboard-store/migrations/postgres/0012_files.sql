-- files: the blobs in use, stored files and their previews, uploads in progress, and which
-- messages carry which files.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    deleting BOOLEAN NOT NULL DEFAULT FALSE,
    size BIGINT NOT NULL,
    used_at BIGINT NOT NULL
);
CREATE INDEX blobs_used ON blobs(used_at);

CREATE TABLE files (
    id BIGSERIAL PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    width BIGINT,
    height BIGINT,
    duration_ms BIGINT,
    blurhash TEXT,
    waveform TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX files_owner ON files(owner_id);
CREATE INDEX files_sha256 ON files(sha256);
CREATE INDEX files_processing ON files(id) WHERE state = 'processing';

CREATE TABLE thumbnails (
    file_id BIGINT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    size TEXT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    bytes BIGINT NOT NULL,
    mime TEXT NOT NULL,
    PRIMARY KEY (file_id, size)
);
CREATE INDEX thumbnails_sha256 ON thumbnails(sha256);

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    declared_mime TEXT NOT NULL,
    length BIGINT NOT NULL,
    upload_offset BIGINT NOT NULL DEFAULT 0,
    parts TEXT NOT NULL DEFAULT '',
    declared_sha256 TEXT,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    file_id BIGINT REFERENCES files(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX uploads_owner ON uploads(owner_id);
CREATE INDEX uploads_expiry ON uploads(expires_at);

CREATE TABLE message_files (
    file_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (file_id, conversation_id, seq)
);
