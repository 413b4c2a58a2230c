-- Replica version 2: the excerpts the daemon lacks are listed in a narrow table of their own.
-- Version 1 flagged them with excerpt.pushed; acknowledging a pushed batch then rewrote every
-- excerpt row of the batch (about 2 MB per 2,000 excerpts) to flip the flag. Now it deletes
-- a range of 2,000 small rows.
--
-- excerpt.pushed is no longer read or written (new rows keep its default). It is not dropped:
-- ALTER TABLE ... DROP COLUMN needs SQLite 3.35 and rewrites the whole excerpt table, which on
-- a large replica would make the first start after an upgrade take minutes.
CREATE TABLE excerpt_outbox (
    seq INTEGER PRIMARY KEY  -- excerpt.seq of an excerpt not yet acknowledged by the daemon
);
INSERT INTO excerpt_outbox(seq) SELECT seq FROM excerpt WHERE pushed = 0;
DROP INDEX excerpt_unpushed;

CREATE TRIGGER excerpt_outbox_delete AFTER DELETE ON excerpt BEGIN
    DELETE FROM excerpt_outbox WHERE seq = old.seq;
END;
