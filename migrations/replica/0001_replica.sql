-- Gloss replica schema, version 1.
-- One SQLite file per --home. Excerpts are immutable; notes and tags are per-field
-- last-writer-wins registers (value + HLC stamp); every local write also appends to outbox.

CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

-- replica_id, clock (last HLC stamp), remote_url, cursor, last_sync
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- A source is a citation without its page part: one book, article or archive volume.
CREATE TABLE source (
    id        INTEGER PRIMARY KEY,
    key       TEXT NOT NULL UNIQUE,
    authors   TEXT NOT NULL,          -- JSON array of strings
    title     TEXT NOT NULL,
    place     TEXT NOT NULL,
    publisher TEXT NOT NULL,
    year      INTEGER
);

CREATE TABLE excerpt (
    seq          INTEGER PRIMARY KEY, -- arrival order; rowid of the full-text index
    id           TEXT NOT NULL UNIQUE,
    text         TEXT NOT NULL,
    source_id    INTEGER NOT NULL REFERENCES source(id),
    citation_raw TEXT NOT NULL,
    pages        TEXT NOT NULL,
    remarks      TEXT NOT NULL,       -- JSON array of strings
    compilation  TEXT NOT NULL,
    pushed       INTEGER NOT NULL DEFAULT 0  -- 1 once the daemon has it (acknowledged or pulled)
);
CREATE INDEX excerpt_source ON excerpt(source_id);
-- excerpts not yet pushed are the excerpt part of the outbox
CREATE INDEX excerpt_unpushed ON excerpt(seq) WHERE pushed = 0;

-- How each excerpt came to this replica: '' for the user's own (imported here or pulled from
-- the user's own space), OWNER/TAG when a shared collection delivered it. When access to a
-- collection ends, excerpts left with no way in (and nothing of the user's on them) go.
CREATE TABLE excerpt_via (
    excerpt_id TEXT NOT NULL,
    via        TEXT NOT NULL,
    PRIMARY KEY (excerpt_id, via)
) WITHOUT ROWID;
CREATE INDEX excerpt_via_via ON excerpt_via(via);

CREATE TABLE note (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    excerpt_id    TEXT NOT NULL,      -- no foreign key: a note may arrive before its excerpt
    collection    TEXT,               -- OWNER/TAG for a shared note, NULL for a personal one
    created_at    INTEGER NOT NULL,   -- ms since 1970
    body          TEXT NOT NULL,
    body_stamp    TEXT NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0,
    deleted_stamp TEXT                -- NULL until the tombstone field is first written
);
CREATE INDEX note_excerpt ON note(excerpt_id);

CREATE TABLE tag (
    excerpt_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    present    INTEGER NOT NULL,
    stamp      TEXT NOT NULL,
    PRIMARY KEY (excerpt_id, name)
) WITHOUT ROWID;
CREATE INDEX tag_name ON tag(name, excerpt_id);

-- Values that lost a merge or were overwritten: last-writer-wins decides what is current,
-- but no one's words are thrown away. field is FieldKey's text form.
CREATE TABLE superseded (
    field         TEXT NOT NULL,
    stamp         TEXT NOT NULL,
    value         TEXT NOT NULL,
    superseded_by TEXT NOT NULL,
    PRIMARY KEY (field, stamp)
) WITHOUT ROWID;

-- Field changes not yet acknowledged by the daemon, in the order they were made, as JSON.
-- (Unpushed excerpts are found by excerpt.pushed = 0.)
CREATE TABLE outbox (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT NOT NULL UNIQUE,
    kind      TEXT NOT NULL,
    payload   TEXT NOT NULL
);

-- Excerpts are indexed in bulk by the code that inserts them, at the end of the same
-- transaction (one INSERT ... SELECT is several times faster than a per-row trigger).
CREATE VIRTUAL TABLE excerpt_fts USING fts5(
    text, citation_raw, content='excerpt', content_rowid='seq',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER excerpt_fts_delete AFTER DELETE ON excerpt BEGIN
    INSERT INTO excerpt_fts(excerpt_fts, rowid, text, citation_raw)
        VALUES ('delete', old.seq, old.text, old.citation_raw);
END;

CREATE VIRTUAL TABLE note_fts USING fts5(
    body, content='note', content_rowid='seq', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER note_fts_insert AFTER INSERT ON note BEGIN
    INSERT INTO note_fts(rowid, body) VALUES (new.seq, new.body);
END;
CREATE TRIGGER note_fts_update AFTER UPDATE OF body ON note BEGIN
    INSERT INTO note_fts(note_fts, rowid, body) VALUES ('delete', old.seq, old.body);
    INSERT INTO note_fts(rowid, body) VALUES (new.seq, new.body);
END;
CREATE TRIGGER note_fts_delete AFTER DELETE ON note BEGIN
    INSERT INTO note_fts(note_fts, rowid, body) VALUES ('delete', old.seq, old.body);
END;
