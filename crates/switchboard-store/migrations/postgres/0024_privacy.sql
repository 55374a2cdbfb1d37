-- privacy_rules: each user's audience per privacy setting (absent: everyone).
CREATE TABLE privacy_rules (
    user_id BIGINT NOT NULL,
    setting BIGINT NOT NULL,
    audience BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, setting)
);
-- privacy_exceptions: people a user always lets in (allow) or never lets in, per setting;
-- looked up by the other side (what does this owner decide about me).
CREATE TABLE privacy_exceptions (
    user_id BIGINT NOT NULL,
    setting BIGINT NOT NULL,
    other_id BIGINT NOT NULL,
    allow BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, setting, other_id)
);
CREATE INDEX privacy_exceptions_other ON privacy_exceptions(other_id, user_id);
