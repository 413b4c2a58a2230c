import Foundation
import GlossMigrations
import GlossModel
import Logging
import PostgresNIO

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

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
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
        let encoded: [(Delivery, String?)] = deliveries.map { d in
            if case .change(let c) = d.item { return (d, ChangeWriter.json(c)) }
            return (d, nil)
        }
        let recipients = Set(deliveries.map(\.recipient)).sorted()
        return try await client.withTransaction(logger: logger) { conn in
            for user in recipients {
                let key = "gloss-log:" + user
                try await conn.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: self.logger)
            }
            var result = PushResult(acknowledged: [], accepted: 0, duplicates: 0, conflicts: 0)
            for (d, json) in encoded {
                switch d.item {
                case .copyExcerpt(let excerpt, let source):
                    let id = "e:" + excerpt
                    try await conn.query(
                        """
                        INSERT INTO change_log(user_id, change_id, kind, excerpt_id, field, collection, via, payload)
                        SELECT \(d.recipient), change_id, kind, excerpt_id, NULL, NULL, \(d.via), payload FROM change_log
                        WHERE user_id = \(source) AND change_id = \(id)
                        ON CONFLICT (user_id, change_id) DO NOTHING
                        """, logger: self.logger)
                case .change(let change):
                    let mine = d.recipient == pusherID
                    if mine { result.acknowledged.append(change.id) }
                    let key = change.field?.description
                    let kind = SQLiteStore.kind(change), changeID = change.id, excerptID = change.excerptId
                    let collection = ChangeJSON.noteCollection(change)
                    var inserted: Int64?
                    for try await seq in try await conn.query(
                        """
                        INSERT INTO change_log(user_id, change_id, kind, excerpt_id, field, collection, via, payload)
                        VALUES (\(d.recipient), \(changeID), \(kind), \(excerptID), \(key), \(collection), \(d.via), \(json!))
                        ON CONFLICT (user_id, change_id) DO NOTHING RETURNING seq
                        """, logger: self.logger
                    ).decode(Int64.self) { inserted = seq }
                    guard let seq = inserted else {
                        if mine { result.duplicates += 1 }
                        continue
                    }
                    if mine {
                        result.accepted += 1
                        result.logged.append(seq)
                    }
                    guard let key else { continue }
                    var current: FieldValue?
                    for try await (value, stamp) in try await conn.query(
                        "SELECT value, stamp FROM field_state WHERE user_id = \(d.recipient) AND field = \(key)", logger: self.logger
                    ).decode((String, String).self) {
                        current = Stamp(stamp).map { FieldValue(value: value, stamp: $0) }
                    }
                    guard let plan = FieldMergePlan.plan(current: current, change: change) else { continue }
                    if let (loser, winner) = plan.superseded {
                        let s = loser.stamp.description, w = winner.description
                        try await conn.query(
                            """
                            INSERT INTO superseded(user_id, field, stamp, value, superseded_by) VALUES (\(d.recipient), \(key), \(s), \(loser.value), \(w))
                            ON CONFLICT DO NOTHING
                            """, logger: self.logger)
                    }
                    if let v = plan.newValue {
                        let s = v.stamp.description
                        try await conn.query(
                            """
                            INSERT INTO field_state(user_id, field, value, stamp) VALUES (\(d.recipient), \(key), \(v.value), \(s))
                            ON CONFLICT (user_id, field) DO UPDATE SET value = excluded.value, stamp = excluded.stamp
                            """, logger: self.logger)
                    }
                    if plan.conflict && mine { result.conflicts += 1 }
                }
            }
            return result
        }
    }

    public func pull(userID: String, after: Int64, limit: Int) async throws -> [LoggedChange] {
        var out: [LoggedChange] = []
        let n = Int64(limit)
        for try await (seq, payload, via) in try await client.query(
            "SELECT seq, payload, via FROM change_log WHERE user_id = \(userID) AND seq > \(after) ORDER BY seq LIMIT \(n)", logger: logger
        ).decode((Int64, String, String?).self) {
            out.append(LoggedChange(seq: seq, json: payload, via: via))
        }
        return out
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
