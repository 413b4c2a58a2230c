import Dispatch
import Foundation
import GlossMigrations
import GlossModel
import GlossSQLite

/// The embedded default store: one SQLite file (WAL), schema from `migrations/server/`.
/// One connection, used from one serial queue, so calls never block Swift's cooperative pool.
public final class SQLiteStore: SyncStore, @unchecked Sendable {
    private let db: Database
    private let queue = DispatchQueue(label: "glossd.sqlite")
    private let encoder = JSONEncoder()

    public init(path: String, now: Int64) throws {
        db = try Database(path: path)
        try Migrator.migrate(db, Migrations.server, now: String(now))
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [db] in continuation.resume(with: Result { try body(db) }) }
        }
    }

    public func createUser(name: String, now: Int64) async throws -> UserRecord {
        try await run { db in
            try db.transaction {
                if try db.first("SELECT 1 FROM app_user WHERE name = ?", [.text(name)], { _ in 1 }) != nil { throw StoreError.userExists(name) }
                let u = UserRecord(id: UUID().uuidString.lowercased(), name: name, createdAt: now)
                try db.run("INSERT INTO app_user(id, name, created_at) VALUES (?, ?, ?)", .text(u.id), .text(name), .int(now))
                return u
            }
        }
    }

    public func findUser(name: String) async throws -> UserRecord? {
        try await run { db in
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
        try await run { db in
            try db.first(
                "SELECT u.id, u.name, t.id FROM device_token t JOIN app_user u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked_at IS NULL",
                [.text(tokenHash)]
            ) { AuthenticatedUser(userID: $0.text(0), name: $0.text(1), tokenID: $0.text(2)) }
        }
    }

    public func push(userID: String, changes: [Change]) async throws -> PushResult {
        // encode outside the database queue
        let encoded = try changes.map { (change: $0, json: String(decoding: try encoder.encode($0), as: UTF8.self)) }
        return try await run { db in
            try db.transaction {
                var result = PushResult(acknowledged: [], accepted: 0, duplicates: 0, conflicts: 0)
                result.acknowledged.reserveCapacity(encoded.count)
                let insert = try db.prepare(
                    "INSERT INTO change_log(user_id, change_id, kind, excerpt_id, payload) VALUES (?, ?, ?, ?, ?) ON CONFLICT(user_id, change_id) DO NOTHING")
                for (change, json) in encoded {
                    let id = change.id
                    result.acknowledged.append(id)
                    try insert.run(.text(userID), .text(id), .text(SQLiteStore.kind(change)), .text(change.excerptId), .text(json))
                    if db.changes == 0 {
                        result.duplicates += 1
                        continue
                    }
                    result.accepted += 1
                    guard let key = change.field?.description else { continue }
                    let current = try db.first(
                        "SELECT value, stamp FROM field_state WHERE user_id = ? AND field = ?", [.text(userID), .text(key)]
                    ) { s in Stamp(s.text(1)).map { FieldValue(value: s.text(0), stamp: $0) } } ?? nil
                    guard let plan = FieldMergePlan.plan(current: current, change: change) else { continue }
                    if let (loser, winner) = plan.superseded {
                        try db.prepare(
                            "INSERT INTO superseded(user_id, field, stamp, value, superseded_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
                        ).run(.text(userID), .text(key), .text(loser.stamp.description), .text(loser.value), .text(winner.description))
                    }
                    if let v = plan.newValue {
                        try db.prepare(
                            "INSERT INTO field_state(user_id, field, value, stamp) VALUES (?, ?, ?, ?) ON CONFLICT(user_id, field) DO UPDATE SET value = excluded.value, stamp = excluded.stamp"
                        ).run(.text(userID), .text(key), .text(v.value), .text(v.stamp.description))
                    }
                    if plan.conflict { result.conflicts += 1 }
                }
                return result
            }
        }
    }

    static func kind(_ c: Change) -> String {
        switch c {
        case .excerpt: "excerpt"
        case .noteBody: "noteBody"
        case .noteDeleted: "noteDeleted"
        case .tag: "tag"
        }
    }

    public func pull(userID: String, after: Int64, limit: Int) async throws -> [LoggedChange] {
        try await run { db in
            try db.query(
                "SELECT seq, payload FROM change_log WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                [.text(userID), .int(after), .int(Int64(limit))]
            ) { LoggedChange(seq: $0.int(0), json: $0.text(1)) }
        }
    }

    public func fieldValue(userID: String, field: String) async throws -> FieldValue? {
        try await run { db in
            try db.first("SELECT value, stamp FROM field_state WHERE user_id = ? AND field = ?", [.text(userID), .text(field)]) { s in
                Stamp(s.text(1)).map { FieldValue(value: s.text(0), stamp: $0) }
            } ?? nil
        }
    }

    public func superseded(userID: String, field: String) async throws -> [FieldValue] {
        try await run { db in
            try db.query("SELECT value, stamp FROM superseded WHERE user_id = ? AND field = ? ORDER BY stamp", [.text(userID), .text(field)]) { s in
                FieldValue(value: s.text(0), stamp: Stamp(s.text(1)) ?? Stamp(wall: 0, counter: 0, node: "invalid"))
            }
        }
    }
}
