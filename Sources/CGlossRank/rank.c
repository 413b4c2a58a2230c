// gloss_bm25: FTS5's bm25 ranking (sqlite/ext/fts5/fts5_aux.c, fts5Bm25Function) with one change:
// the size of the current row in tokens comes from an argument instead of xColumnSize.
//
// Why: ranking "trial army" on a 100k-excerpt replica ranks its 11,825 matches. FTS5's bm25 asks
// xColumnSize for every one of them, and FTS5 answers by running `SELECT sz FROM '%_docsize'
// WHERE id=?` (step, reset) per row: two thirds of the query's time. Joining the same shadow
// table into the query gives each row's `sz` through the query's own cursor, in rowid order.
//
//   SELECT f.rowid, gloss_bm25(excerpt_fts, d.sz) AS score
//   FROM excerpt_fts f JOIN excerpt_fts_docsize d ON d.id = f.rowid
//   WHERE excerpt_fts MATCH ? ORDER BY score LIMIT 20
//
// `sz` is FTS5's documented on-disk record: one SQLite varint per column, the column's size in
// tokens. Without the argument (or with NULL) the function falls back to xColumnSize, so it
// always returns what bm25() returns for the row.
#include "gloss_rank.h"

#include <math.h>
#include <string.h>

typedef struct {
    int nPhrase;    // phrases in the query
    double avgdl;   // average row size in tokens
    double *idf;    // nPhrase inverse document frequencies
    double *freq;   // nPhrase phrase frequencies of the current row (scratch)
} RankData;

static int countRow(const Fts5ExtensionApi *api, Fts5Context *fts, void *user) {
    (void)api; (void)fts;
    (*(sqlite3_int64 *)user)++;
    return SQLITE_OK;
}

// Computed once per query, as fts5Bm25GetData does: row count, average size, idf per phrase.
static int rankData(const Fts5ExtensionApi *api, Fts5Context *fts, RankData **out) {
    RankData *p = api->xGetAuxdata(fts, 0);
    if (p) { *out = p; return SQLITE_OK; }
    int nPhrase = api->xPhraseCount(fts);
    sqlite3_int64 bytes = (sqlite3_int64)sizeof(RankData) + (sqlite3_int64)sizeof(double) * 2 * nPhrase;
    p = sqlite3_malloc64((sqlite3_uint64)bytes);
    if (!p) return SQLITE_NOMEM;
    memset(p, 0, (size_t)bytes);
    p->nPhrase = nPhrase;
    p->idf = (double *)&p[1];
    p->freq = &p->idf[nPhrase];
    sqlite3_int64 nRow = 0, nToken = 0;
    int rc = api->xRowCount(fts, &nRow);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &nToken);
    if (rc == SQLITE_OK) p->avgdl = nRow > 0 ? (double)nToken / (double)nRow : 1.0;
    for (int i = 0; rc == SQLITE_OK && i < nPhrase; i++) {
        sqlite3_int64 nHit = 0;
        rc = api->xQueryPhrase(fts, i, &nHit, countRow);
        if (rc == SQLITE_OK) {
            double idf = log(((double)nRow - (double)nHit + 0.5) / ((double)nHit + 0.5));
            p->idf[i] = idf <= 0.0 ? 1e-6 : idf;
        }
    }
    if (rc == SQLITE_OK) rc = api->xSetAuxdata(fts, p, sqlite3_free);
    else sqlite3_free(p);
    if (rc == SQLITE_OK) *out = p;
    return rc;
}

// The sum of the varints in an FTS5 docsize record; -1 if the record is malformed.
static sqlite3_int64 recordTokens(const unsigned char *a, int n) {
    sqlite3_int64 total = 0;
    int i = 0;
    while (i < n) {
        sqlite3_uint64 v = 0;
        int k = 0;
        for (;;) {
            if (i >= n) return -1;
            unsigned char c = a[i++];
            if (k == 8) { v = (v << 8) | c; break; }       // ninth byte: all eight bits
            v = (v << 7) | (c & 0x7f);
            k++;
            if (!(c & 0x80)) break;
        }
        total += (sqlite3_int64)(unsigned)v;                // FTS5 reads sizes as 32-bit
    }
    return total;
}

static void glossBm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                      int nVal, sqlite3_value **apVal) {
    const double k1 = 1.2, b = 0.75;
    RankData *p = 0;
    int rc = rankData(api, fts, &p);
    int nInst = 0;
    if (rc == SQLITE_OK) {
        memset(p->freq, 0, sizeof(double) * (size_t)p->nPhrase);
        rc = api->xInstCount(fts, &nInst);
    }
    for (int i = 0; rc == SQLITE_OK && i < nInst; i++) {
        int phrase, column, offset;
        rc = api->xInst(fts, i, &phrase, &column, &offset);
        if (rc == SQLITE_OK) p->freq[phrase] += 1.0;
    }
    double D = -1;
    if (rc == SQLITE_OK && nVal >= 1 && sqlite3_value_type(apVal[0]) == SQLITE_BLOB) {
        D = (double)recordTokens(sqlite3_value_blob(apVal[0]), sqlite3_value_bytes(apVal[0]));
    }
    if (rc == SQLITE_OK && D < 0) {
        int nTok = 0;
        rc = api->xColumnSize(fts, -1, &nTok);
        D = (double)nTok;
    }
    if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
    double score = 0.0;
    for (int i = 0; i < p->nPhrase; i++) {
        score += p->idf[i] * ((p->freq[i] * (k1 + 1.0)) / (p->freq[i] + k1 * (1 - b + b * D / p->avgdl)));
    }
    sqlite3_result_double(ctx, -1.0 * score);
}

int gloss_register_rank(sqlite3 *db) {
    fts5_api *api = 0;
    sqlite3_stmt *stmt = 0;
    int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, 0);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", 0);
    sqlite3_step(stmt);
    rc = sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) return rc;
    if (!api || api->iVersion < 2) return SQLITE_ERROR;
    return api->xCreateFunction(api, "gloss_bm25", 0, glossBm25, 0);
}
