import Foundation
import GlossCorpus
import GlossModel
import GlossSQLite

/// Where a push has got to in the outbox: the last excerpt and the last field change read.
public struct OutboxPosition: Sendable, Equatable {
    public var excerptSeq: Int64 = 0
    public var outboxSeq: Int64 = 0
    public init() {}
}

/// A batch of unsent changes (ids and JSON) and the outbox positions before and after it.
public struct OutboxBatch: Sendable {
    /// Each change's id and its JSON's bytes (a push body is made of them; a String each was a
    /// UTF-8 check and a copy more per change)
    public var changes: [(id: String, json: [UInt8])]
    public var start: OutboxPosition
    public var end: OutboxPosition
    public var isEmpty: Bool { changes.isEmpty }
    public var count: Int { changes.count }
}

/// What sync needs from the replica. Each method is one transaction, so a crash at any point
/// leaves either the old state or the new one: nothing lost, nothing applied twice.
extension Replica {
    /// The oldest unsent changes: unpushed excerpts first (so anything referring to them
    /// arrives after them), then field changes in the order they were made.
    public func outboxBatch(limit: Int) throws -> [Change] {
        try outboxJSONBatch(limit: limit).changes.map { entry in
            var reader = ChangeReader(entry.json)
            return try reader.change()
        }
    }

    /// The same batch as change ids and JSON texts, ready to splice into a push body without
    /// decoding (field changes are stored as the JSON sync sends), starting after `position`
    /// (a batch already in flight), with the position after it: at most `limit` changes, and no
    /// more once their JSON reaches `maxBytes` (at least one change), so that a batch of long
    /// excerpts stays far below the daemon's body limit (32 MiB).
    /// Both reads run in one read transaction, so an import landing between them cannot put a
    /// field change in this batch ahead of its excerpt.
    public func outboxJSONBatch(limit: Int, maxBytes: Int = 4 << 20, after position: OutboxPosition = OutboxPosition()) throws -> OutboxBatch {
        try db.transaction(immediate: false) { try readOutbox(limit: limit, maxBytes: maxBytes, after: position) }
    }

    func readOutbox(limit: Int, maxBytes: Int, after position: OutboxPosition) throws -> OutboxBatch {
        var end = position
        // field changes acknowledged but not yet purged are skipped
        end.outboxSeq = max(end.outboxSeq, try acknowledgedOutboxSeq())
        let from = end
        var changes: [(id: String, json: [UInt8])] = []
        var bytes = 0
        let maxBytes = max(1, maxBytes)  // at least one change per batch
        /// Steps `sql` and adds what `row` makes of each row, until `limit` or `maxBytes`.
        func read(_ sql: String, after seq: Int64, _ row: (Statement) -> (id: String, json: [UInt8])) throws {
            let statement = try db.prepare(sql)
            defer { statement.reset() }
            try statement.bind([.int(seq), .int(Int64(limit - changes.count))])
            while bytes < maxBytes, try statement.step() {
                let change = row(statement)
                bytes += change.json.count
                changes.append(change)
            }
        }
        try read(
            "SELECT \(Replica.excerptColumns), e.seq FROM excerpt_outbox o JOIN excerpt e ON e.seq = o.seq JOIN source s ON s.id = e.source_id WHERE o.seq > ? ORDER BY o.seq LIMIT ?",
            after: from.excerptSeq
        ) { s in
            end.excerptSeq = s.int(Replica.excerptColumnCount)
            var json = [UInt8]()
            let id = Replica.writeExcerptChange(s, into: &json)
            return (id, json)
        }
        if changes.count < limit, bytes < maxBytes {
            try read("SELECT change_id, payload, seq FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", after: from.outboxSeq) { s in
                end.outboxSeq = s.int(2)
                return (s.text(0), s.textBytes(1))
            }
        }
        return OutboxBatch(changes: changes, start: from, end: end)
    }

    /// Marks a pushed batch as sent (the daemon acknowledged every change in it) and moves the
    /// clock past the daemon's, in one transaction. Excerpts leave `excerpt_outbox` by sequence range.
    /// Field changes are acknowledged by moving a marker (`outbox_acked`): deleting them batch by
    /// batch would rewrite most of the change-id index every time, so `purgeAcknowledged` deletes
    /// them all at once when the push ends.
    public func acknowledge(_ batch: OutboxBatch, serverStamp: Stamp?) throws {
        try write {
            if batch.end.excerptSeq > batch.start.excerptSeq {
                // the batch holds every unpushed excerpt in this range: new ones get higher numbers
                try db.run("DELETE FROM excerpt_outbox WHERE seq > ? AND seq <= ?", .int(batch.start.excerptSeq), .int(batch.end.excerptSeq))
            }
            if batch.end.outboxSeq > batch.start.outboxSeq { try setMeta("outbox_acked", String(batch.end.outboxSeq)) }
            if let serverStamp { try withClock { $0.receive(serverStamp) } }
        }
    }

    /// Field changes at or below this outbox sequence number are acknowledged.
    func acknowledgedOutboxSeq() throws -> Int64 { Int64(try meta("outbox_acked") ?? "0") ?? 0 }

    /// Deletes acknowledged field changes from the outbox, in one statement. When all of it is
    /// acknowledged (a push that emptied it, nothing recorded meanwhile), the statement has no
    /// WHERE: SQLite then drops the table's and its index's pages whole instead of deleting row
    /// by row, each from an index keyed by random change ids.
    public func purgeAcknowledged() throws {
        try write {
            let acked = try acknowledgedOutboxSeq()
            guard acked > 0 else { return }
            let recordedSince = try db.first("SELECT EXISTS (SELECT 1 FROM outbox WHERE seq > ?)", [.int(acked)]) { $0.int(0) == 1 } ?? false
            if recordedSince {
                try db.run("DELETE FROM outbox WHERE seq <= ?", .int(acked))
            } else {
                try db.execute("DELETE FROM outbox")
            }
        }
    }

    public var syncCursor: Int64 {
        get throws { Int64(try meta("cursor") ?? "0") ?? 0 }
    }

    /// Applies one pulled page and advances the cursor, in one transaction. Returns how many
    /// changes altered the replica and how many settled concurrent edits. With `indexLater`
    /// (every page of a sync but its last), the page's new excerpts are left for a later
    /// transaction to index with the rest: the sync's last page, or else the next write or
    /// search (an interrupted sync); at most `maxDeferredExcerpts` wait at once. A page
    /// never deletes an excerpt, so excerpts left unindexed before it are indexed at its end, with
    /// its own: statements run after FTS5 was written in a transaction pay for a savepoint of the
    /// index each.
    public func applyPulled(_ changes: [SequencedChange], cursor: Int64, serverStamp: Stamp?, indexLater: Bool = false) throws -> (applied: Int, conflicts: Int) {
        try write(indexingDeferredExcerpts: false) {
            var applied = 0
            var conflicts = 0
            let lastSeq = try maxExcerptSeq()
            try withClock { clock in
                for c in changes {
                    if let s = c.change.stamp { clock.receive(s) }
                    if case .excerpt(let e) = c.change, let via = c.via {
                        try db.prepare("INSERT OR IGNORE INTO excerpt_via(excerpt_id, via) VALUES (?, ?)").run(.text(e.id), .text(via))
                    }
                    let report = try merge(c.change)
                    if report.changed { applied += 1 }
                    if report.conflict { conflicts += 1 }
                }
                if let serverStamp { clock.receive(serverStamp) }
            }
            let deferred = try meta(Replica.excerptsIndexedThrough).flatMap { Int64($0) } ?? lastSeq
            let unindexed = try maxExcerptSeq() - deferred
            if !indexLater || unindexed >= maxDeferredExcerpts {
                try indexExcerpts(after: lastSeq)
            } else if unindexed > 0, deferred == lastSeq {
                try setMeta(Replica.excerptsIndexedThrough, String(lastSeq))
            }
            try setMeta("cursor", String(cursor))
            return (applied, conflicts)
        }
    }

    /// Opens one transaction for several pulled pages: each `applyPulled` until
    /// `commitPullGroup` runs in it, so that the pages and the cursor after the last of them are
    /// committed together (or, after a crash, none of them: the next sync pulls them again).
    /// A bootstrap commits every few pages instead of every page: each commit writes every index
    /// page the commit changed, and excerpt ids are random, so with a page per commit the id
    /// index was rewritten 50 times over for 100k excerpts; notes inserted by the group are
    /// added to the full-text index once, at its commit.
    public func beginPullGroup() throws {
        precondition(!pullGroupOpen, "a pull group is already open")
        try mappingCorruption { try db.execute("BEGIN IMMEDIATE") }
        pullGroupOpen = true
    }

    /// Commits the open pull group (nothing when none is open).
    public func commitPullGroup() throws {
        guard pullGroupOpen else { return }
        pullGroupOpen = false
        do {
            try mappingCorruption {
                try indexPendingNotes()
                try db.execute("COMMIT")
            }
        } catch {
            try? db.execute("ROLLBACK")
            forgetRolledBack()
            throw error
        }
    }

    /// Drops the open pull group's pages, and its cursor, as if never pulled.
    public func rollbackPullGroup() {
        guard pullGroupOpen else { return }
        pullGroupOpen = false
        try? db.execute("ROLLBACK")
        forgetRolledBack()
    }

    /// Runs `body` (a sync) with the WAL checkpointed every 0.5 s by a thread and connection of
    /// their own (`WALCheckpointer`) instead of by the committing thread: SQLite's automatic
    /// checkpoint (every 4 MB of WAL) runs inside a commit, and deferring it to the end of a
    /// bootstrap left a 135 MB WAL copied back at the next commit (`recordSync`) by the sync's own
    /// thread: 0.39–0.93 s of a 4.1–4.7 s `gloss sync` bootstrap. Automatic checkpoints are made
    /// rare meanwhile (every 256 MB of WAL), as a fallback.
    public func withDeferredCheckpoints<T>(_ body: () async throws -> T) async throws -> T {
        try db.execute("PRAGMA wal_autocheckpoint=65536")
        let checkpointer = WALCheckpointer(path: path, interval: 0.5)
        defer {
            checkpointer.stop()
            try? db.execute("PRAGMA wal_autocheckpoint=1000")
        }
        return try await body()
    }

    public func recordSync(at ms: Int64) throws {
        try write { try setMeta("last_sync", ISOTime.format(ms)) }
    }

    // MARK: remote

    public var tokenPath: String { (home as NSString).appendingPathComponent("token") }

    public func remoteURL() throws -> String? { try meta("remote_url") }

    /// Stores the remote URL and writes the token to `home/token` with mode 0600.
    public func setRemote(url: String, token: String) throws {
        let fd = open(tokenPath + ".tmp", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ReplicaError.invalid("cannot write \(tokenPath): \(String(cString: strerror(errno)))") }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBufferPointer { Foundation.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        close(fd)
        guard written == bytes.count, rename(tokenPath + ".tmp", tokenPath) == 0 else {
            throw ReplicaError.invalid("cannot write \(tokenPath)")
        }
        try write {
            try setMeta("remote_url", url)
            // a different daemon means a different sequence: start pulling from the beginning
            try setMeta("cursor", "0")
        }
    }

    /// The token: `GLOSS_TOKEN` if set and not empty (`fromEnvironment`), else the token file
    /// without the ASCII whitespace around it.
    public func token(fromEnvironment variable: String? = Environment.value("GLOSS_TOKEN")) -> String? {
        if let variable, !variable.isEmpty { return variable }
        guard let data = FileManager.default.contents(atPath: tokenPath) else { return nil }
        // ASCII whitespace around it (a newline an editor added) is not part of it; trimmed on
        // the bytes, as Foundation's trimming goes through NSString (0.3 ms of every sync)
        let isSpace = { (b: UInt8) in b == 0x20 || (0x09...0x0D).contains(b) }
        guard let first = data.firstIndex(where: { !isSpace($0) }), let last = data.lastIndex(where: { !isSpace($0) }) else { return nil }
        return String(decoding: data[first...last], as: UTF8.self)
    }
}

/// The process's environment variables, read one at a time: `ProcessInfo`'s `environment`
/// builds a dictionary of all of them on every call (0.4 M instructions each, three times in
/// every `gloss sync`: callgrind, docs/PERFORMANCE.md).
public enum Environment {
    public static func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// Everything sync must make identical across replicas, in a canonical order: the excerpt ids,
/// every note field, every tag and every superseded value (what lost; not what beat it at the
/// time, which depends on arrival order).
public struct ReplicaSnapshot: Sendable, Equatable, Codable {
    public var excerpts: [String]
    public var notes: [String]
    public var tags: [String]
    public var superseded: [String]
}

extension Replica {
    public func snapshot() throws -> ReplicaSnapshot {
        ReplicaSnapshot(
            excerpts: try db.query("SELECT id FROM excerpt ORDER BY id") { $0.text(0) },
            notes: try db.query(
                "SELECT id, excerpt_id, COALESCE(collection, ''), created_at, body, body_stamp, deleted, COALESCE(deleted_stamp, '') FROM note ORDER BY id"
            ) { s in (0..<8).map { s.text(Int32($0)) }.joined(separator: "|") },
            tags: try db.query("SELECT excerpt_id, name, present, stamp FROM tag ORDER BY excerpt_id, name") { s in
                (0..<4).map { s.text(Int32($0)) }.joined(separator: "|")
            },
            superseded: try db.query("SELECT field, stamp, value FROM superseded ORDER BY field, stamp") { s in
                (0..<3).map { s.text(Int32($0)) }.joined(separator: "|")
            })
    }

    /// The current value of every field, keyed by `FieldKey` text, as the daemon keeps them.
    public func fieldValues() throws -> [String: FieldValue] {
        var out: [String: FieldValue] = [:]
        for (id, body, bodyStamp, deleted, deletedStamp) in try db.query(
            "SELECT id, body, body_stamp, deleted, deleted_stamp FROM note", [], { ($0.text(0), $0.text(1), $0.text(2), $0.int(3) != 0, $0.optionalText(4)) })
        {
            if let s = Stamp(bodyStamp) { out[FieldKey.noteBody(noteId: id).description] = FieldValue(value: body, stamp: s) }
            if let s = deletedStamp.flatMap({ Stamp($0) }) {
                out[FieldKey.noteDeleted(noteId: id).description] = FieldValue(value: deleted ? "true" : "false", stamp: s)
            }
        }
        for (e, name, present, stamp) in try db.query("SELECT excerpt_id, name, present, stamp FROM tag", [], { ($0.text(0), $0.text(1), $0.int(2) != 0, $0.text(3)) }) {
            if let s = Stamp(stamp) { out[FieldKey.tag(excerptId: e, name: name).description] = FieldValue(value: present ? "true" : "false", stamp: s) }
        }
        return out
    }
}

/// Checkpoints a database's WAL (`PRAGMA wal_checkpoint(PASSIVE)`: never waits for, nor blocks,
/// the writer; copies what was committed) every `interval`, from a thread and a connection of its
/// own, until `stop()`. Once a checkpoint has caught up, the writer's next transaction starts
/// the WAL again from its beginning, so the file stays the size of what is written between two
/// checkpoints instead of the size of the whole sync.
public final class WALCheckpointer: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopping = false  // guarded by `condition`
    private var finished = false  // guarded by `condition`
    private var checkpoints = 0  // guarded by `condition`

    /// How many checkpoints have run to their end so far.
    public var completed: Int {
        condition.lock()
        defer { condition.unlock() }
        return checkpoints
    }

    public init(path: String, interval: TimeInterval) {
        let thread = Thread { [self] in run(path: path, interval: interval) }
        thread.name = "gloss.checkpoint"
        thread.start()
    }

    private func run(path: String, interval: TimeInterval) {
        checkpointUntilStopped(path: path, interval: interval)  // its connection closed on return
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func checkpointUntilStopped(path: String, interval: TimeInterval) {
        // no connection (the file vanished or cannot be read): nothing to checkpoint, the
        // commits checkpoint again once automatic checkpoints come back. Never created: a new
        // empty file would pair itself with the old file's WAL.
        let db = try? Database(path: path, create: false, cacheMiB: 1)
        condition.lock()
        defer { condition.unlock() }
        while !stopping {
            if !condition.wait(until: Date(timeIntervalSinceNow: interval)) && !stopping {
                condition.unlock()
                // the first column is 1 when another checkpoint held the WAL (nothing copied);
                // that, or any failure: try again next time
                let busy = try? db?.first("PRAGMA wal_checkpoint(PASSIVE)") { $0.int(0) }
                condition.lock()
                if busy == 0 { checkpoints += 1 }
            }
        }
    }

    /// Stops the checkpoints and waits for the one under way, if any, to end.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
