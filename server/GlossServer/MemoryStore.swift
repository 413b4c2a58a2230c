import Foundation
import GlossModel

/// An in-memory `SyncStore` for unit tests: the same behaviour as the SQLite store, no file.
public actor MemoryStore: SyncStore {
    struct Token { var id: String; var userID: String; var label: String; var revoked: Bool }
    private var users: [String: UserRecord] = [:]  // by name
    private var tokens: [String: Token] = [:]  // by hash
    private var log: [String: [LoggedChange]] = [:]  // by user
    private var changeIDs: [String: Set<String>] = [:]
    private var fields: [String: [String: FieldValue]] = [:]
    private var losers: [String: [String: [FieldValue]]] = [:]
    private var seq: Int64 = 0

    public init() {}

    public func createUser(name: String, now: Int64) throws -> UserRecord {
        if users[name] != nil { throw StoreError.userExists(name) }
        let u = UserRecord(id: UUID().uuidString.lowercased(), name: name, createdAt: now)
        users[name] = u
        return u
    }

    public func findUser(name: String) -> UserRecord? { users[name] }

    public func addToken(userID: String, label: String, tokenHash: String, now: Int64) -> String {
        let id = UUID().uuidString.lowercased()
        tokens[tokenHash] = Token(id: id, userID: userID, label: label, revoked: false)
        return id
    }

    public func revokeTokens(userID: String, label: String?, now: Int64) -> Int {
        var n = 0
        for (h, t) in tokens where t.userID == userID && !t.revoked && (label == nil || t.label == label) {
            tokens[h]!.revoked = true
            n += 1
        }
        return n
    }

    public func authenticate(tokenHash: String) -> AuthenticatedUser? {
        guard let t = tokens[tokenHash], !t.revoked, let u = users.values.first(where: { $0.id == t.userID }) else { return nil }
        return AuthenticatedUser(userID: u.id, name: u.name, tokenID: t.id)
    }

    public func push(userID: String, changes: [Change]) throws -> PushResult {
        var result = PushResult(acknowledged: [], accepted: 0, duplicates: 0, conflicts: 0)
        for change in changes {
            let id = change.id
            result.acknowledged.append(id)
            if changeIDs[userID, default: []].contains(id) {
                result.duplicates += 1
                continue
            }
            changeIDs[userID, default: []].insert(id)
            seq += 1
            log[userID, default: []].append(LoggedChange(seq: seq, json: try ChangeJSON.encode(change)))
            result.accepted += 1
            guard let key = change.field?.description,
                let plan = FieldMergePlan.plan(current: fields[userID]?[key], change: change)
            else { continue }
            if let (loser, _) = plan.superseded { losers[userID, default: [:]][key, default: []].append(loser) }
            if let v = plan.newValue { fields[userID, default: [:]][key] = v }
            if plan.conflict { result.conflicts += 1 }
        }
        return result
    }

    public func pull(userID: String, after: Int64, limit: Int) -> [LoggedChange] {
        Array((log[userID] ?? []).lazy.filter { $0.seq > after }.prefix(limit))
    }

    public func fieldValue(userID: String, field: String) -> FieldValue? { fields[userID]?[field] }

    public func superseded(userID: String, field: String) -> [FieldValue] {
        (losers[userID]?[field] ?? []).sorted { $0.stamp < $1.stamp }
    }
}

/// Compact JSON text of a change, as logged and served.
public enum ChangeJSON {
    public static func encode(_ change: Change) throws -> String {
        String(decoding: try JSONEncoder().encode(change), as: UTF8.self)
    }
}
