-- glossd SQLite store, version 1. Kept close to portable SQL for the PostgreSQL store.

CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

CREATE TABLE app_user (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Device tokens: only a SHA-256 hash of each token is stored.
CREATE TABLE device_token (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES app_user(id),
    label      TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX device_token_user ON device_token(user_id);

-- Every distinct change each user's replicas must receive, in the order the daemon accepted
-- it: what they pushed, and what shared collections delivered to them (via = OWNER/TAG).
-- Losing writes are logged too, so every replica ends with the same history.
CREATE TABLE change_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES app_user(id),
    change_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    excerpt_id TEXT NOT NULL,
    field      TEXT,                   -- FieldKey text; NULL for excerpts
    collection TEXT,                   -- a note's collection (OWNER/TAG), NULL when personal
    via        TEXT,                   -- OWNER/TAG when delivered through a shared collection
    payload    TEXT NOT NULL,          -- the change as JSON
    UNIQUE (user_id, change_id)
);
CREATE INDEX change_log_user_seq ON change_log(user_id, seq);
CREATE INDEX change_log_user_via ON change_log(user_id, via) WHERE via IS NOT NULL;
CREATE INDEX change_log_user_collection ON change_log(user_id, collection) WHERE collection IS NOT NULL;

-- A shared collection: every excerpt carrying TAG in the owner's space.
CREATE TABLE collection (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES app_user(id),
    tag        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (owner_id, tag)
);

CREATE TABLE collection_member (
    collection_id TEXT NOT NULL REFERENCES collection(id),
    user_id       TEXT NOT NULL REFERENCES app_user(id),
    role          TEXT NOT NULL CHECK (role IN ('reader', 'editor')),
    added_at      INTEGER NOT NULL,
    PRIMARY KEY (collection_id, user_id)
);
CREATE INDEX collection_member_user ON collection_member(user_id);

-- Current value of each field (last writer wins), per user.
CREATE TABLE field_state (
    user_id TEXT NOT NULL,
    field   TEXT NOT NULL,
    value   TEXT NOT NULL,
    stamp   TEXT NOT NULL,
    PRIMARY KEY (user_id, field)
);

-- Values that lost a merge on the daemon.
CREATE TABLE superseded (
    user_id       TEXT NOT NULL,
    field         TEXT NOT NULL,
    stamp         TEXT NOT NULL,
    value         TEXT NOT NULL,
    superseded_by TEXT NOT NULL,
    PRIMARY KEY (user_id, field, stamp)
);
