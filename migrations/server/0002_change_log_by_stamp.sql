-- glossd SQLite store, version 2: the change log's duplicate check is ordered by stamp.
--
-- Version 1 kept UNIQUE (user_id, change_id). Change ids of field changes start with the
-- note id or excerpt id they touch, so that index was keyed by random text: every commit of a
-- push rewrote index pages all over it (a third of the writer's time went to commits). A
-- field change's id ends with "@STAMP", and stamps grow with time, so an index whose second
-- key is that stamp grows at its end. The stamp is a virtual generated column (no bytes on
-- disk, only in the index): the text after the id's first '@', or '' for an excerpt
-- ("e:ID" has none). (user_id, stamp, change_id) is unique exactly when (user_id, change_id) is,
-- since the stamp is a function of the change id.
--
-- SQLite cannot drop a table's UNIQUE constraint, so the table is rebuilt with the same rows
-- and sequence numbers, and AUTOINCREMENT's high-water mark is carried over: a sequence number
-- handed out once is never handed out again, even when its row was deleted since.
CREATE TABLE change_log_v2 (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES app_user(id),
    change_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    excerpt_id TEXT NOT NULL,
    field      TEXT,
    collection TEXT,
    via        TEXT,
    payload    TEXT NOT NULL,
    stamp      TEXT GENERATED ALWAYS AS (
        CASE WHEN instr(change_id, '@') > 0 THEN substr(change_id, instr(change_id, '@') + 1) ELSE '' END
    ) VIRTUAL,
    UNIQUE (user_id, stamp, change_id)
);
INSERT INTO change_log_v2(seq, user_id, change_id, kind, excerpt_id, field, collection, via, payload)
    SELECT seq, user_id, change_id, kind, excerpt_id, field, collection, via, payload FROM change_log ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'change_log_v2';
INSERT INTO sqlite_sequence(name, seq) SELECT 'change_log_v2', seq FROM sqlite_sequence WHERE name = 'change_log';
DROP TABLE change_log;
ALTER TABLE change_log_v2 RENAME TO change_log;
CREATE INDEX change_log_user_seq ON change_log(user_id, seq);
CREATE INDEX change_log_user_via ON change_log(user_id, via) WHERE via IS NOT NULL;
CREATE INDEX change_log_user_collection ON change_log(user_id, collection) WHERE collection IS NOT NULL;
