#ifndef GLOSS_RANK_H
#define GLOSS_RANK_H

#include <sqlite3.h>

/// Registers the FTS5 auxiliary function `gloss_bm25(fts_table, docsize)` on `db`: FTS5's own
/// bm25 as `bm25(fts_table)` computes it without column weights (same k1, b, idf and result)
/// that takes the row's size from the `docsize` argument, the
/// `sz` blob of the table's `%_docsize` row joined in by the query, instead of looking it up with a
/// statement of its own for every matching row. Returns an SQLite result code.
int gloss_register_rank(sqlite3 *db);

#endif
