-- Replica version 3: new notes are added to the full-text index once per transaction, in bulk.
--
-- Version 1 indexed each note from a trigger as it was inserted. A statement that fires a
-- trigger runs inside a statement savepoint, and FTS5 writes its pending terms to disk at every
-- savepoint of a transaction that has touched it: a pulled page of 1,000 notes wrote 1,000
-- one-row index segments and merged them (half the time of applying notes and tags in a
-- bootstrap). Now an inserted note is only listed in note_fts_pending, an ordinary table, and
-- the code that writes (Replica.write) indexes the listed notes with one INSERT ... SELECT at
-- the end of the same transaction, then empties the list. A note changed or deleted while still
-- listed is not in the index yet, so the update and delete triggers leave the index alone for
-- it (FTS5 must never be told to delete a row it does not hold).
CREATE TABLE note_fts_pending (
    seq INTEGER PRIMARY KEY  -- note.seq of a note not yet in note_fts
);

DROP TRIGGER note_fts_insert;
CREATE TRIGGER note_fts_insert AFTER INSERT ON note BEGIN
    INSERT OR IGNORE INTO note_fts_pending(seq) VALUES (new.seq);
END;

DROP TRIGGER note_fts_update;
CREATE TRIGGER note_fts_update AFTER UPDATE OF body ON note
WHEN NOT EXISTS (SELECT 1 FROM note_fts_pending WHERE seq = old.seq) BEGIN
    INSERT INTO note_fts(note_fts, rowid, body) VALUES ('delete', old.seq, old.body);
    INSERT INTO note_fts(rowid, body) VALUES (new.seq, new.body);
END;

DROP TRIGGER note_fts_delete;
CREATE TRIGGER note_fts_delete AFTER DELETE ON note BEGIN
    INSERT INTO note_fts(note_fts, rowid, body)
        SELECT 'delete', old.seq, old.body WHERE NOT EXISTS (SELECT 1 FROM note_fts_pending WHERE seq = old.seq);
    DELETE FROM note_fts_pending WHERE seq = old.seq;
END;
