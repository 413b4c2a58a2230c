import Foundation
import GlossMigrations
import GlossModel
import Logging
import PostgresNIO
import Synchronization

/// The PostgreSQL store, for several stateless glossd processes on one database. Same behaviour
/// as `SQLiteStore` (one conformance suite runs against both). Schema from `migrations/postgres/`.
///
/// Several daemons: every transaction that appends to user logs first takes a transaction-level
/// advisory lock per recipient user, in a fixed order, before drawing sequence numbers. So two
/// transactions writing the same user's log are serialised, and within one user's log rows commit
/// in sequence order: a pull cursor can never pass a row that commits later with a lower number.
public final class PostgresStore: SyncStore {
    public let client: PostgresClient
    let logger: Logger
    /// The fewest log rows this daemon stores before it looks at the planner's statistics.
    let analyzeAfterRows: Int
    /// Log rows this daemon stored since it last ran ANALYZE (or since it started).
    private let rowsSinceAnalyze = Atomic<Int>(0)
    /// `rowsSinceAnalyze` at which it looks again.
    private let nextStatisticsCheck: Atomic<Int>
    private let checkingStatistics = Atomic<Bool>(false)

    public init(client: PostgresClient, logger: Logger, analyzeAfterRows: Int = 10_000) {
        self.client = client
        self.logger = logger
        self.analyzeAfterRows = analyzeAfterRows
        nextStatisticsCheck = Atomic(analyzeAfterRows)
    }

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require]`.
    public static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty
        else {
            throw SyncError(400, "bad_database_url", "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS = sslmode == "require" ? .require(.makeClientConfiguration()) : .disable
        var config = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? user : database, tls: tls)
        config.options.maximumConnections = 16
        return config
    }

    // MARK: migrations

    /// Applies pending migrations once, even when several daemons start together: all of it
    /// runs in one transaction holding an advisory lock.
    public func migrate(now: Int64) async throws {
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(7265001)", logger: self.logger)
            var current = 0
            let exists = try await conn.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: self.logger)
            for try await (present) in exists.decode(Bool.self) where present {
                for try await (v) in try await conn.query("SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations", logger: self.logger).decode(Int64.self) {
                    current = Int(v)
                }
            }
            let known = Migrations.postgres.map(\.version).max() ?? 0
            if current > known {
                throw SyncError(500, "schema_too_new", "the database has schema version \(current); this glossd knows up to \(known): use a newer glossd")
            }
            for m in Migrations.postgres where m.version > current {
                for statement in PostgresStore.statements(m.sql) {
                    try await conn.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                let version = m.version, name = m.name, applied = String(now)
                try await conn.query("INSERT INTO schema_migrations(version, name, applied_at) VALUES (\(version), \(name), \(applied))", logger: self.logger)
            }
        }
    }

    /// Splits a migration file into statements: comments dropped, split on `;` at line ends.
    static func statements(_ sql: String) -> [String] {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            if let r = line.range(of: "--") { return line[..<r.lowerBound] }
            return line
        }
        return lines.joined(separator: "\n").components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
    }

    // MARK: accounts

    public func createUser(name: String, now: Int64) async throws -> UserRecord {
        let id = UUID().uuidString.lowercased()
        let rows = try await client.query(
            "INSERT INTO app_user(id, name, created_at) VALUES (\(id), \(name), \(now)) ON CONFLICT (name) DO NOTHING RETURNING id", logger: logger)
        var inserted = false
        for try await _ in rows.decode(String.self) { inserted = true }
        if !inserted { throw StoreError.userExists(name) }
        return UserRecord(id: id, name: name, createdAt: now)
    }

    public func findUser(name: String) async throws -> UserRecord? {
        for try await (id, n, created) in try await client.query("SELECT id, name, created_at FROM app_user WHERE name = \(name)", logger: logger)
            .decode((String, String, Int64).self)
        {
            return UserRecord(id: id, name: n, createdAt: created)
        }
        return nil
    }

    public func addToken(userID: String, label: String, tokenHash: String, now: Int64) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await client.query(
            "INSERT INTO device_token(id, user_id, label, token_hash, created_at) VALUES (\(id), \(userID), \(label), \(tokenHash), \(now))",
            logger: logger)
        return id
    }

    public func revokeTokens(userID: String, label: String?, now: Int64) async throws -> Int {
        let rows = try await client.query(
            """
            WITH r AS (UPDATE device_token SET revoked_at = \(now)
                       WHERE user_id = \(userID) AND revoked_at IS NULL AND (\(label)::text IS NULL OR label = \(label)) RETURNING 1)
            SELECT COUNT(*)::bigint FROM r
            """, logger: logger)
        for try await (n) in rows.decode(Int64.self) { return Int(n) }
        return 0
    }

    public func authenticate(tokenHash: String) async throws -> AuthenticatedUser? {
        let rows = try await client.query(
            "SELECT u.id, u.name, t.id FROM device_token t JOIN app_user u ON u.id = t.user_id WHERE t.token_hash = \(tokenHash) AND t.revoked_at IS NULL",
            logger: logger)
        for try await (u, n, t) in rows.decode((String, String, String).self) { return AuthenticatedUser(userID: u, name: n, tokenID: t) }
        return nil
    }

    // MARK: sync

    public func deliver(pusherID: String, _ deliveries: [Delivery]) async throws -> PushResult {
        let recipients = Set(deliveries.map(\.recipient)).sorted()
        let (result, rows) = try await client.withTransaction(logger: logger) { conn in
            for user in recipients {
                let key = "gloss-log:" + user
                try await conn.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: self.logger)
            }
            var result = PushResult(acknowledged: [], accepted: 0, duplicates: 0, conflicts: 0)
            var rows = 0
            // Runs of changes are stored a run at a time; a copied excerpt may come from a change
            // earlier in the same push, so the run before it is stored first.
            var run: [(Delivery, Change)] = []
            for d in deliveries {
                switch d.item {
                case .change(let change):
                    run.append((d, change))
                case .copyExcerpt(let excerpt, let source):
                    rows += try await self.log(run, pusherID: pusherID, into: &result, on: conn)
                    run.removeAll()
                    let id = "e:" + excerpt
                    try await conn.query(
                        """
                        INSERT INTO change_log(user_id, change_id, kind, excerpt_id, field, collection, via, payload)
                        SELECT \(d.recipient), change_id, kind, excerpt_id, NULL, NULL, \(d.via), payload FROM change_log
                        WHERE user_id = \(source) AND change_id = \(id)
                        ON CONFLICT (user_id, change_id) DO NOTHING
                        """, logger: self.logger)
                    rows += 1
                }
            }
            rows += try await self.log(run, pusherID: pusherID, into: &result, on: conn)
            return (result, rows)
        }
        stored(logRows: rows)
        return result
    }

    // MARK: planner statistics

    /// After this daemon has stored `analyzeAfterRows` log rows, a look at the statistics
    /// PostgreSQL plans with, in the background (at most one at a time).
    private func stored(logRows: Int) {
        guard logRows > 0, rowsSinceAnalyze.add(logRows, ordering: .relaxed).newValue >= nextStatisticsCheck.load(ordering: .relaxed),
            !checkingStatistics.exchange(true, ordering: .acquiring)
        else { return }
        Task { [self] in
            // rows stored while it ran are looked at again before it ends: a push may not follow
            repeat {
                await analyzeIfStale()
                checkingStatistics.store(false, ordering: .releasing)
            } while rowsSinceAnalyze.load(ordering: .relaxed) >= nextStatisticsCheck.load(ordering: .relaxed)
                && !checkingStatistics.exchange(true, ordering: .acquiring)
        }
    }

    /// Runs ANALYZE on the log and the fields once this daemon has stored at least as many log
    /// rows since its last ANALYZE as the statistics count (none before the first ANALYZE or
    /// VACUUM): the log at least doubled since they were taken. Autovacuum takes them too, but a
    /// minute or more after a large push, and in that minute a bootstrap is planned without them:
    /// PostgreSQL estimated a user's 150,000 remaining rows at 935, and fetched every page as a
    /// bitmap scan of all of them sorted on disk (77 MB, 268 ms a page) instead of reading the
    /// (user, seq) index in order (8 ms): a bootstrap of 100k + 100k changes took 11–13 s instead
    /// of 4 (docs/PERFORMANCE.md). ANALYZE reads a bounded sample (30,000 rows), so doubling keeps
    /// its cost to a few runs over the life of a log.
    private func analyzeIfStale() async {
        do {
            let counted = try await statisticsRows()
            let stored = rowsSinceAnalyze.load(ordering: .relaxed)
            guard stored >= max(analyzeAfterRows, counted) else {
                nextStatisticsCheck.store(max(analyzeAfterRows, counted), ordering: .relaxed)
                return
            }
            try await client.query("ANALYZE change_log, field_state", logger: logger)
            rowsSinceAnalyze.subtract(stored, ordering: .relaxed)
            nextStatisticsCheck.store(max(analyzeAfterRows, try await statisticsRows()), ordering: .relaxed)
            logger.info("ran ANALYZE on the log for the query planner", metadata: ["rows_stored_since": "\(stored)"])
        } catch {
            // tried again once as many rows more are stored, not after every push
            nextStatisticsCheck.store(rowsSinceAnalyze.load(ordering: .relaxed) + analyzeAfterRows, ordering: .relaxed)
            logger.warning("could not run ANALYZE on the log for the query planner", metadata: ["error": "\(error)"])
        }
    }

    /// The log's row count in the planner's statistics; -1 when they were never taken.
    private func statisticsRows() async throws -> Int {
        let rows = try await client.query("SELECT reltuples::bigint FROM pg_class WHERE oid = 'change_log'::regclass", logger: logger)
        for try await (n) in rows.decode(Int64.self) { return Int(n) }
        return -1
    }

    /// Logs a run of changes and merges their fields in five statements, whatever the run's length:
    /// one INSERT of every log row (arrays unnested in order, so sequence numbers follow the run),
    /// one SELECT of the fields' current values, the merges in memory, in order, then one INSERT
    /// of superseded values and one upsert of each field's final value. Arrays cannot carry NULL
    /// here, so absent text travels as '' (never a valid field, collection or via).
    /// Returns how many log rows it stored.
    private func log(_ run: [(Delivery, Change)], pusherID: String, into result: inout PushResult, on conn: PostgresConnection) async throws -> Int {
        guard !run.isEmpty else { return 0 }
        var users: [String] = [], ids: [String] = [], kinds: [String] = [], excerpts: [String] = []
        var fields: [String] = [], collections: [String] = [], vias: [String] = [], payloads: [String] = []
        for (d, c) in run {
            users.append(d.recipient)
            ids.append(c.id)
            kinds.append(c.kindName)
            excerpts.append(c.excerptId)
            fields.append(c.field?.description ?? "")
            collections.append(ChangeJSON.noteCollection(c) ?? "")
            vias.append(d.via ?? "")
            payloads.append(d.json ?? ChangeWriter.json(c))
        }
        var inserted: [UserKey: Int64] = [:]
        for try await (seq, user, id) in try await conn.query(
            """
            INSERT INTO change_log(user_id, change_id, kind, excerpt_id, field, collection, via, payload)
            SELECT u, c, k, e, NULLIF(f, ''), NULLIF(col, ''), NULLIF(v, ''), p
            FROM UNNEST(\(users)::text[], \(ids)::text[], \(kinds)::text[], \(excerpts)::text[], \(fields)::text[],
                        \(collections)::text[], \(vias)::text[], \(payloads)::text[]) WITH ORDINALITY AS t(u, c, k, e, f, col, v, p, n)
            ORDER BY n
            ON CONFLICT (user_id, change_id) DO NOTHING
            RETURNING seq, user_id, change_id
            """, logger: logger
        ).decode((Int64, String, String).self) { inserted[UserKey(user, id)] = seq }
        let stored = inserted.count

        // which rows are new (a change repeated within the run is new once), and their fields
        var merges: [(index: Int, key: String)] = []
        var wanted = Set<UserKey>()
        for (i, (d, c)) in run.enumerated() {
            let mine = d.recipient == pusherID
            if mine { result.acknowledged.append(c.id) }
            guard let seq = inserted.removeValue(forKey: UserKey(d.recipient, c.id)) else {
                if mine { result.duplicates += 1 }
                continue
            }
            if mine {
                result.accepted += 1
                result.logged.append(seq)
            }
            if !fields[i].isEmpty {
                merges.append((i, fields[i]))
                wanted.insert(UserKey(d.recipient, fields[i]))
            }
        }
        guard !merges.isEmpty else { return stored }

        var current: [UserKey: FieldValue] = [:]
        let wantedUsers = wanted.map(\.user), wantedFields = wanted.map(\.key)
        for try await (user, field, value, stamp) in try await conn.query(
            """
            SELECT s.user_id, s.field, s.value, s.stamp FROM field_state s
            JOIN UNNEST(\(wantedUsers)::text[], \(wantedFields)::text[]) AS w(u, f) ON s.user_id = w.u AND s.field = w.f
            """, logger: logger
        ).decode((String, String, String, String).self) {
            if let s = Stamp(stamp) { current[UserKey(user, field)] = FieldValue(value: value, stamp: s) }
        }

        var lost: (users: [String], fields: [String], stamps: [String], values: [String], by: [String]) = ([], [], [], [], [])
        var changed = Set<UserKey>()
        for (i, field) in merges {
            let (d, change) = run[i]
            let key = UserKey(d.recipient, field)
            guard let plan = FieldMergePlan.plan(current: current[key], change: change) else { continue }
            if let (loser, winner) = plan.superseded {
                lost.users.append(d.recipient)
                lost.fields.append(field)
                lost.stamps.append(loser.stamp.description)
                lost.values.append(loser.value)
                lost.by.append(winner.description)
            }
            if let v = plan.newValue {
                current[key] = v
                changed.insert(key)
            }
            if plan.conflict && d.recipient == pusherID { result.conflicts += 1 }
        }
        if !lost.users.isEmpty {
            try await conn.query(
                """
                INSERT INTO superseded(user_id, field, stamp, value, superseded_by)
                SELECT * FROM UNNEST(\(lost.users)::text[], \(lost.fields)::text[], \(lost.stamps)::text[], \(lost.values)::text[], \(lost.by)::text[])
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        guard !changed.isEmpty else { return stored }
        var newUsers: [String] = [], newFields: [String] = [], newValues: [String] = [], newStamps: [String] = []
        for key in changed {
            let v = current[key]!
            newUsers.append(key.user)
            newFields.append(key.key)
            newValues.append(v.value)
            newStamps.append(v.stamp.description)
        }
        try await conn.query(
            """
            INSERT INTO field_state(user_id, field, value, stamp)
            SELECT * FROM UNNEST(\(newUsers)::text[], \(newFields)::text[], \(newValues)::text[], \(newStamps)::text[])
            ON CONFLICT (user_id, field) DO UPDATE SET value = excluded.value, stamp = excluded.stamp
            """, logger: logger)
        return stored
    }

    /// A change id or a field key within one user's log.
    private struct UserKey: Hashable {
        var user: String
        var key: String
        init(_ user: String, _ key: String) {
            self.user = user
            self.key = key
        }
    }

    public func pull(userID: String, after: Int64, limit: Int) async throws -> [LoggedChange] {
        var out: [LoggedChange] = []
        for try await (seq, payload, via) in try await client.query(Self.pullQuery(userID: userID, after: after, limit: limit), logger: logger)
            .decode((Int64, String, String?).self)
        {
            out.append(LoggedChange(seq: seq, json: payload, via: via))
        }
        return out
    }

    /// A page of a user's log (public for tests, which look at its plan).
    public static func pullQuery(userID: String, after: Int64, limit: Int) -> PostgresQuery {
        "SELECT seq, payload, via FROM change_log WHERE user_id = \(userID) AND seq > \(after) ORDER BY seq LIMIT \(Int64(limit))"
    }

    public func fieldValue(userID: String, field: String) async throws -> FieldValue? {
        for try await (value, stamp) in try await client.query(
            "SELECT value, stamp FROM field_state WHERE user_id = \(userID) AND field = \(field)", logger: logger
        ).decode((String, String).self) {
            return Stamp(stamp).map { FieldValue(value: value, stamp: $0) }
        }
        return nil
    }

    public func fieldStates(userID: String) async throws -> [(String, FieldValue)] {
        var out: [(String, FieldValue)] = []
        for try await (field, value, stamp) in try await client.query(
            "SELECT field, value, stamp FROM field_state WHERE user_id = \(userID)", logger: logger
        ).decode((String, String, String).self) {
            if let s = Stamp(stamp) { out.append((field, FieldValue(value: value, stamp: s))) }
        }
        return out
    }

    public func excerptIDs(userID: String) async throws -> [String] {
        var out: [String] = []
        for try await (id) in try await client.query(
            "SELECT excerpt_id FROM change_log WHERE user_id = \(userID) AND kind = 'excerpt'", logger: logger
        ).decode(String.self) { out.append(id) }
        return out
    }

    public func superseded(userID: String, field: String) async throws -> [FieldValue] {
        var out: [FieldValue] = []
        for try await (value, stamp) in try await client.query(
            "SELECT value, stamp FROM superseded WHERE user_id = \(userID) AND field = \(field) ORDER BY stamp", logger: logger
        ).decode((String, String).self) {
            if let s = Stamp(stamp) { out.append(FieldValue(value: value, stamp: s)) }
        }
        return out
    }

    // MARK: shared collections

    private func records(_ rows: [(String, String, String, String)]) async throws -> [CollectionRecord] {
        var out: [CollectionRecord] = []
        for (id, owner, ownerName, tag) in rows {
            var roles: [String: String] = [:]
            var names: [String: String] = [:]
            for try await (user, name, role) in try await client.query(
                "SELECT m.user_id, u.name, m.role FROM collection_member m JOIN app_user u ON u.id = m.user_id WHERE m.collection_id = \(id)",
                logger: logger
            ).decode((String, String, String).self) {
                roles[user] = role
                names[user] = name
            }
            out.append(CollectionRecord(id: id, ownerID: owner, ownerName: ownerName, tag: tag, roles: roles, names: names))
        }
        return out
    }

    public func collection(ownerName: String, tag: String) async throws -> CollectionRecord? {
        var rows: [(String, String, String, String)] = []
        for try await row in try await client.query(
            "SELECT c.id, c.owner_id, u.name, c.tag FROM collection c JOIN app_user u ON u.id = c.owner_id WHERE u.name = \(ownerName) AND c.tag = \(tag)",
            logger: logger
        ).decode((String, String, String, String).self) { rows.append(row) }
        return try await records(rows).first
    }

    public func collections(of userID: String) async throws -> [CollectionRecord] {
        var rows: [(String, String, String, String)] = []
        for try await row in try await client.query(
            """
            SELECT c.id, c.owner_id, u.name, c.tag FROM collection c JOIN app_user u ON u.id = c.owner_id
            WHERE c.owner_id = \(userID) OR c.id IN (SELECT collection_id FROM collection_member WHERE user_id = \(userID))
            ORDER BY u.name, c.tag
            """, logger: logger
        ).decode((String, String, String, String).self) { rows.append(row) }
        return try await records(rows)
    }

    public func setMember(ownerID: String, tag: String, memberID: String, role: String, now: Int64) async throws -> CollectionRecord {
        let newID = UUID().uuidString.lowercased()
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query(
                "INSERT INTO collection(id, owner_id, tag, created_at) VALUES (\(newID), \(ownerID), \(tag), \(now)) ON CONFLICT (owner_id, tag) DO NOTHING",
                logger: self.logger)
            try await conn.query(
                """
                INSERT INTO collection_member(collection_id, user_id, role, added_at)
                SELECT id, \(memberID), \(role), \(now) FROM collection WHERE owner_id = \(ownerID) AND tag = \(tag)
                ON CONFLICT (collection_id, user_id) DO UPDATE SET role = excluded.role
                """, logger: self.logger)
        }
        var rows: [(String, String, String, String)] = []
        for try await row in try await client.query(
            "SELECT c.id, c.owner_id, u.name, c.tag FROM collection c JOIN app_user u ON u.id = c.owner_id WHERE c.owner_id = \(ownerID) AND c.tag = \(tag)",
            logger: logger
        ).decode((String, String, String, String).self) { rows.append(row) }
        return try await records(rows)[0]
    }

    public func removeMember(collection c: CollectionRecord, memberID: String) async throws -> Bool {
        let name = c.name
        return try await client.withTransaction(logger: logger) { conn in
            let key = "gloss-log:" + memberID
            try await conn.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: self.logger)
            var removed = false
            for try await _ in try await conn.query(
                "DELETE FROM collection_member WHERE collection_id = \(c.id) AND user_id = \(memberID) RETURNING user_id", logger: self.logger
            ).decode(String.self) { removed = true }
            guard removed else { return false }
            try await conn.query(
                """
                DELETE FROM field_state WHERE user_id = \(memberID) AND field IN
                    (SELECT field FROM change_log WHERE user_id = \(memberID) AND via = \(name) AND field IS NOT NULL)
                """, logger: self.logger)
            try await conn.query(
                """
                DELETE FROM superseded WHERE user_id = \(memberID) AND field IN
                    (SELECT field FROM change_log WHERE user_id = \(memberID) AND via = \(name) AND field IS NOT NULL)
                """, logger: self.logger)
            try await conn.query("DELETE FROM change_log WHERE user_id = \(memberID) AND via = \(name)", logger: self.logger)
            return true
        }
    }

    public func backfill(collection c: CollectionRecord) async throws -> [Change] {
        var out: [Change] = []
        var links: [(String, String)] = []
        for try await row in try await client.query(
            """
            SELECT field, stamp FROM field_state WHERE user_id = \(c.ownerID) AND field LIKE 'tag:%' AND substr(field, 38) = \(c.tag) AND value = 'true'
            ORDER BY field
            """, logger: logger
        ).decode((String, String).self) { links.append(row) }
        for (field, stamp) in links {
            let excerpt = String(field.dropFirst(4).prefix(32))
            let id = "e:" + excerpt
            for try await (json) in try await client.query(
                "SELECT payload FROM change_log WHERE user_id = \(c.ownerID) AND change_id = \(id)", logger: logger
            ).decode(String.self) { out.append(try ChangeJSON.decode(json)) }
            if let s = Stamp(stamp) { out.append(.tag(excerptId: excerpt, name: c.name, present: true, stamp: s, base: nil)) }
        }
        let name = c.name
        for try await (json) in try await client.query(
            "SELECT payload FROM change_log WHERE user_id = \(c.ownerID) AND collection = \(name) ORDER BY seq", logger: logger
        ).decode(String.self) { out.append(try ChangeJSON.decode(json)) }
        return out
    }
}
