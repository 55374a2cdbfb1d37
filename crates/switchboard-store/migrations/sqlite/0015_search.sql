-- Full-text search: the folded words of every text message (switchboard_core::search),
-- in an FTS5 index whose rowid is the message id. It stores no text of its own
-- (contentless); rows are deleted by rowid. It keeps word positions (detail = full): bm25
-- needs each message's term frequencies, which the smaller detail levels do not keep.
-- search_index records how far rebuilding has come: messages with
-- rebuilt_upto < id <= rebuild_end still wait to be indexed; every message after
-- rebuild_end was indexed when it was written. Without its row the index was
-- never built: the first rebuild step sets rebuild_end to the newest message then.
CREATE VIRTUAL TABLE message_search USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    detail = full,
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TABLE search_index (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rebuilt_upto INTEGER NOT NULL,
    rebuild_end INTEGER NOT NULL
);
CREATE INDEX message_files_message ON message_files(conversation_id, seq);
