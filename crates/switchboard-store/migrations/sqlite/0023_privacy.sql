-- privacy_rules: each user's audience per privacy setting (absent: everyone).
CREATE TABLE privacy_rules (
    user_id INTEGER NOT NULL,
    setting INTEGER NOT NULL,
    audience INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, setting)
) WITHOUT ROWID;
-- privacy_exceptions: people a user always lets in (allow) or never lets in, per setting;
-- looked up by the other side (what does this owner decide about me).
CREATE TABLE privacy_exceptions (
    user_id INTEGER NOT NULL,
    setting INTEGER NOT NULL,
    other_id INTEGER NOT NULL,
    allow INTEGER NOT NULL,
    PRIMARY KEY (user_id, setting, other_id)
) WITHOUT ROWID;
CREATE INDEX privacy_exceptions_other ON privacy_exceptions(other_id, user_id);
