import Dispatch
import Foundation
import GlossMigrations
import GlossModel
import GlossSQLite
import Synchronization

/// The embedded default store: one SQLite file (WAL), schema from `migrations/server/`.
/// Writes go through one connection on one serial queue (SQLite has one writer); reads (pulls,
/// token checks, collections) through two more connections on their own queues, so they run
/// beside a write instead of waiting behind it (WAL readers see the last commit). No call ever
/// blocks Swift's cooperative pool.
///
/// Checkpoints (copying the WAL back into the database file, with an fsync) run on a second
/// connection in the background, a second after the writes stop, instead of inside whichever
/// write transaction crosses SQLite's automatic threshold: measured on a push of 100k notes and
/// tags, automatic checkpoints were 40 % of the time spent storing (7.35 s → 4.48 s without
/// them). Under writes that do not stop, one runs whenever the WAL passes `checkpointFrames`.
public final class SQLiteStore: SyncStore, @unchecked Sendable {
    private let db: Database
    private let queue = DispatchQueue(label: "glossd.sqlite")
    private let checkpointer: Database
    private let checkpointQueue = DispatchQueue(label: "glossd.sqlite.checkpoint", qos: .utility)
    private let checkpointScheduled = Atomic<Bool>(false)
    private let checkpointQueued = Atomic<Bool>(false)
    /// When the writer last wrote (uptime nanoseconds).
    private let lastWrite = Atomic<UInt64>(0)
    /// A checkpoint runs once the WAL holds this many frames, writes or not (65,536: 256 MiB of
    /// 4 KiB pages).
    let checkpointFrames: Int
    /// How long the writer must have been idle before the WAL is checkpointed (nanoseconds).
    let checkpointIdle: UInt64
    private let checkpointsRun = Atomic<Int>(0)
    /// Checkpoints run so far (for tests).
    public var checkpoints: Int { checkpointsRun.load(ordering: .relaxed) }

    private let readers: [(Database, DispatchQueue)]
    private let nextReader = Atomic<Int>(0)

    public init(path: String, now: Int64, checkpointFrames: Int = 65_536, checkpointIdleSeconds: Double = 1) throws {
        self.checkpointFrames = checkpointFrames
        checkpointIdle = UInt64(checkpointIdleSeconds * 1e9)
        db = try Database(path: path)
        // no automatic checkpoints on the writer; a WAL left larger than 64 MB is truncated
        try db.execute("PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864")
        db.trackWALFrames()
        try Migrator.migrate(db, Migrations.server, now: String(now))
        // Readers mostly scan the log in order, which the kernel's page cache serves as well: a
        // small cache of their own each keeps a daemon that served a large bootstrap from
        // holding 64 MB per connection (the checkpointer copies WAL frames, it needs none).
        checkpointer = try Database(path: path, cacheMiB: 1)
        readers = try (0..<2).map { i in (try Database(path: path, cacheMiB: 8), DispatchQueue(label: "glossd.sqlite.read\(i)")) }
        // a WAL left by a daemon that was killed is copied back once the daemon is idle, as
        // after writes (until then every read looks its pages up in it)
        let left = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        if left > 0, !checkpointScheduled.exchange(true, ordering: .acquiringAndReleasing) {
            lastWrite.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
            checkpointWhenIdle(after: checkpointIdle)
        }
    }

    /// Copies the WAL back into the database file, once the writes queued so far are done, so
    /// that the file is whole by itself — a copy of it is a backup — and the next start has no
    /// WAL to read through. Without this, a daemon stopped within a second of its last write left
    /// everything it stored in the WAL (a 184 MB WAL beside a 4 KB database after a push of 100k
    /// excerpts), and nothing copied it back: the connections were never closed, and a daemon
    /// that only reads never checkpoints.
    ///
    /// `truncating` (a daemon that stops): the WAL is also emptied, which waits for readers; a
    /// checkpoint the daemon is running is waited for (the copy runs on the checkpointer's
    /// queue, behind it), and one that finds the database busy is tried again, for at most 5 s.
    /// Without it (a `glossd user` or `token` command, possibly beside a running daemon): one
    /// passive copy, which never holds up the daemon's writes. The store keeps working after it.
    public func close(truncating: Bool) async {
        await on(queue) {}  // the writes queued before now are done
        let mode = truncating ? "TRUNCATE" : "PASSIVE"
        for attempt in 0..<(truncating ? 50 : 1) {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(100)) }
            // the result row: busy (1 when it could not finish), WAL frames, frames copied
            let busy = await on(checkpointQueue) { [checkpointer] in
                (try? checkpointer.first("PRAGMA wal_checkpoint(\(mode))") { $0.int(0) }) ?? 1
            }
            if busy == 0 { return }
        }
    }

    /// Runs a read-only body on the next reader connection.
    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let (reader, queue) = readers[(nextReader.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max) % readers.count]
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(reader) }) }
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(with: Result { try body(db) })
                wrote()
            }
        }
    }

    /// After a write, on the writer's queue: a passive checkpoint (it never blocks the writer)
    /// once the writer has been idle for `checkpointIdle`, or at once when the WAL has grown past
    /// `checkpointFrames`. Waiting for the writes to stop lets a page that many transactions
    /// rewrote be copied back once, and keeps the copying off the cores while a push is stored.
    /// Against a checkpoint a second after the first write (four pairs, medians): 100k notes and
    /// tags 64.5k → 73.2k/s, glossd writing 103 MB during the push instead of 166–183; 100k
    /// excerpts 54.6k → 57.9k/s (docs/PERFORMANCE.md).
    private func wrote() {
        lastWrite.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        if db.walFrames >= checkpointFrames {
            guard !checkpointQueued.exchange(true, ordering: .acquiringAndReleasing) else { return }
            checkpointQueue.async { [self] in
                checkpointQueued.store(false, ordering: .releasing)
                checkpoint()
            }
        } else if !checkpointScheduled.exchange(true, ordering: .acquiringAndReleasing) {
            checkpointWhenIdle(after: checkpointIdle)
        }
    }

    /// Checkpoints once no write came for `checkpointIdle`, checking again `delay` from now.
    private func checkpointWhenIdle(after delay: UInt64) {
        checkpointQueue.asyncAfter(deadline: .now() + .nanoseconds(Int(delay))) { [self] in
            let idle = DispatchTime.now().uptimeNanoseconds &- lastWrite.load(ordering: .relaxed)
            if idle < checkpointIdle {
                checkpointWhenIdle(after: checkpointIdle - idle)
                return
            }
            checkpointScheduled.store(false, ordering: .releasing)
            checkpoint()
        }
    }

    /// On `checkpointQueue`.
    private func checkpoint() {
        try? checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        checkpointsRun.add(1, ordering: .relaxed)
    }

    /// Empties every connection's page cache, each on its own queue (so between two of its
    /// statements): after a push of 100k changes the writer alone held its full 64 MB. First the
    /// WAL is checkpointed and truncated: the checkpoints during the work leave it at its largest
    /// size (240 MB after a push of 100k excerpts) until the next write, since SQLite only
    /// shortens it when it starts over. Idle, the frames are already copied back, so this takes
    /// the write lock only for the truncation.
    public func releaseMemory() async {
        await on(checkpointQueue) { [checkpointer] in try? checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        _ = await eachConnection { $0.releaseMemory() }
    }

    /// Bytes the connections' page caches hold now (for tests).
    public func cacheBytes() async -> Int {
        await eachConnection { $0.cacheBytes }.reduce(0, +)
    }

    /// `body` with each connection in turn, on that connection's queue.
    private func eachConnection<T: Sendable>(_ body: @escaping @Sendable (Database) -> T) async -> [T] {
        var results: [T] = []
        for (connection, queue) in [(db, queue), (checkpointer, checkpointQueue)] + readers {
            results.append(await on(queue) { body(connection) })
        }
        return results
    }

    /// Runs `body` on `queue` and waits for it.
    private func on<T: Sendable>(_ queue: DispatchQueue, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { done in queue.async { done.resume(returning: body()) } }
    }

    public func createUser(name: String, now: Int64) async throws -> UserRecord {
        try await run { db in
            try db.transaction {
                if try db.first("SELECT 1 FROM app_user WHERE name = ?", [.text(name)], { _ in 1 }) != nil { throw StoreError.userExists(name) }
                let u = UserRecord(id: UUID().uuidString.lowercased(), name: name, createdAt: now)
                // num keys the user's log and fields (migrations/server/0003_user_numbers.sql)
                try db.run(
                    "INSERT INTO app_user(id, name, created_at, num) VALUES (?, ?, ?, (SELECT coalesce(max(num), 0) + 1 FROM app_user))", .text(u.id),
                    .text(name), .int(now))
                return u
            }
        }
    }

    public func findUser(name: String) async throws -> UserRecord? {
        try await read { db in
            try db.first("SELECT id, name, created_at FROM app_user WHERE name = ?", [.text(name)]) {
                UserRecord(id: $0.text(0), name: $0.text(1), createdAt: $0.int(2))
            }
        }
    }

    public func addToken(userID: String, label: String, tokenHash: String, now: Int64) async throws -> String {
        try await run { db in
            let id = UUID().uuidString.lowercased()
            try db.run(
                "INSERT INTO device_token(id, user_id, label, token_hash, created_at) VALUES (?, ?, ?, ?, ?)", .text(id), .text(userID),
                .text(label), .text(tokenHash), .int(now))
            return id
        }
    }

    public func revokeTokens(userID: String, label: String?, now: Int64) async throws -> Int {
        try await run { db in
            if let label {
                return try db.run(
                    "UPDATE device_token SET revoked_at = ? WHERE user_id = ? AND label = ? AND revoked_at IS NULL", .int(now), .text(userID),
                    .text(label))
            }
            return try db.run("UPDATE device_token SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", .int(now), .text(userID))
        }
    }

    public func authenticate(tokenHash: String) async throws -> AuthenticatedUser? {
        try await read { db in
            try db.first(
                "SELECT u.id, u.name, t.id FROM device_token t JOIN app_user u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked_at IS NULL",
                [.text(tokenHash)]
            ) { AuthenticatedUser(userID: $0.text(0), name: $0.text(1), tokenID: $0.text(2)) }
        }
    }

    /// A delivery with everything the writer binds computed beforehand, off the writer's queue.
    /// A class: the writer reads each row once, and a struct of a change and eight strings was
    /// copied, retaining each of them, every time it was passed on.
    final class Row: Sendable {
        let recipient: String
        let via: String?
        let change: Change?
        /// For a copy: the source user and the excerpt's change id.
        let copyFrom: (user: String, changeID: String)?
        let id: String, kind: String, excerptID: String, json: String
        let key: String?
        let collection: String?
        /// For a field change: its stamp and the value it writes, as the field table stores them.
        let stamp: String?
        let value: String

        init(_ d: Delivery) {
            recipient = d.recipient
            via = d.via
            switch d.item {
            case .copyExcerpt(let excerpt, let source):
                copyFrom = (source, "e:" + excerpt)
                change = nil
                id = ""
                kind = ""
                excerptID = ""
                json = ""
                key = nil
                collection = nil
                stamp = nil
                value = ""
            case .change(let c):
                copyFrom = nil
                change = c
                id = c.id
                kind = c.kindName
                excerptID = c.excerptId
                json = d.json ?? ChangeWriter.json(c)
                key = c.field?.description
                collection = ChangeJSON.noteCollection(c)
                stamp = c.stamp?.description
                value = FieldMergePlan.text(c)
            }
        }
    }

    /// A push waiting for the writer.
    private struct Waiting {
        var pusherID: String
        var rows: [Row]
        var continuation: CheckedContinuation<PushResult, any Error>
    }
    private let waiting = Mutex<[Waiting]>([])
    private let largest = Atomic<Int>(0)
    private let taken = Atomic<Int>(0)
    /// Pushes waiting for the writer now.
    public var pushesWaiting: Int { waiting.withLock { $0.count } }
    /// Pushes the writer has taken up so far (stored, failed, or being stored).
    public var pushesTaken: Int { taken.load(ordering: .relaxed) }
    /// The most pushes stored in one transaction so far.
    public var largestGroup: Int { largest.load(ordering: .relaxed) }
    /// The most rows the writer stores in one group transaction (a push larger than this is one
    /// transaction of its own).
    static let groupRows = 8_000

    public func deliver(pusherID: String, _ deliveries: [Delivery]) async throws -> PushResult {
        // ids, keys and JSON are computed outside the writer's queue: the writer is the one
        // serial stage of a push, so it only binds and steps (another push's rows are prepared
        // meanwhile)
        let rows = deliveries.map(Row.init)
        return try await withCheckedThrowingContinuation { continuation in
            waiting.withLock { $0.append(Waiting(pusherID: pusherID, rows: rows, continuation: continuation)) }
            queue.async { [self] in
                storeWaiting()
                wrote()
            }
        }
    }

    /// Group commit: stores the pushes waiting for the writer, in the order they came, in one
    /// transaction, then answers them all; if one push's data breaks a constraint, each push is
    /// tried again in a transaction of its own, so that failure is that push's alone. A commit writes
    /// every page the transaction changed to the WAL, and the log's and fields' indexes are keyed
    /// by random ids, so each commit rewrites pages all over them: pushes that waited for the
    /// same commit share its writes (measured with 20 clients at once: +5–7 % pushed/s, two
    /// pairs). At most `groupRows` rows per group, so a group's dirty pages stay well inside
    /// the page cache. Runs on `queue`.
    private func storeWaiting() {
        let group: [Waiting] = waiting.withLock { all in
            var rows = 0
            var n = 0
            while n < all.count, n == 0 || rows + all[n].rows.count <= Self.groupRows {
                rows += all[n].rows.count
                n += 1
            }
            defer { all.removeFirst(n) }
            return Array(all[..<n])
        }
        if group.isEmpty { return }  // an earlier call stored these already
        _ = largest.max(group.count, ordering: .relaxed)
        taken.add(group.count, ordering: .relaxed)
        var results: [Result<PushResult, any Error>]
        do {
            results = try db.transaction { try group.map { .success(try store($0.rows, pusherID: $0.pusherID)) } }
        } catch let error as SQLiteError where error.isConstraint && group.count > 1 {
            // one push's data broke a constraint and nothing of the group was stored: each push
            // again in a transaction of its own, so that failure is that push's alone (any other
            // error — a busy lock, a full disk — would fail each retry the same way)
            results = group.map { push in Result { try db.transaction { try store(push.rows, pusherID: push.pusherID) } } }
        } catch {
            results = group.map { _ in .failure(error) }
        }
        for (push, result) in zip(group, results) { push.continuation.resume(with: result) }
    }

    /// The user's number in the log and field tables, as a subquery with one parameter (the id).
    private static let userNum = "(SELECT num FROM app_user WHERE id = ?)"

    /// One push's rows, inside the writer's open transaction.
    private func store(_ rows: [Row], pusherID: String) throws -> PushResult {
        var result = PushResult(acknowledged: [], accepted: 0, duplicates: 0, conflicts: 0)
        let insert = try db.prepare(
            "INSERT INTO change_log(user_num, change_id, kind, excerpt_id, field, collection, via, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_num, stamp, change_id) DO NOTHING")
        let copy = try db.prepare("""
            INSERT INTO change_log(user_num, change_id, kind, excerpt_id, field, collection, via, payload)
            SELECT ?, change_id, kind, excerpt_id, NULL, NULL, ?, payload FROM change_log WHERE user_num = ? AND stamp = '' AND change_id = ?
            ON CONFLICT(user_num, stamp, change_id) DO NOTHING
            """)
        let fresh = try db.prepare("INSERT INTO field_state(user_num, field, value, stamp) VALUES (?, ?, ?, ?) ON CONFLICT(user_num, field) DO NOTHING")
        let current = try db.prepare("SELECT value, stamp FROM field_state WHERE user_num = ? AND field = ?")
        let supersede = try db.prepare(
            "INSERT INTO superseded(user_num, field, stamp, value, superseded_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        let upsert = try db.prepare(
            "INSERT INTO field_state(user_num, field, value, stamp) VALUES (?, ?, ?, ?) ON CONFLICT(user_num, field) DO UPDATE SET value = excluded.value, stamp = excluded.stamp")
        // each recipient's number, looked up once per push; an unknown user is NULL, which the
        // log's NOT NULL refuses as the foreign key did before (a constraint error)
        let lookup = try db.prepare("SELECT num FROM app_user WHERE id = ?")
        var numbers: [String: SQLValue] = [:]
        func num(_ user: String) throws -> SQLValue {
            if let n = numbers[user] { return n }
            try lookup.bind([.text(user)])
            let n: SQLValue = try lookup.step() ? .int(lookup.int(0)) : .null
            lookup.reset()
            numbers[user] = n
            return n
        }
        for row in rows {
            let via: SQLValue = row.via.map { .text($0) } ?? .null
            let recipient = try num(row.recipient)
            if let (source, changeID) = row.copyFrom {
                try copy.run(recipient, via, try num(source), .text(changeID))
                continue
            }
            guard let change = row.change else { continue }
            let mine = row.recipient == pusherID
            if mine { result.acknowledged.append(row.id) }
            try insert.run(
                recipient, .text(row.id), .text(row.kind), .text(row.excerptID), row.key.map { .text($0) } ?? .null,
                row.collection.map { .text($0) } ?? .null, via, .text(row.json))
            if db.changes == 0 {
                if mine { result.duplicates += 1 }
                continue
            }
            if mine {
                result.accepted += 1
                result.logged.append(db.lastInsertRowID)
            }
            guard let key = row.key, let stamp = row.stamp else { continue }
            // A field the recipient has no value for takes the change's value, with nothing
            // superseded and no conflict (what FieldMergePlan plans for no current value).
            // Inserting first, and reading the current value only when there is one, spares a
            // search of the field index for every new field: most of a large push.
            try fresh.run(recipient, .text(key), .text(row.value), .text(stamp))
            if db.changes > 0 { continue }
            try current.bind([recipient, .text(key)])
            let value = try current.step() ? Stamp(current.text(1)).map { FieldValue(value: current.text(0), stamp: $0) } : nil
            current.reset()
            guard let plan = FieldMergePlan.plan(current: value, change: change) else { continue }
            if let (loser, winner) = plan.superseded {
                try supersede.run(recipient, .text(key), .text(loser.stamp.description), .text(loser.value), .text(winner.description))
            }
            if let v = plan.newValue {
                try upsert.run(recipient, .text(key), .text(v.value), .text(stamp))  // a new value is always the change's
            }
            if plan.conflict && mine { result.conflicts += 1 }
        }
        return result
    }

    public func pull(userID: String, after: Int64, limit: Int) async throws -> [LoggedChange] {
        try await read { db in
            try db.query(
                "SELECT seq, payload, via FROM change_log WHERE user_num = \(Self.userNum) AND seq > ? ORDER BY seq LIMIT ?",
                [.text(userID), .int(after), .int(Int64(limit))]
            ) { LoggedChange(seq: $0.int(0), json: $0.text(1), via: $0.optionalText(2)) }
        }
    }

    public func fieldValue(userID: String, field: String) async throws -> FieldValue? {
        try await read { db in
            try db.first("SELECT value, stamp FROM field_state WHERE user_num = \(Self.userNum) AND field = ?", [.text(userID), .text(field)]) { s in
                Stamp(s.text(1)).map { FieldValue(value: s.text(0), stamp: $0) }
            } ?? nil
        }
    }

    public func fieldStates(userID: String) async throws -> [(String, FieldValue)] {
        try await read { db in
            try db.query("SELECT field, value, stamp FROM field_state WHERE user_num = \(Self.userNum)", [.text(userID)]) { s in
                (s.text(0), FieldValue(value: s.text(1), stamp: Stamp(s.text(2)) ?? Stamp(wall: 0, counter: 0, node: "invalid")))
            }
        }
    }

    public func excerptIDs(userID: String) async throws -> [String] {
        try await read { db in
            try db.query("SELECT excerpt_id FROM change_log WHERE user_num = \(Self.userNum) AND kind = 'excerpt'", [.text(userID)]) { $0.text(0) }
        }
    }

    public func superseded(userID: String, field: String) async throws -> [FieldValue] {
        try await read { db in
            try db.query("SELECT value, stamp FROM superseded WHERE user_num = \(Self.userNum) AND field = ? ORDER BY stamp", [.text(userID), .text(field)]) { s in
                FieldValue(value: s.text(0), stamp: Stamp(s.text(1)) ?? Stamp(wall: 0, counter: 0, node: "invalid"))
            }
        }
    }

    // MARK: shared collections

    private static func record(_ db: Database, where condition: String, _ args: [SQLValue]) throws -> [CollectionRecord] {
        let rows = try db.query(
            "SELECT c.id, c.owner_id, u.name, c.tag FROM collection c JOIN app_user u ON u.id = c.owner_id WHERE \(condition) ORDER BY u.name, c.tag", args
        ) { ($0.text(0), $0.text(1), $0.text(2), $0.text(3)) }
        return try rows.map { id, owner, ownerName, tag in
            var roles: [String: String] = [:]
            var names: [String: String] = [:]
            for (user, name, role) in try db.query(
                "SELECT m.user_id, u.name, m.role FROM collection_member m JOIN app_user u ON u.id = m.user_id WHERE m.collection_id = ?", [.text(id)],
                { ($0.text(0), $0.text(1), $0.text(2)) })
            {
                roles[user] = role
                names[user] = name
            }
            return CollectionRecord(id: id, ownerID: owner, ownerName: ownerName, tag: tag, roles: roles, names: names)
        }
    }

    public func collection(ownerName: String, tag: String) async throws -> CollectionRecord? {
        try await read { db in try SQLiteStore.record(db, where: "u.name = ? AND c.tag = ?", [.text(ownerName), .text(tag)]).first }
    }

    public func collections(of userID: String) async throws -> [CollectionRecord] {
        try await read { db in
            try SQLiteStore.record(
                db, where: "c.owner_id = ? OR c.id IN (SELECT collection_id FROM collection_member WHERE user_id = ?)", [.text(userID), .text(userID)])
        }
    }

    public func setMember(ownerID: String, tag: String, memberID: String, role: String, now: Int64) async throws -> CollectionRecord {
        try await run { db in
            try db.transaction {
                try db.run(
                    "INSERT INTO collection(id, owner_id, tag, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(owner_id, tag) DO NOTHING",
                    .text(UUID().uuidString.lowercased()), .text(ownerID), .text(tag), .int(now))
                let id = try db.first("SELECT id FROM collection WHERE owner_id = ? AND tag = ?", [.text(ownerID), .text(tag)]) { $0.text(0) }!
                try db.run(
                    "INSERT INTO collection_member(collection_id, user_id, role, added_at) VALUES (?, ?, ?, ?) ON CONFLICT(collection_id, user_id) DO UPDATE SET role = excluded.role",
                    .text(id), .text(memberID), .text(role), .int(now))
                return try SQLiteStore.record(db, where: "c.id = ?", [.text(id)])[0]
            }
        }
    }

    public func removeMember(collection c: CollectionRecord, memberID: String) async throws -> Bool {
        try await run { db in
            try db.transaction {
                guard try db.run("DELETE FROM collection_member WHERE collection_id = ? AND user_id = ?", .text(c.id), .text(memberID)) > 0 else {
                    return false
                }
                let fields = try db.query(
                    "SELECT DISTINCT field FROM change_log WHERE user_num = \(Self.userNum) AND via = ? AND field IS NOT NULL", [.text(memberID), .text(c.name)]
                ) { $0.text(0) }
                try db.run("DELETE FROM change_log WHERE user_num = \(Self.userNum) AND via = ?", .text(memberID), .text(c.name))
                for f in fields {
                    try db.run("DELETE FROM field_state WHERE user_num = \(Self.userNum) AND field = ?", .text(memberID), .text(f))
                    try db.run("DELETE FROM superseded WHERE user_num = \(Self.userNum) AND field = ?", .text(memberID), .text(f))
                }
                return true
            }
        }
    }

    public func backfill(collection c: CollectionRecord) async throws -> [Change] {
        let payloads: [String] = try await read { db in
            var out: [String] = []
            let links = try db.query(
                "SELECT field, stamp FROM field_state WHERE user_num = \(Self.userNum) AND field LIKE 'tag:%' AND substr(field, 38) = ? AND value = 'true' ORDER BY field",
                [.text(c.ownerID), .text(c.tag)]
            ) { ($0.text(0), $0.text(1)) }
            for (field, stamp) in links {
                let excerpt = String(field.dropFirst(4).prefix(32))
                if let json = try db.first(
                    "SELECT payload FROM change_log WHERE user_num = \(Self.userNum) AND stamp = '' AND change_id = ?", [.text(c.ownerID), .text("e:" + excerpt)], { $0.text(0) })
                {
                    out.append(json)
                }
                out.append("LINK|\(excerpt)|\(stamp)")
            }
            out += try db.query(
                "SELECT payload FROM change_log WHERE user_num = \(Self.userNum) AND collection = ? ORDER BY seq", [.text(c.ownerID), .text(c.name)]
            ) { $0.text(0) }
            return out
        }
        return try payloads.map { p in
            if p.hasPrefix("LINK|") {
                let parts = p.split(separator: "|")
                return .tag(excerptId: String(parts[1]), name: c.name, present: true, stamp: Stamp(parts[2])!, base: nil)
            }
            return try ChangeJSON.decode(p)
        }
    }
}
