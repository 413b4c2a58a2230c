import CGlossRank
import CSQLite
import GlossMigrations

/// A value bound to or read from SQLite.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case text(String)
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }
}

public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let path: String

    /// The file is damaged or is not an SQLite database at all.
    public var isCorruption: Bool {
        let primary = code & 0xFF
        return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
    }

    /// A constraint failed (unique, foreign key, check, not null): the statement's data, not the
    /// database, was at fault.
    public var isConstraint: Bool { code & 0xFF == SQLITE_CONSTRAINT }

    /// Another connection held the lock past the busy timeout.
    public var isBusy: Bool { code & 0xFF == SQLITE_BUSY }

    public var description: String {
        if isCorruption {
            return "the database \(path) is damaged or is not a Gloss database (\(message))"
        }
        return "SQLite error \(code) on \(path): \(message)"
    }
}

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// SQLite's process-wide settings, applied once before the first connection opens: memory
/// statistics off (see `gloss_sqlite3_disable_memstatus`).
private let sqliteConfigured: Void = { _ = gloss_sqlite3_disable_memstatus() }()

/// One SQLite connection. Not thread-safe: its owner must serialise access (a serial queue or one
/// task at a time); it is marked Sendable only so such an owner can hand it to that queue.
public final class Database: @unchecked Sendable {
    public let path: String
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    /// The statements prepared last from literal (or small) SQL Strings, found by the String's
    /// identity (its two words) before `cache` is asked: looking a statement up by its text
    /// hashed the whole text, up to 2k instructions a statement, 3 % of a replica applying a
    /// pulled page (callgrind). The entries keep their Strings alive, so equal words always mean
    /// equal text (a literal's words point at its constant bytes, a small string's hold its
    /// bytes, and a heap string's storage cannot be freed and reused while an entry holds it).
    private var recent: [(words: StringWords, statement: Statement, sql: String)] = []
    private var nextRecent = 0
    static let recentCapacity = 16

    /// Opens (creating it if needed, unless `create` is false) the database at `path` in WAL
    /// mode with synchronous=NORMAL and a page cache of up to `cacheMiB`.
    public init(path: String, readOnly: Bool = false, create: Bool = true, cacheMiB: Int = 64) throws {
        self.path = path
        sqliteConfigured
        var h: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0))
        let rc = sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let h else {
            let message = h.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let h { sqlite3_close_v2(h) }
            throw SQLiteError(code: rc, message: message, path: path)
        }
        handle = h
        sqlite3_busy_timeout(h, 5000)
        sqlite3_extended_result_codes(h, 1)
        if !readOnly {
            try execute("PRAGMA journal_mode=WAL")
        }
        try execute("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-\(cacheMiB * 1024)")
    }

    /// Adds the FTS5 ranking function `gloss_bm25(fts_table, docsize)` to this connection
    /// (Sources/CGlossRank: FTS5's bm25, with the row's `%_docsize` record passed in by the query).
    public func registerRankFunction() throws {
        let rc = gloss_register_rank(handle)
        if rc != SQLITE_OK { throw error(rc) }
    }

    /// Frees the pages this connection caches and is not using (`sqlite3_db_release_memory`); they
    /// are read again from the file (the kernel's cache, usually) when next needed.
    public func releaseMemory() {
        sqlite3_db_release_memory(handle)
    }

    /// Frames in the WAL after this connection's last commit, once `trackWALFrames()` was called
    /// (SQLite's WAL hook; it replaces the automatic checkpoint, so call it only on a connection
    /// that runs `wal_autocheckpoint=0`). Read it on the connection's own queue.
    public private(set) var walFrames = 0

    public func trackWALFrames() {
        sqlite3_wal_hook(
            handle,
            { context, _, _, frames in
                Unmanaged<Database>.fromOpaque(context!).takeUnretainedValue().walFrames = Int(frames)
                return SQLITE_OK
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Bytes of heap this connection's page cache holds now (`SQLITE_DBSTATUS_CACHE_USED`).
    public var cacheBytes: Int {
        var current: Int32 = 0, highest: Int32 = 0
        sqlite3_db_status(handle, SQLITE_DBSTATUS_CACHE_USED, &current, &highest, 0)
        return Int(current)
    }

    deinit {
        recent.removeAll()
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    func error(_ code: Int32) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), path: path)
    }

    /// Runs one or more statements with no parameters.
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: message, path: path)
        }
    }

    /// A prepared statement, cached by its text.
    public func prepare(_ sql: String) throws -> Statement {
        let words = StringWords(sql)
        for entry in recent where entry.words == words {
            sqlite3_reset(entry.statement.stmt)  // `bind` clears what it does not bind
            return entry.statement
        }
        let s: Statement
        if let cached = cache[sql] {
            sqlite3_reset(cached.stmt)
            s = cached
        } else {
            var stmt: OpaquePointer?
            let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
            guard rc == SQLITE_OK, let stmt else { throw error(rc) }
            s = Statement(stmt, db: self)
            cache[sql] = s
        }
        // only literals and small strings: an SQL String built for one call (interpolated) is
        // never met again by identity, and would push out the entries that are
        guard words.isImmortal else { return s }
        let entry = (words: words, statement: s, sql: sql)
        if recent.count < Self.recentCapacity {
            recent.append(entry)
        } else {
            recent[nextRecent] = entry
            nextRecent = (nextRecent + 1) % Self.recentCapacity
        }
        return s
    }

    /// Runs `body` in a transaction (BEGIN IMMEDIATE by default, so writers queue instead of
    /// failing half-way); commits if it returns, rolls back if it throws.
    public func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs one statement with parameters, returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ values: SQLValue...) throws -> Int {
        let s = try prepare(sql)
        try s.bind(values)
        while try s.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Rows of a query mapped by `row`.
    public func query<T>(_ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws -> T) throws -> [T] {
        let s = try prepare(sql)
        try s.bind(values)
        var out: [T] = []
        while try s.step() { out.append(try row(s)) }
        return out
    }

    /// The first row of a query, if any.
    public func first<T>(_ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws -> T) throws -> T? {
        let s = try prepare(sql)
        try s.bind(values)
        defer { s.reset() }
        return try s.step() ? try row(s) : nil
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// `PRAGMA quick_check`: nil when the file is sound, else what SQLite found.
    public func quickCheck() throws -> String? {
        let rows = try query("PRAGMA quick_check") { $0.text(0) }
        return rows == ["ok"] ? nil : rows.prefix(5).joined(separator: "; ")
    }
}

/// A String's two words as they are stored: equal for two Strings that share their bytes'
/// storage (or hold the same small string, or are the same literal).
struct StringWords: Equatable {
    let a: UInt64
    let b: UInt64
    init(_ s: String) {
        precondition(MemoryLayout<String>.size == 16)
        (a, b) = unsafeBitCast(s, to: (UInt64, UInt64).self)
    }

    /// A literal or a small string (the top bit of a String's second word on 64-bit platforms):
    /// its words stay the same for as long as the program runs. Only a hint: were the layout
    /// different, the cache would keep other strings too, or none, and stay correct.
    var isImmortal: Bool { b >> 63 == 1 }
}

/// A prepared statement. Columns are read by index.
public final class Statement {
    let stmt: OpaquePointer
    unowned let db: Database

    init(_ stmt: OpaquePointer, db: Database) {
        self.stmt = stmt
        self.db = db
    }

    deinit { sqlite3_finalize(stmt) }

    public func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    /// Binds `values` to the first parameters; any parameter after them is bound to NULL.
    public func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(stmt)
        // clearing every binding first cost ~500 instructions a statement, most of them
        // for nothing: a statement's values usually bind every parameter
        if values.count < Int(sqlite3_bind_parameter_count(stmt)) { sqlite3_clear_bindings(stmt) }
        for (i, v) in values.enumerated() { try bind(Int32(i + 1), v) }
    }

    public func bind(_ index: Int32, _ value: SQLValue) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(stmt, index)
        case .int(let v): rc = sqlite3_bind_int64(stmt, index, v)
        case .text(let s):
            var s = s
            rc = s.withUTF8 { buf -> Int32 in
                guard let base = buf.baseAddress else { return sqlite3_bind_text(stmt, index, "", 0, transient) }
                return base.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                    sqlite3_bind_text(stmt, index, $0, Int32(buf.count), transient)
                }
            }
        }
        if rc != SQLITE_OK { throw db.error(rc) }
    }

    /// Advances; true when a row is available.
    public func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let e = db.error(rc)
        sqlite3_reset(stmt)
        throw e
    }

    /// Binds, runs to completion and resets.
    public func run(_ values: SQLValue...) throws {
        try bind(values)
        while try step() {}
        sqlite3_reset(stmt)
    }

    public func int(_ col: Int32) -> Int64 { sqlite3_column_int64(stmt, col) }
    public func isNull(_ col: Int32) -> Bool { sqlite3_column_type(stmt, col) == SQLITE_NULL }
    public func optionalInt(_ col: Int32) -> Int64? { isNull(col) ? nil : int(col) }

    public func text(_ col: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, col) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, col))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    public func optionalText(_ col: Int32) -> String? { isNull(col) ? nil : text(col) }

    /// A text column's bytes in SQLite's own buffer, without copying them. Valid only until the
    /// statement steps, resets or is finalized, or the same column is read again as another type
    /// (reading other columns leaves it valid): use it before any of those.
    public func textBuffer(_ col: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let p = sqlite3_column_text(stmt, col) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, col)))
    }

    /// A text column's bytes as stored, without making a String of them.
    public func textBytes(_ col: Int32) -> [UInt8] {
        guard let p = sqlite3_column_text(stmt, col) else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, col))))
    }
}

/// The schema version on disk is newer than this binary knows.
public struct SchemaTooNewError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let onDisk: Int
    public let known: Int
    public var description: String {
        "\(path) has schema version \(onDisk), but this program knows only up to \(known); use a newer version of Gloss"
    }
}

/// Applies SQL migrations in order, each in its own transaction, recording each one in
/// `schema_migrations` and `PRAGMA user_version`.
public enum Migrator {
    public static func migrate(_ db: Database, _ migrations: [MigrationFile], now: String) throws {
        let current = Int(try db.first("PRAGMA user_version") { $0.int(0) } ?? 0)
        let known = migrations.map(\.version).max() ?? 0
        if current > known { throw SchemaTooNewError(path: db.path, onDisk: current, known: known) }
        try apply(db, migrations, after: current, now: now)
    }

    /// Applies the migrations above `current`. Each runs in its own write transaction, which
    /// reads the version again: another process (`glossd serve` starting while `glossd token add`
    /// runs) may have applied it since `current` was read, and then it is skipped, not repeated.
    public static func apply(_ db: Database, _ migrations: [MigrationFile], after current: Int, now: String) throws {
        for m in migrations.sorted(by: { $0.version < $1.version }) where m.version > current {
            try db.transaction {
                guard try version(db) < m.version else { return }
                try db.execute(m.sql)
                try db.run(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    .int(Int64(m.version)), .text(m.name), .text(now))
                try db.execute("PRAGMA user_version = \(m.version)")
            }
        }
    }

    public static func version(_ db: Database) throws -> Int {
        Int(try db.first("PRAGMA user_version") { $0.int(0) } ?? 0)
    }
}

extension Statement {
    public func double(_ col: Int32) -> Double { sqlite3_column_double(stmt, col) }
}
