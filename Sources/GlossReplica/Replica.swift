import Foundation
import GlossCorpus
import GlossMigrations
import GlossModel
import GlossSQLite

public enum ReplicaError: Error, Sendable, Equatable, CustomStringConvertible {
    case prefixTooShort(String)
    case unknownExcerpt(String)
    case unknownNote(String)
    case ambiguous(kind: String, prefix: String, candidates: [String])
    case invalid(String)
    case corrupt(path: String, detail: String)
    case noteDeleted(String)

    public var description: String {
        switch self {
        case .prefixTooShort(let p): "id prefix '\(p)' is too short: give at least 4 characters"
        case .unknownExcerpt(let p): "no excerpt with id '\(p)'"
        case .unknownNote(let p): "no note with id '\(p)'"
        case .ambiguous(let kind, let p, let c):
            "\(kind) id prefix '\(p)' is ambiguous; it matches: \(c.joined(separator: ", "))\(c.count > 10 ? ", …" : "")"
        case .invalid(let m): m
        case .corrupt(let path, let detail):
            "the replica \(path) is damaged (\(detail)). Nothing was changed. To recover: move it aside "
                + "(mv \(path) \(path).damaged) and run 'gloss sync' to refetch from the daemon, "
                + "or 'gloss import' your export or corpus again"
        case .noteDeleted(let id): "note \(id) is deleted"
        }
    }
}

/// The result of an import: `{"imported", "duplicates", "sources", "warnings"}`.
public struct ImportSummary: Sendable, Codable, Equatable {
    public var imported: Int
    public var duplicates: Int
    public var sources: Int
    public var warnings: [String]
    public var notes: Int?
    public var tags: Int?

    public init(imported: Int, duplicates: Int, sources: Int, warnings: [String], notes: Int? = nil, tags: Int? = nil) {
        self.imported = imported
        self.duplicates = duplicates
        self.sources = sources
        self.warnings = warnings
        self.notes = notes
        self.tags = tags
    }
}

public struct TagCount: Sendable, Codable, Equatable {
    public var name: String
    public var count: Int
}

public struct SourceSummary: Sendable, Codable, Equatable {
    public var source: String
    public var authors: [String]
    public var title: String
    public var place: String
    public var publisher: String
    public var year: Int?
    public var excerpts: Int

    enum CodingKeys: String, CodingKey { case source, authors, title, place, publisher, year, excerpts }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(authors, forKey: .authors)
        try c.encode(title, forKey: .title)
        try c.encode(place, forKey: .place)
        try c.encode(publisher, forKey: .publisher)
        try c.encode(year, forKey: .year)  // null when unknown
        try c.encode(excerpts, forKey: .excerpts)
    }
}

public struct SearchHit: Sendable, Codable, Equatable {
    /// `excerpt` when the excerpt's text or citation matched, `note` when one of its notes did.
    public var kind: String
    public var excerptId: String
    public var noteId: String?
    public var snippet: String
    public var score: Double
    public var citation: String
}

public struct HistoryEntry: Sendable, Codable, Equatable {
    /// `body` or `deleted`.
    public var field: String
    public var value: String
    public var stamp: String
    public var writtenAt: String
    /// The stamp of the value that replaced it; nil for the current value.
    public var supersededBy: String?
    public var current: Bool
}

public struct ReplicaStatus: Sendable, Codable, Equatable {
    public var pending: Int
    public var lastSync: String?
    public var remote: String?
    public var excerpts: Int
    public var notes: Int
    public var replicaId: String
}

/// Owns the replica database: every read and every intent-named write transaction.
public final class Replica {
    public static let fileName = "replica.sqlite"

    public let home: String
    public let path: String
    public let db: Database
    /// Set while a group of pulled pages shares one transaction (`beginPullGroup`).
    var pullGroupOpen = false
    public let replicaID: String
    let now: @Sendable () -> Int64
    private var sourceIDs: [String: Int64] = [:]

    /// Opens (creating and migrating if needed) the replica in `home`.
    public init(home: String, now: @escaping @Sendable () -> Int64 = Replica.systemNow) throws {
        self.home = home
        self.now = now
        path = (home as NSString).appendingPathComponent(Replica.fileName)
        try FileManager.default.createDirectory(
            atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            db = try Database(path: path)
            try db.registerRankFunction()
            try Migrator.migrate(db, Migrations.replica, now: ISOTime.format(now()))
            if let id = try db.first("SELECT value FROM meta WHERE key = 'replica_id'", [], { $0.text(0) }) {
                replicaID = id
            } else {
                let id = Replica.newReplicaID()
                try db.run("INSERT INTO meta(key, value) VALUES ('replica_id', ?)", .text(id))
                replicaID = id
            }
        } catch let e as SQLiteError where e.isCorruption {
            throw ReplicaError.corrupt(path: path, detail: e.message)
        }
    }

    public static let systemNow: @Sendable () -> Int64 = {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func newReplicaID() -> String {
        String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))
    }

    /// Runs a write transaction, turning corruption into a clear error. It first indexes the
    /// excerpts a sync left unindexed (unless `indexingDeferredExcerpts` is false: only a sync's
    /// pages pass that), so that nothing else ever sees, or deletes, an excerpt missing from the
    /// full-text index; notes inserted in it are indexed at its end.
    func write<T>(indexingDeferredExcerpts: Bool = true, _ body: () throws -> T) throws -> T {
        // inside a pull group the group's transaction is the transaction (see beginPullGroup);
        // only pulled pages are applied there, since the group may yet be rolled back whole
        if pullGroupOpen {
            precondition(!indexingDeferredExcerpts, "only applyPulled writes inside a pull group")
            return try mappingCorruption(body)
        }
        do {
            return try mappingCorruption {
                try db.transaction {
                    if indexingDeferredExcerpts { try indexDeferredExcerpts() }
                    let result = try body()
                    try indexPendingNotes()
                    return result
                }
            }
        } catch {
            forgetRolledBack()
            throw error
        }
    }

    /// After a rollback: source ids cached during the transaction may name rows that are gone.
    func forgetRolledBack() { sourceIDs.removeAll() }

    func mappingCorruption<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as SQLiteError where e.isCorruption {
            throw ReplicaError.corrupt(path: path, detail: e.message)
        }
    }

    /// Adds the notes listed in `note_fts_pending` (by the insert trigger) to the full-text index
    /// in one statement, and empties the list. Indexing each note as it is inserted made FTS5
    /// write a one-row segment per note (migration 0003 explains why).
    func indexPendingNotes() throws {
        guard try db.first("SELECT 1 FROM note_fts_pending LIMIT 1", [], { _ in true }) != nil else { return }
        try db.execute("INSERT INTO note_fts(rowid, body) SELECT n.seq, n.body FROM note_fts_pending p JOIN note n ON n.seq = p.seq")
        try db.execute("DELETE FROM note_fts_pending")
    }

    // MARK: meta and clock

    func meta(_ key: String) throws -> String? {
        try db.first("SELECT value FROM meta WHERE key = ?", [.text(key)]) { $0.text(0) }
    }

    func setMeta(_ key: String, _ value: String?) throws {
        if let value {
            try db.run("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", .text(key), .text(value))
        } else {
            try db.run("DELETE FROM meta WHERE key = ?", .text(key))
        }
    }

    /// Loads the clock, lets `body` use it, stores it back. Call inside a write transaction.
    func withClock<T>(_ body: (inout HybridClock) throws -> T) throws -> T {
        let last = try meta("clock").flatMap { Stamp($0) }
        var clock = HybridClock(node: replicaID, last: last, now: now)
        let result = try body(&clock)
        try setMeta("clock", clock.last.description)
        return result
    }

    // MARK: import

    /// Inserts excerpts that are not there yet (by content id); they wait for sync as unpushed
    /// excerpts (`excerpt_outbox`).
    public func importExcerpts(_ excerpts: [Excerpt], progress: ((Int) -> Void)? = nil) throws -> (imported: Int, duplicates: Int) {
        try importExcerpts { insert in
            for (i, e) in excerpts.enumerated() {
                try insert(e)
                if let progress, i % 2048 == 0 { progress(i) }
            }
            progress?(excerpts.count)
        }
    }

    /// Imports the excerpts `produce` hands to the insert function it is given, as a stream, in one
    /// transaction: if `produce` throws, nothing of it is kept. Excerpts already here (or repeated
    /// in the stream) count as duplicates.
    public func importExcerpts(_ produce: (_ insert: (Excerpt) throws -> Void) throws -> Void) throws -> (imported: Int, duplicates: Int) {
        try write {
            let lastSeq = try maxExcerptSeq()
            var imported = 0
            var duplicates = 0
            try produce { e in
                if try insertExcerpt(e) { imported += 1 } else { duplicates += 1 }
            }
            // every excerpt new here waits for the next push (one statement: cheaper than a row each)
            try db.run("INSERT OR IGNORE INTO excerpt_outbox(seq) SELECT seq FROM excerpt WHERE seq > ?", .int(lastSeq))
            try indexExcerpts(after: lastSeq)
            return (imported, duplicates)
        }
    }

    func maxExcerptSeq() throws -> Int64 {
        try db.first("SELECT COALESCE(MAX(seq), 0) FROM excerpt") { $0.int(0) } ?? 0
    }

    /// Meta key: the excerpts after this sequence number are stored but not yet in the full-text
    /// index. A sync's pages leave them so and its last page indexes them all at once: FTS5 adds
    /// each page's rows as a new segment and keeps merging them, while one statement at the end
    /// builds the index in one pass. Absent when the index is complete.
    static let excerptsIndexedThrough = "excerpts_indexed_through"

    /// A sync indexes its excerpts once this many wait, whatever is still to come: the catch-up an
    /// interrupted sync leaves to the next write or search stays about two seconds at most, well
    /// inside another process's busy timeout (5 s).
    public var maxDeferredExcerpts: Int64 = 100_000

    /// Adds excerpts inserted after `seq` to the full-text index (call in the inserting
    /// transaction), with any a sync left unindexed before them. Into an empty index, a rebuild
    /// is fastest.
    func indexExcerpts(after seq: Int64) throws {
        let deferred = try meta(Replica.excerptsIndexedThrough).flatMap { Int64($0) }
        let from = min(seq, deferred ?? seq)
        if try maxExcerptSeq() > from {
            if from == 0 {
                try db.execute("INSERT INTO excerpt_fts(excerpt_fts) VALUES ('rebuild')")
            } else {
                try db.run("INSERT INTO excerpt_fts(rowid, text, citation_raw) SELECT seq, text, citation_raw FROM excerpt WHERE seq > ?", .int(from))
            }
        }
        if deferred != nil { try setMeta(Replica.excerptsIndexedThrough, nil) }
    }

    /// Indexes the excerpts a sync stored without indexing, if any (in a write transaction).
    func indexDeferredExcerpts() throws {
        guard let deferred = try meta(Replica.excerptsIndexedThrough).flatMap({ Int64($0) }) else { return }
        try indexExcerpts(after: deferred)
    }

    /// Insert-if-absent; true when inserted. (An import queues what it inserted for the next push.)
    @discardableResult
    func insertExcerpt(_ e: Excerpt) throws -> Bool {
        let sourceID = try sourceID(for: e.citation)
        let stmt = try db.prepare(
            "INSERT OR IGNORE INTO excerpt(id, text, source_id, citation_raw, pages, remarks, compilation) VALUES (?, ?, ?, ?, ?, ?, ?)")
        try stmt.run(
            .text(e.id), .text(e.text), .int(sourceID), .text(e.citation.raw), .text(e.citation.pages),
            .text(JSONText.strings(e.citation.remarks)), .text(e.compilation))
        if db.changes > 0 { return true }
        // already here, perhaps only through a shared collection: now it is the user's own too
        try db.prepare("INSERT OR IGNORE INTO excerpt_via(excerpt_id, via) SELECT ?, '' WHERE EXISTS (SELECT 1 FROM excerpt_via WHERE excerpt_id = ?)")
            .run(.text(e.id), .text(e.id))
        return false
    }

    func sourceID(for c: Citation) throws -> Int64 {
        let key = CompilationParser.sourceKey(rawCitation: c.raw)
        if let id = sourceIDs[key] { return id }
        if let id = try db.first("SELECT id FROM source WHERE key = ?", [.text(key)], { $0.int(0) }) {
            sourceIDs[key] = id
            return id
        }
        try db.prepare("INSERT INTO source(key, authors, title, place, publisher, year) VALUES (?, ?, ?, ?, ?, ?)").run(
            .text(key), .text(JSONText.strings(c.authors)), .text(c.title), .text(c.place), .text(c.publisher),
            c.year.map { .int(Int64($0)) } ?? .null)
        let id = db.lastInsertRowID
        sourceIDs[key] = id
        return id
    }

    /// Imports a `gloss export --format json` document: excerpts, then their notes (by id, so a
    /// second import adds nothing) and tags.
    public func importExport(_ doc: ExportDocument) throws -> ImportSummary {
        var warnings: [String] = []
        var excerpts: [Excerpt] = []
        for (i, r) in doc.excerpts.enumerated() {
            let e = Excerpt(text: r.text, citation: r.citation, compilation: r.compilation)
            if !r.id.isEmpty, r.id != e.id {
                warnings.append("excerpt \(i + 1): id \(r.id) does not match its text and citation; using \(e.id)")
            }
            excerpts.append(e)
        }
        let (imported, duplicates) = try importExcerpts(excerpts)
        var notes = 0
        var tags = 0
        try write {
            try withClock { clock in
                for (r, e) in zip(doc.excerpts, excerpts) {
                    for t in r.tags {
                        if let problem = Limits.validateTag(t) { warnings.append(problem); continue }
                        if try setTag(excerptID: e.id, name: t, present: true, clock: &clock) { tags += 1 }
                    }
                    for n in r.notes {
                        if try db.first("SELECT 1 FROM note WHERE id = ?", [.text(n.id)], { _ in true }) != nil { continue }
                        if let problem = Limits.validateNoteBody(n.body) { warnings.append("note \(n.id): \(problem)"); continue }
                        let parsed = ISOTime.parse(n.createdAt)
                        if parsed == nil { warnings.append("note \(n.id): createdAt '\(n.createdAt.prefix(40))' is not an ISO 8601 time; using now") }
                        let created = parsed ?? now()
                        let header = NoteHeader(id: n.id.isEmpty ? NoteID.make(milliseconds: created) : n.id, excerptId: e.id, createdAt: created, collection: n.collection)
                        _ = try record(.noteBody(header, body: n.body, stamp: clock.tick(), base: nil))
                        notes += 1
                    }
                }
            }
        }
        let sources = Set(excerpts.map { CompilationParser.sourceKey(rawCitation: $0.citation.raw) }).count
        return ImportSummary(imported: imported, duplicates: duplicates, sources: sources, warnings: warnings, notes: notes, tags: tags)
    }

    // MARK: resolving ids

    /// The full id of the excerpt whose id starts with `prefix` (4+ characters).
    public func resolveExcerpt(_ prefix: String) throws -> String {
        try resolve(prefix, table: "excerpt", kind: "excerpt") { .unknownExcerpt($0) }
    }

    public func resolveNote(_ prefix: String) throws -> String {
        try resolve(prefix, table: "note", kind: "note") { .unknownNote($0) }
    }

    /// The shortest prefix of a note's id, 8 characters at least, that no other note's id starts
    /// with: what the CLI prints. Note ids begin with their creation time (UUID v7), so notes made
    /// within a minute share their first 8 characters, and a fixed-length prefix would not tell
    /// them apart.
    public func shortNoteID(_ id: String) throws -> String {
        let neighbours = try db.query("""
            SELECT id FROM (SELECT id FROM note WHERE id < ?1 ORDER BY id DESC LIMIT 1)
            UNION ALL SELECT id FROM (SELECT id FROM note WHERE id > ?1 ORDER BY id LIMIT 1)
            """, [.text(id)]) { $0.text(0) }
        var length = 8
        for other in neighbours {
            length = max(length, zip(id.utf8, other.utf8).prefix { $0 == $1 }.count + 1)
        }
        return String(id.prefix(length))
    }

    private func resolve(_ prefix: String, table: String, kind: String, unknown: (String) -> ReplicaError) throws -> String {
        let p = prefix.trimmingWhitespace().lowercased()
        guard p.count >= 4 else { throw ReplicaError.prefixTooShort(p) }
        let ids = try db.query("SELECT id FROM \(table) WHERE id >= ? AND id < ? ORDER BY id LIMIT 11", [.text(p), .text(p + "\u{7F}")]) { $0.text(0) }
        if ids.isEmpty { throw unknown(p) }
        if ids.count > 1 { throw ReplicaError.ambiguous(kind: kind, prefix: p, candidates: Array(ids.prefix(10))) }
        return ids[0]
    }

    // MARK: reads

    static let excerptColumns = """
        e.id, e.text, e.citation_raw, e.pages, e.remarks, e.compilation, s.authors, s.title, s.place, s.publisher, s.year
        """

    static let excerptColumnCount: Int32 = 11

    /// Where each of `excerptColumns` is in a row that starts with them.
    enum ExcerptColumn {
        static let id: Int32 = 0, text: Int32 = 1, raw: Int32 = 2, pages: Int32 = 3, remarks: Int32 = 4, compilation: Int32 = 5
        static let authors: Int32 = 6, title: Int32 = 7, place: Int32 = 8, publisher: Int32 = 9, year: Int32 = 10
    }

    func readExcerpt(_ s: Statement) -> Excerpt {
        typealias C = ExcerptColumn
        let citation = Citation(
            raw: s.text(C.raw), authors: JSONText.decodeStrings(s.text(C.authors)), title: s.text(C.title),
            place: s.text(C.place), publisher: s.text(C.publisher), year: s.optionalInt(C.year).map { Int($0) },
            pages: s.text(C.pages), remarks: JSONText.decodeStrings(s.text(C.remarks)))
        return Excerpt(id: s.text(C.id), text: s.text(C.text), citation: citation, compilation: s.text(C.compilation))
    }

    /// The excerpt change of a row that starts with `excerptColumns`, written into `out` as
    /// `ChangeWriter.write(.excerpt(readExcerpt(s)))` writes it, from the columns' bytes without
    /// making Strings of them; returns the change's id.
    static func writeExcerptChange(_ s: Statement, into out: inout [UInt8]) -> String {
        typealias C = ExcerptColumn
        let text = s.textBuffer(C.text), raw = s.textBuffer(C.raw)
        out.reserveCapacity(out.count + text.count + 2 * raw.count + 512)
        let fields = ExcerptFieldBytes(
            id: s.textBuffer(C.id), text: text, compilation: s.textBuffer(C.compilation), raw: raw,
            authors: JSONText.decodeStrings(s.textBuffer(C.authors)), title: s.textBuffer(C.title), place: s.textBuffer(C.place),
            publisher: s.textBuffer(C.publisher), year: s.optionalInt(C.year), pages: s.textBuffer(C.pages),
            remarks: JSONText.decodeStrings(s.textBuffer(C.remarks)))
        return ChangeWriter.writeExcerptChange(fields, into: &out)
    }

    public func excerpt(id: String) throws -> Excerpt? {
        try db.first("SELECT \(Replica.excerptColumns) FROM excerpt e JOIN source s ON s.id = e.source_id WHERE e.id = ?", [.text(id)]) {
            readExcerpt($0)
        }
    }

    /// The excerpt with its tags and live notes.
    public func record(excerptID: String) throws -> ExcerptRecord {
        guard let e = try excerpt(id: excerptID) else { throw ReplicaError.unknownExcerpt(excerptID) }
        return ExcerptRecord(excerpt: e, tags: try tags(of: excerptID), notes: try notes(excerptID: excerptID).map(NoteRecord.init))
    }

    public func tags(of excerptID: String) throws -> [String] {
        try db.query("SELECT name FROM tag WHERE excerpt_id = ? AND present = 1 ORDER BY name", [.text(excerptID)]) { $0.text(0) }
    }

    /// Excerpts in import order, optionally only those with a tag and/or whose citation contains
    /// `source` (case-insensitive).
    public func list(tag: String? = nil, source: String? = nil, limit: Int? = nil) throws -> [ExcerptRecord] {
        var sql = "SELECT \(Replica.excerptColumns) FROM excerpt e JOIN source s ON s.id = e.source_id"
        var conditions: [String] = []
        var args: [SQLValue] = []
        if let tag {
            conditions.append("e.id IN (SELECT excerpt_id FROM tag WHERE name = ? AND present = 1)")
            args.append(.text(tag))
        }
        if let source {
            conditions.append("instr(lower(e.citation_raw), lower(?)) > 0")
            args.append(.text(source))
        }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY e.seq"
        if let limit { sql += " LIMIT \(max(0, limit))" }
        let excerpts = try db.query(sql, args) { readExcerpt($0) }
        return try excerpts.map { e in
            ExcerptRecord(excerpt: e, tags: try tags(of: e.id), notes: try notes(excerptID: e.id).map(NoteRecord.init))
        }
    }

    func readNote(_ s: Statement) -> Note {
        let created = s.int(3)
        let updated = Stamp(s.text(4))?.wall ?? created
        return Note(id: s.text(0), excerptId: s.text(1), body: s.text(2), createdAt: created, updatedAt: updated, collection: s.optionalText(5))
    }

    /// Live (not deleted) notes, of one excerpt or of all, oldest first.
    public func notes(excerptID: String? = nil) throws -> [Note] {
        var sql = "SELECT id, excerpt_id, body, created_at, body_stamp, collection FROM note WHERE deleted = 0 AND body_stamp <> ''"
        var args: [SQLValue] = []
        if let excerptID {
            sql += " AND excerpt_id = ?"
            args.append(.text(excerptID))
        }
        sql += " ORDER BY created_at, id"
        return try db.query(sql, args) { readNote($0) }
    }

    public func note(id: String) throws -> Note? {
        try db.first("SELECT id, excerpt_id, body, created_at, body_stamp, collection FROM note WHERE id = ?", [.text(id)]) { readNote($0) }
    }

    public func tagCounts() throws -> [TagCount] {
        try db.query("SELECT name, COUNT(*) FROM tag WHERE present = 1 GROUP BY name ORDER BY name") {
            TagCount(name: $0.text(0), count: Int($0.int(1)))
        }
    }

    public func sources() throws -> [SourceSummary] {
        try db.query("""
            SELECT s.key, s.authors, s.title, s.place, s.publisher, s.year, COUNT(e.seq) AS n
            FROM source s JOIN excerpt e ON e.source_id = s.id GROUP BY s.id ORDER BY n DESC, s.key
            """) {
            SourceSummary(
                source: $0.text(0), authors: JSONText.decodeStrings($0.text(1)), title: $0.text(2), place: $0.text(3),
                publisher: $0.text(4), year: $0.optionalInt(5).map { Int($0) }, excerpts: Int($0.int(6)))
        }
    }

    /// Full-text search over excerpt text, citations and live note bodies, best first. Snippets
    /// mark matches with `open` and `close`.
    public func search(_ query: String, limit: Int = 20, open: String = "**", close: String = "**") throws -> [SearchHit] {
        let match = FTSQuery.build(query)
        guard !match.isEmpty else { throw ReplicaError.invalid("the search query is empty") }
        // a sync that was interrupted may have left excerpts unindexed: a write indexes them
        // first. If a sync is writing right now, search what is indexed: the sync indexes the rest.
        if try meta(Replica.excerptsIndexedThrough) != nil {
            do { try write {} } catch let e as SQLiteError where e.isBusy {}
        }
        // Ranked in two steps. First the best `limit` matches of each index by bm25, computed by
        // gloss_bm25 from the row's %_docsize record joined into the query (Sources/CGlossRank:
        // the same score as FTS5's bm25(), which looks that record up with a statement of its
        // own for every match). Then a snippet for each hit kept: a snippet in the first step
        // would be made for every match before the sort. Both in one read transaction, so a sync
        // writing meanwhile cannot remove a hit between them.
        return try db.transaction(immediate: false) {
            let excerptTop = try db.query("""
                SELECT f.rowid, gloss_bm25(excerpt_fts, d.sz) AS score
                FROM excerpt_fts f JOIN excerpt_fts_docsize d ON d.id = f.rowid
                WHERE excerpt_fts MATCH ? ORDER BY score, f.rowid LIMIT ?
                """, [.text(match), .int(Int64(limit))]) { RankedRow(isNote: false, seq: $0.int(0), score: -$0.double(1)) }
            let noteTop = try db.query("""
                SELECT f.rowid, gloss_bm25(note_fts, d.sz) AS score
                FROM note_fts f JOIN note_fts_docsize d ON d.id = f.rowid JOIN note n ON n.seq = f.rowid
                WHERE note_fts MATCH ? AND n.deleted = 0 ORDER BY score, f.rowid LIMIT ?
                """, [.text(match), .int(Int64(limit))]) { RankedRow(isNote: true, seq: $0.int(0), score: -$0.double(1)) }
            let top = (excerptTop + noteTop).sorted {
                ($0.score, $1.isNote ? 1 : 0, $1.seq) > ($1.score, $0.isNote ? 1 : 0, $0.seq)
            }.prefix(limit)
            return try top.compactMap { hit in
                if hit.isNote {
                    return try db.first("""
                        SELECT n.excerpt_id, n.id, snippet(note_fts, 0, ?, ?, '…', 14), COALESCE(e.citation_raw, '')
                        FROM note_fts JOIN note n ON n.seq = note_fts.rowid LEFT JOIN excerpt e ON e.id = n.excerpt_id
                        WHERE note_fts MATCH ? AND note_fts.rowid = ?
                        """, [.text(open), .text(close), .text(match), .int(hit.seq)]) {
                        SearchHit(kind: "note", excerptId: $0.text(0), noteId: $0.text(1), snippet: $0.text(2), score: hit.score, citation: $0.text(3))
                    }
                }
                return try db.first("""
                    SELECT e.id, snippet(excerpt_fts, -1, ?, ?, '…', 14), e.citation_raw
                    FROM excerpt_fts JOIN excerpt e ON e.seq = excerpt_fts.rowid
                    WHERE excerpt_fts MATCH ? AND excerpt_fts.rowid = ?
                    """, [.text(open), .text(close), .text(match), .int(hit.seq)]) {
                    SearchHit(kind: "excerpt", excerptId: $0.text(0), noteId: nil, snippet: $0.text(1), score: hit.score, citation: $0.text(2))
                }
            }
        }
    }

    /// A match found by the ranking step of `search`: its index, its row there, its bm25 score.
    private struct RankedRow {
        var isNote: Bool
        var seq: Int64
        var score: Double
    }

    /// Every value a note's fields have had that is no longer current, plus the current ones.
    public func history(noteID: String) throws -> [HistoryEntry] {
        guard let row = try db.first(
            "SELECT body, body_stamp, deleted, deleted_stamp FROM note WHERE id = ?", [.text(noteID)], {
                ($0.text(0), $0.text(1), $0.int(2) != 0, $0.optionalText(3))
            })
        else { throw ReplicaError.unknownNote(noteID) }
        func entry(_ field: String, _ value: String, _ stamp: String, _ by: String?) -> HistoryEntry {
            HistoryEntry(
                field: field, value: value, stamp: stamp, writtenAt: Stamp(stamp).map { ISOTime.format($0.wall) } ?? "",
                supersededBy: by, current: by == nil)
        }
        var out = try db.query(
            "SELECT field, value, stamp, superseded_by FROM superseded WHERE field IN (?, ?)",
            [.text(FieldKey.noteBody(noteId: noteID).description), .text(FieldKey.noteDeleted(noteId: noteID).description)]
        ) { s in
            let isBody = s.text(0).hasPrefix("note.body:")
            return entry(isBody ? "body" : "deleted", isBody ? s.text(1) : (s.text(1) == "true" ? "deleted" : "restored"), s.text(2), s.text(3))
        }
        if !row.1.isEmpty { out.append(entry("body", row.0, row.1, nil)) }
        if let ds = row.3 { out.append(entry("deleted", row.2 ? "deleted" : "restored", ds, nil)) }
        out.sort { $0.stamp < $1.stamp }
        return out
    }

    public func status() throws -> ReplicaStatus {
        ReplicaStatus(
            pending: Int(
                try db.first("SELECT (SELECT COUNT(*) FROM outbox WHERE seq > ?) + (SELECT COUNT(*) FROM excerpt_outbox)", [.int(acknowledgedOutboxSeq())]) {
                    $0.int(0)
                } ?? 0),
            lastSync: try meta("last_sync"), remote: try meta("remote_url"),
            excerpts: Int(try db.first("SELECT COUNT(*) FROM excerpt") { $0.int(0) } ?? 0),
            notes: Int(try db.first("SELECT COUNT(*) FROM note WHERE deleted = 0 AND body_stamp <> ''") { $0.int(0) } ?? 0),
            replicaId: replicaID)
    }

    // MARK: local writes (each one: merge + outbox in one transaction)

    public func addNote(excerptID: String, body: String, collection: String? = nil) throws -> Note {
        if let problem = Limits.validateNoteBody(body) { throw ReplicaError.invalid(problem) }
        guard try excerpt(id: excerptID) != nil else { throw ReplicaError.unknownExcerpt(excerptID) }
        let id = NoteID.make(milliseconds: now())
        try write {
            try withClock { clock in
                let header = NoteHeader(id: id, excerptId: excerptID, createdAt: now(), collection: collection)
                _ = try record(.noteBody(header, body: body, stamp: clock.tick(), base: nil))
            }
        }
        return try note(id: id)!
    }

    func noteHeader(_ id: String) throws -> (NoteHeader, bodyStamp: Stamp?, deleted: Bool, deletedStamp: Stamp?)? {
        try db.first("SELECT id, excerpt_id, created_at, collection, body_stamp, deleted, deleted_stamp FROM note WHERE id = ?", [.text(id)]) {
            (NoteHeader(id: $0.text(0), excerptId: $0.text(1), createdAt: $0.int(2), collection: $0.optionalText(3)),
             Stamp($0.text(4)), $0.int(5) != 0, $0.optionalText(6).flatMap { Stamp($0) })
        }
    }

    public func editNote(id: String, body: String) throws -> Note {
        if let problem = Limits.validateNoteBody(body) { throw ReplicaError.invalid(problem) }
        try write {
            guard let (header, bodyStamp, deleted, _) = try noteHeader(id) else { throw ReplicaError.unknownNote(id) }
            if deleted { throw ReplicaError.noteDeleted(id) }
            try withClock { clock in
                _ = try record(.noteBody(header, body: body, stamp: clock.tick(), base: bodyStamp))
            }
        }
        return try note(id: id)!
    }

    public func removeNote(id: String) throws {
        try write {
            guard let (header, _, deleted, deletedStamp) = try noteHeader(id) else { throw ReplicaError.unknownNote(id) }
            if deleted { throw ReplicaError.noteDeleted(id) }
            try withClock { clock in
                _ = try record(.noteDeleted(header, deleted: true, stamp: clock.tick(), base: deletedStamp))
            }
        }
    }

    /// Adds (present) or removes tags; returns the tags that changed.
    public func setTags(excerptID: String, tags: [String], present: Bool) throws -> [String] {
        for t in tags { if let problem = Limits.validateTagLink(t) { throw ReplicaError.invalid(problem) } }
        guard try excerpt(id: excerptID) != nil else { throw ReplicaError.unknownExcerpt(excerptID) }
        return try write {
            try withClock { clock in
                try tags.filter { try setTag(excerptID: excerptID, name: $0, present: present, clock: &clock) }
            }
        }
    }

    func setTag(excerptID: String, name: String, present: Bool, clock: inout HybridClock) throws -> Bool {
        let current = try db.first("SELECT present, stamp FROM tag WHERE excerpt_id = ? AND name = ?", [.text(excerptID), .text(name)]) {
            ($0.int(0) != 0, Stamp($0.text(1)))
        }
        if let current, current.0 == present { return false }
        if current == nil && !present { return false }
        _ = try record(.tag(excerptId: excerptID, name: name, present: present, stamp: clock.tick(), base: current?.1))
        return true
    }

    /// Merges a local change and queues it for the daemon.
    func record(_ change: Change) throws -> MergeReport {
        let report = try merge(change)
        let payload = ChangeWriter.json(change)
        try db.prepare("INSERT OR IGNORE INTO outbox(change_id, kind, payload) VALUES (?, 'field', ?)")
            .run(.text(change.id), .text(payload))
        return report
    }

    // MARK: merge (shared by local writes and pulled changes)

    public struct MergeReport: Sendable, Equatable {
        public var changed: Bool
        public var conflict: Bool
    }

    /// Applies one change by the last-writer-wins rule (the shared `FieldMergePlan`), keeping the
    /// losing value in `superseded`.
    func merge(_ change: Change) throws -> MergeReport {
        // a pulled excerpt is on the daemon already (callers index new excerpts in bulk)
        if case .excerpt(let e) = change { return MergeReport(changed: try insertExcerpt(e), conflict: false) }
        if try insertIfNew(change) { return MergeReport(changed: true, conflict: false) }
        guard let field = change.field, let plan = FieldMergePlan.plan(current: try currentValue(of: change), change: change) else {
            return MergeReport(changed: false, conflict: false)
        }
        if let (loser, winner) = plan.superseded {
            try db.prepare("INSERT OR IGNORE INTO superseded(field, stamp, value, superseded_by) VALUES (?, ?, ?, ?)")
                .run(.text(field.description), .text(loser.stamp.description), .text(loser.value), .text(winner.description))
        }
        if let value = plan.newValue { try write(value, of: change) }
        return MergeReport(changed: plan.newValue != nil, conflict: plan.conflict)
    }

    /// Stores a note's body or a tag that was never written before, in one insert that does
    /// nothing when there is a row: what the merge plans for a field with no value (the change's
    /// value, no loser, no conflict), without reading first. Most pulled changes are new fields:
    /// the read was a fifth of applying a page (callgrind, docs/PERFORMANCE.md). False when a row
    /// was there (then the merge reads it) and for tombstones (rare; they may find a row made
    /// for them by the body, or make one).
    private func insertIfNew(_ change: Change) throws -> Bool {
        switch change {
        case .noteBody(let h, let body, let stamp, _):
            return try db.run(
                "INSERT OR IGNORE INTO note(id, excerpt_id, collection, created_at, body, body_stamp) VALUES (?, ?, ?, ?, ?, ?)",
                .text(h.id), .text(h.excerptId), h.collection.map { .text($0) } ?? .null, .int(h.createdAt), .text(body), .text(stamp.description)) == 1
        case .tag(let e, let name, let present, let stamp, _):
            return try db.run(
                "INSERT INTO tag(excerpt_id, name, present, stamp) VALUES (?, ?, ?, ?) ON CONFLICT(excerpt_id, name) DO NOTHING",
                .text(e), .text(name), .int(present ? 1 : 0), .text(stamp.description)) == 1
        case .excerpt, .noteDeleted:
            return false
        }
    }

    /// The current value of the field a change writes (nil when never written).
    private func currentValue(of change: Change) throws -> FieldValue? {
        switch change {
        case .excerpt: return nil
        case .noteBody(let h, _, _, _):
            return try db.first("SELECT body, body_stamp FROM note WHERE id = ?", [.text(h.id)]) { s in
                Stamp(s.text(1)).map { FieldValue(value: s.text(0), stamp: $0) }
            } ?? nil
        case .noteDeleted(let h, _, _, _):
            return try db.first("SELECT deleted, deleted_stamp FROM note WHERE id = ?", [.text(h.id)]) { s in
                s.optionalText(1).flatMap { Stamp($0) }.map { FieldValue(value: s.int(0) != 0 ? "true" : "false", stamp: $0) }
            } ?? nil
        case .tag(let e, let name, _, _, _):
            return try db.first("SELECT present, stamp FROM tag WHERE excerpt_id = ? AND name = ?", [.text(e), .text(name)]) { s in
                Stamp(s.text(1)).map { FieldValue(value: s.int(0) != 0 ? "true" : "false", stamp: $0) }
            } ?? nil
        }
    }

    /// Stores a field's new current value. A note row is created by whichever of its fields
    /// arrives first (a tombstone may arrive before the body).
    private func write(_ v: FieldValue, of change: Change) throws {
        switch change {
        case .excerpt: return
        case .noteBody(let h, _, _, _):
            // the row is there (a new note's body was stored by `insertIfNew`, with an insert that
            // cannot fire the update trigger: a statement that may write the full-text index opens
            // it for the transaction, and from then on every statement pays for an index savepoint)
            try db.run("UPDATE note SET body = ?, body_stamp = ? WHERE id = ?", .text(v.value), .text(v.stamp.description), .text(h.id))
        case .noteDeleted(let h, _, _, _):
            try ensureNoteRow(h)
            try db.run(
                "UPDATE note SET deleted = ?, deleted_stamp = ? WHERE id = ?", .int(v.value == "true" ? 1 : 0), .text(v.stamp.description),
                .text(h.id))
        case .tag(let e, let name, _, _, _):
            try db.run(
                "INSERT INTO tag(excerpt_id, name, present, stamp) VALUES (?, ?, ?, ?) ON CONFLICT(excerpt_id, name) DO UPDATE SET present = excluded.present, stamp = excluded.stamp",
                .text(e), .text(name), .int(v.value == "true" ? 1 : 0), .text(v.stamp.description))
        }
    }

    private func ensureNoteRow(_ h: NoteHeader) throws {
        try db.run(
            "INSERT OR IGNORE INTO note(id, excerpt_id, collection, created_at, body, body_stamp) VALUES (?, ?, ?, ?, '', '')",
            .text(h.id), .text(h.excerptId), h.collection.map { .text($0) } ?? .null, .int(h.createdAt))
    }
}
