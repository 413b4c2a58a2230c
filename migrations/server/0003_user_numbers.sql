-- glossd SQLite store, version 3: the change log, the fields' values and the superseded values
-- are keyed by a small integer per user instead of the user's 36-character id.
--
-- Every key of the log's unique index and of its (user, seq) index, and the key of every field
-- row, began with the user's id as text: 36 bytes stored again in every index entry and
-- compared (memcmp) before anything else at every step of every index search, while the
-- daemon's writer is the one serial stage of a push. The same rows in raw SQLite (100k notes and
-- tags in one transaction): 22 % fewer WAL bytes with an integer, and less time (docs/PERFORMANCE.md).
--
-- The number is app_user.num, handed out as the largest so far + 1 (never the rowid: VACUUM may
-- renumber the rowids of a table without an INTEGER PRIMARY KEY). app_user itself cannot be
-- rebuilt here (device tokens and collections refer to it, and foreign keys are on), so num is
-- an added column with a unique index; glossd sets it for every user it creates.
ALTER TABLE app_user ADD COLUMN num INTEGER;
UPDATE app_user SET num = rowid;
CREATE UNIQUE INDEX app_user_num ON app_user(num);

-- The log is rebuilt as version 2 rebuilt it: the same rows and sequence numbers, and
-- AUTOINCREMENT's high-water mark carried over. A row whose user has no number (there is none:
-- the foreign key kept them out) would break NOT NULL and fail the migration rather than be lost.
CREATE TABLE change_log_v3 (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_num   INTEGER NOT NULL REFERENCES app_user(num),
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
    UNIQUE (user_num, stamp, change_id)
);
INSERT INTO change_log_v3(seq, user_num, change_id, kind, excerpt_id, field, collection, via, payload)
    SELECT seq, (SELECT num FROM app_user WHERE id = change_log.user_id), change_id, kind, excerpt_id, field, collection, via, payload
    FROM change_log ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'change_log_v3';
INSERT INTO sqlite_sequence(name, seq) SELECT 'change_log_v3', seq FROM sqlite_sequence WHERE name = 'change_log';
DROP TABLE change_log;
ALTER TABLE change_log_v3 RENAME TO change_log;
CREATE INDEX change_log_user_seq ON change_log(user_num, seq);
CREATE INDEX change_log_user_via ON change_log(user_num, via) WHERE via IS NOT NULL;
CREATE INDEX change_log_user_collection ON change_log(user_num, collection) WHERE collection IS NOT NULL;

CREATE TABLE field_state_v3 (
    user_num INTEGER NOT NULL,
    field    TEXT NOT NULL,
    value    TEXT NOT NULL,
    stamp    TEXT NOT NULL,
    PRIMARY KEY (user_num, field)
);
INSERT INTO field_state_v3(user_num, field, value, stamp)
    SELECT (SELECT num FROM app_user WHERE id = field_state.user_id), field, value, stamp FROM field_state;
DROP TABLE field_state;
ALTER TABLE field_state_v3 RENAME TO field_state;

CREATE TABLE superseded_v3 (
    user_num      INTEGER NOT NULL,
    field         TEXT NOT NULL,
    stamp         TEXT NOT NULL,
    value         TEXT NOT NULL,
    superseded_by TEXT NOT NULL,
    PRIMARY KEY (user_num, field, stamp)
);
INSERT INTO superseded_v3(user_num, field, stamp, value, superseded_by)
    SELECT (SELECT num FROM app_user WHERE id = superseded.user_id), field, stamp, value, superseded_by FROM superseded;
DROP TABLE superseded;
ALTER TABLE superseded_v3 RENAME TO superseded;
