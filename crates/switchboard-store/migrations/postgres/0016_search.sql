-- Full-text search: the folded words of every text message (switchboard_core::search) as
-- a tsvector of the 'simple' configuration (no stemming, no stop words), with a GIN index.
-- search_index records how far rebuilding has come: messages with
-- rebuilt_upto < id <= rebuild_end still wait to be indexed; every message after
-- rebuild_end was indexed when it was written. Without its row the index was never built:
-- the first rebuild step sets rebuild_end to the newest message then.
CREATE TABLE message_search (
    message_id BIGINT PRIMARY KEY,
    tsv TSVECTOR NOT NULL
);
CREATE INDEX message_search_tsv ON message_search USING GIN (tsv);
CREATE TABLE search_index (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    rebuilt_upto BIGINT NOT NULL,
    rebuild_end BIGINT NOT NULL
);
CREATE INDEX message_files_message ON message_files(conversation_id, seq);
