-- contacts: each user's people, with their own name for them (remark) and notes; an
-- entry is mutual when the other person has one for the owner too.
CREATE TABLE contacts (
    owner_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    remark TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    added_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX contacts_reverse ON contacts(contact_id, owner_id);
