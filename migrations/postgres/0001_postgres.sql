-- glossd PostgreSQL store, version 1: the same tables as server/0001_server.sql.
-- The migrator splits this file on ';' at line ends: keep one statement per ';'.

CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

CREATE TABLE app_user (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE device_token (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES app_user(id),
    label      TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX device_token_user ON device_token(user_id);

-- seq comes from one identity sequence shared by every daemon. Writers take a transaction
-- lock per recipient user before inserting, so within one user's log rows commit in seq order
-- (see docs/sync-protocol.md, "Several daemons").
CREATE TABLE change_log (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES app_user(id),
    change_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    excerpt_id TEXT NOT NULL,
    field      TEXT,
    collection TEXT,
    via        TEXT,
    payload    TEXT NOT NULL,
    UNIQUE (user_id, change_id)
);
CREATE INDEX change_log_user_seq ON change_log(user_id, seq);
CREATE INDEX change_log_user_via ON change_log(user_id, via) WHERE via IS NOT NULL;
CREATE INDEX change_log_user_collection ON change_log(user_id, collection) WHERE collection IS NOT NULL;

CREATE TABLE field_state (
    user_id TEXT NOT NULL,
    field   TEXT NOT NULL,
    value   TEXT NOT NULL,
    stamp   TEXT NOT NULL,
    PRIMARY KEY (user_id, field)
);

CREATE TABLE superseded (
    user_id       TEXT NOT NULL,
    field         TEXT NOT NULL,
    stamp         TEXT NOT NULL,
    value         TEXT NOT NULL,
    superseded_by TEXT NOT NULL,
    PRIMARY KEY (user_id, field, stamp)
);

CREATE TABLE collection (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES app_user(id),
    tag        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (owner_id, tag)
);

CREATE TABLE collection_member (
    collection_id TEXT NOT NULL REFERENCES collection(id),
    user_id       TEXT NOT NULL REFERENCES app_user(id),
    role          TEXT NOT NULL CHECK (role IN ('reader', 'editor')),
    added_at      BIGINT NOT NULL,
    PRIMARY KEY (collection_id, user_id)
);
CREATE INDEX collection_member_user ON collection_member(user_id);
