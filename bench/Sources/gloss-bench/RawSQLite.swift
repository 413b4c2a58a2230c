import Foundation
import GlossCorpus
import GlossModel
import GlossSQLite

/// The ceiling: raw SQLite (through the same thin wrapper, no Gloss logic) storing the same rows
/// in one transaction, WAL, synchronous=NORMAL.
enum RawSQLite {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func run(corpus path: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var parsed: ParsedCorpus!
        let parse = try seconds { parsed = try CompilationParser().parse(bytes) }
        let n = parsed.excerpts.count
        print(String(format: "parse only (Gloss's parser, ids included): %.2f s (%.0f excerpts/s)", parse, Double(n) / parse))
        let dir = NSTemporaryDirectory() + "gloss-raw-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let db = try Database(path: dir + "/raw.sqlite")
        try db.execute("""
            CREATE TABLE excerpt (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text TEXT NOT NULL, citation_raw TEXT NOT NULL);
            CREATE VIRTUAL TABLE excerpt_fts USING fts5(text, citation_raw, content='excerpt', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
            CREATE TABLE change_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, change_id TEXT NOT NULL, payload TEXT NOT NULL, UNIQUE (user_id, change_id));
            """)
        let rows = try seconds {
            try db.transaction {
                let s = try db.prepare("INSERT INTO excerpt(id, text, citation_raw) VALUES (?, ?, ?)")
                for e in parsed.excerpts { try s.run(.text(e.id), .text(e.text), .text(e.citation.raw)) }
            }
        }
        let fts = try seconds { try db.execute("INSERT INTO excerpt_fts(excerpt_fts) VALUES ('rebuild')") }
        print(String(format: "raw SQLite: %d excerpt rows in one transaction %.2f s (%.0f rows/s); FTS5 rebuild %.2f s; together %.0f excerpts/s",
                     n, rows, Double(n) / rows, fts, Double(n) / (rows + fts)))
        // the daemon's log rows for the same changes, as JSON
        let changes = parsed.excerpts.prefix(n).map { ChangeWriter.json(.excerpt($0)) }
        let log = try seconds {
            try db.transaction {
                let s = try db.prepare("INSERT INTO change_log(user_id, change_id, payload) VALUES ('u', ?, ?) ON CONFLICT DO NOTHING")
                for (i, json) in changes.enumerated() { try s.run(.text("e:\(i)"), .text(json)) }
            }
        }
        print(String(format: "raw SQLite: %d change-log rows (excerpt JSON) in one transaction %.2f s (%.0f rows/s)", n, log, Double(n) / log))
        let read = try seconds {
            for _ in 0..<100 { _ = try db.query("SELECT id, text FROM excerpt ORDER BY seq LIMIT 10") { $0.text(0) } }
        }
        print(String(format: "raw SQLite: first 10 rows, warm, %.3f ms per query", read * 1000 / 100))
        let search = try seconds {
            for _ in 0..<20 {
                _ = try db.query("SELECT rowid FROM excerpt_fts WHERE excerpt_fts MATCH '\"trial\" \"army\"' ORDER BY rank LIMIT 20") { $0.int(0) }
            }
        }
        print(String(format: "raw SQLite: FTS5 'trial army' ranked, first 20, warm, %.2f ms per query", search * 1000 / 20))
    }
}
