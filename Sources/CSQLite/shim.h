#include <sqlite3.h>

/// Turns off SQLite's memory-usage statistics (SQLITE_CONFIG_MEMSTATUS): with them on, every
/// sqlite3_malloc and sqlite3_free takes a process-wide mutex to count bytes, which nothing in
/// Gloss reads (connection cache sizes come from sqlite3_db_status, which does not need them).
/// sqlite3_config is variadic, which Swift cannot call, hence this wrapper. It only takes effect
/// before SQLite initializes (before the first connection opens); later it returns SQLITE_MISUSE
/// and changes nothing.
static inline int gloss_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
