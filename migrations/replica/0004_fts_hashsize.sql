-- Replica version 4: the excerpt index collects up to 16 MiB of new terms in memory before it
-- writes them out as a segment (FTS5's 'hashsize', default 1 MiB). An import or a sync indexes
-- all its excerpts with one statement at the end of its transaction; with 1 MiB the 59 MB of
-- text of 100k excerpts became some sixty small segments, merged again and again as they piled
-- up. Counted with callgrind on a 100k-excerpt 'rebuild': 11.8 G instructions with 1 MiB, 6.0 G
-- with 16 MiB. Small transactions (a note, a tag, a page of a sync) never reach either bound, so
-- they are unchanged. The bound counts the pending terms' bytes, not the memory holding them: a
-- 100k-excerpt import peaked at 113 MB instead of 94 MB, a 1M one at 126 MB.
INSERT INTO excerpt_fts(excerpt_fts, rank) VALUES ('hashsize', 16777216);
