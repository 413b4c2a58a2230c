import Foundation
import GlossCorpus
import GlossMigrations
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

    /// Every measure of the runs, for their medians.
    struct Measures {
        var values: [String: [Double]] = [:]
        var units: [String: String] = [:]
        var order: [String] = []

        mutating func record(_ key: String, _ value: Double, _ unit: String) {
            if values[key] == nil { order.append(key) }
            values[key, default: []].append(value)
            units[key] = unit
        }
    }

    /// Runs the whole sequence `runs` times on new databases and records each measure's median.
    static func run(corpus path: String, annotations: Int, runs: Int = 3) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var m = Measures()
        for r in 0..<runs {
            print("raw SQLite, run \(r + 1) of \(runs):")
            try once(bytes: bytes, annotations: annotations, into: &m)
        }
        for key in m.order {
            let values = m.values[key]!
            Results.record(key, SyncBench.median(values), m.units[key]!)
            print("\(key): median \(String(format: "%.1f", SyncBench.median(values))) \(m.units[key]!) of " + values.map { String(format: "%.1f", $0) }.joined(separator: ", "))
        }
    }

    static func once(bytes: [UInt8], annotations: Int, into m: inout Measures) throws {
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
            """)
        let rows = try seconds {
            try db.transaction {
                let s = try db.prepare("INSERT INTO excerpt(id, text, citation_raw) VALUES (?, ?, ?)")
                for e in parsed.excerpts { try s.run(.text(e.id), .text(e.text), .text(e.citation.raw)) }
            }
        }
        // the index built with FTS5's default 1 MiB of pending terms, then as the replica builds it
        // (16 MiB: migrations/replica/0004_fts_hashsize.sql)
        let ftsDefault = try seconds { try db.execute("INSERT INTO excerpt_fts(excerpt_fts) VALUES ('rebuild')") }
        try db.execute("INSERT INTO excerpt_fts(excerpt_fts, rank) VALUES ('hashsize', 16777216)")
        let fts = try seconds { try db.execute("INSERT INTO excerpt_fts(excerpt_fts) VALUES ('rebuild')") }
        print(String(format: "raw SQLite: %d excerpt rows in one transaction %.2f s (%.0f rows/s); FTS5 rebuild %.2f s (%.2f s with the default hashsize); together %.0f excerpts/s",
                     n, rows, Double(n) / rows, fts, ftsDefault, Double(n) / (rows + fts)))
        m.record("raw.fts_rebuild_default", ftsDefault, "s")
        m.record("raw.fts_rebuild", fts, "s")
        m.record("raw.parse", Double(n) / parse, "excerpts/s")
        m.record("raw.excerpt_rows", Double(n) / rows, "rows/s")
        m.record("raw.import", Double(n) / (rows + fts), "excerpts/s")
        // the daemon's rows for the same changes, in the daemon's own schema (its migration, with
        // its indexes and foreign keys) and settings, with the same values: a user (rows keyed
        // by the user's number, as the daemon keys them), each change's id, kind, excerpt, field
        // key and JSON. What raw SQLite leaves out is Gloss's work: HTTP, decoding, checking, merging.
        let server = try Database(path: dir + "/server.sqlite")
        try server.execute("PRAGMA wal_autocheckpoint=0")
        try Migrator.migrate(server, Migrations.server, now: "0")
        let user = UUID().uuidString.lowercased()
        try server.run("INSERT INTO app_user(id, name, created_at, num) VALUES (?, 'raw', 0, 1)", .text(user))
        let userNum = SQLValue.int(1)  // the log and fields are keyed by the user's number, as glossd keys them
        let logRow = "INSERT INTO change_log(user_num, change_id, kind, excerpt_id, field, collection, via, payload) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?) ON CONFLICT(user_num, stamp, change_id) DO NOTHING"
        let changes = parsed.excerpts.prefix(n).map { e in (e.id, Change.excerpt(e).id, ChangeWriter.json(.excerpt(e))) }
        let log = try seconds {
            try server.transaction {
                let s = try server.prepare(logRow)
                for (excerpt, id, json) in changes { try s.run(userNum, .text(id), .text("excerpt"), .text(excerpt), .null, .text(json)) }
            }
        }
        print(String(format: "raw SQLite: %d change-log rows (excerpt JSON) in one transaction %.2f s (%.0f rows/s)", n, log, Double(n) / log))
        m.record("raw.log_excerpts", Double(n) / log, "rows/s")

        // the same number of annotations as the sync benchmark (half notes, half tags), as the
        // daemon stores them: a log row and the field's current value each
        let ids = parsed.excerpts.map(\.id)
        var rng = SplitMix(seed: 99)
        var notes: [(Change, String)] = []
        var tags: [(Change, String)] = []
        for i in 0..<annotations {
            let stamp = Stamp(wall: 1_764_000_000_000 + Int64(i), counter: 0, node: "rawbench00000001")
            let e = ids[Int(rng.next() % UInt64(ids.count))]
            if i % 2 == 0 {
                let h = NoteHeader(id: NoteID.make(milliseconds: stamp.wall), excerptId: e, createdAt: stamp.wall, collection: nil)
                let c = Change.noteBody(h, body: "Bench note \(i): compare the testimony with the archive record.", stamp: stamp, base: nil)
                notes.append((c, ChangeWriter.json(c)))
            } else {
                let c = Change.tag(excerptId: e, name: "t\(rng.next() % 50)", present: true, stamp: stamp, base: nil)
                tags.append((c, ChangeWriter.json(c)))
            }
        }
        try db.execute("""
            CREATE TABLE note (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, excerpt_id TEXT NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT NULL, body_stamp TEXT NOT NULL);
            CREATE VIRTUAL TABLE note_fts USING fts5(body, content='note', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
            CREATE TABLE tag (excerpt_id TEXT NOT NULL, name TEXT NOT NULL, present INTEGER NOT NULL, stamp TEXT NOT NULL, PRIMARY KEY (excerpt_id, name)) WITHOUT ROWID;
            """)
        let all = notes + tags
        let serverRows = try seconds {
            try server.transaction {
                let log = try server.prepare(logRow)
                let state = try server.prepare(
                    "INSERT INTO field_state(user_num, field, value, stamp) VALUES (?, ?, ?, ?) ON CONFLICT(user_num, field) DO UPDATE SET value = excluded.value, stamp = excluded.stamp")
                for (c, json) in all {
                    let key = c.field!.description
                    try log.run(userNum, .text(c.id), .text(c.kindName), .text(c.excerptId), .text(key), .text(json))
                    try state.run(userNum, .text(key), .text(FieldMergePlan.text(c)), .text(c.stamp!.description))
                }
            }
        }
        print(String(format: "raw SQLite: %d annotations as the daemon stores them (log row + field value) %.2f s (%.0f changes/s)",
                     all.count, serverRows, Double(all.count) / serverRows))
        m.record("raw.server_annotations", Double(all.count) / serverRows, "changes/s")
        let replicaRows = try seconds {
            try db.transaction {
                let note = try db.prepare("INSERT INTO note(id, excerpt_id, created_at, body, body_stamp) VALUES (?, ?, ?, ?, ?)")
                let tag = try db.prepare("INSERT OR REPLACE INTO tag(excerpt_id, name, present, stamp) VALUES (?, ?, 1, ?)")
                for (c, _) in all {
                    switch c {
                    case .noteBody(let h, let body, let stamp, _):
                        try note.run(.text(h.id), .text(h.excerptId), .int(h.createdAt), .text(body), .text(stamp.description))
                    case .tag(let e, let name, _, let stamp, _): try tag.run(.text(e), .text(name), .text(stamp.description))
                    default: break
                    }
                }
                try db.execute("INSERT INTO note_fts(note_fts) VALUES ('rebuild')")
            }
        }
        print(String(format: "raw SQLite: the same annotations as a replica stores them (note rows + full-text index, tag rows) %.2f s (%.0f changes/s)",
                     replicaRows, Double(all.count) / replicaRows))
        m.record("raw.replica_annotations", Double(all.count) / replicaRows, "changes/s")
        var pulledRows = 0
        let readLog = try seconds {
            pulledRows = try server.query("SELECT seq, payload FROM change_log WHERE user_num = ? ORDER BY seq", [userNum]) { $0.text(1).utf8.count }.count
        }
        print(String(format: "raw SQLite: reading back all %d log rows in order %.2f s (%.0f rows/s)", pulledRows, readLog, Double(pulledRows) / readLog))
        // the least a bootstrap of the same rows costs: read the log, store excerpts + index, store annotations
        let bootstrap = readLog + rows + fts + replicaRows
        print(String(format: "raw SQLite: bootstrap floor (read the log, store and index the excerpts, store the annotations) %.2f s", bootstrap))
        m.record("raw.bootstrap", bootstrap, "s")
        let read = try seconds {
            for _ in 0..<100 { _ = try db.query("SELECT id, text FROM excerpt ORDER BY seq LIMIT 10") { $0.text(0) } }
        }
        print(String(format: "raw SQLite: first 10 rows, warm, %.3f ms per query", read * 1000 / 100))
        // the ranked search as FTS5 offers it (bm25 looks up each match's size with a statement of
        // its own), and as Gloss runs it (the size joined in: Sources/CGlossRank), side by side
        try db.registerRankFunction()
        let rankedSQL = [
            "SELECT rowid FROM excerpt_fts WHERE excerpt_fts MATCH '\"trial\" \"army\"' ORDER BY rank LIMIT 20",
            """
            SELECT f.rowid, gloss_bm25(excerpt_fts, d.sz) AS score FROM excerpt_fts f JOIN excerpt_fts_docsize d ON d.id = f.rowid
            WHERE excerpt_fts MATCH '"trial" "army"' ORDER BY score, f.rowid LIMIT 20
            """,
        ]
        var ranked = [[Double]](repeating: [], count: 2)
        for _ in 0..<10 {
            for (i, sql) in rankedSQL.enumerated() {
                ranked[i].append(try seconds { _ = try db.query(sql) { $0.int(0) } } * 1000)
            }
        }
        let (stock, joined) = (SyncBench.median(ranked[0]), SyncBench.median(ranked[1]))
        print(String(format: "raw SQLite: FTS5 'trial army' ranked, first 20, warm, median of 10: ORDER BY rank %.2f ms, size joined %.2f ms", stock, joined))
        m.record("raw.search", stock, "ms")
        m.record("raw.search_joined", joined, "ms")
    }
}
