import Foundation
import GlossModel

/// An in-memory `SyncStore` for unit tests: the same behaviour as the SQLite store, no file.
public actor MemoryStore: SyncStore {
    struct Token { var id: String; var userID: String; var label: String; var revoked: Bool }
    struct Row { var log: LoggedChange; var changeID: String; var field: String?; var collection: String? }
    private var users: [String: UserRecord] = [:]  // by name
    private var tokens: [String: Token] = [:]  // by hash
    private var log: [String: [Row]] = [:]  // by user
    private var changeIDs: [String: Set<String>] = [:]
    private var fields: [String: [String: FieldValue]] = [:]
    private var losers: [String: [String: [FieldValue]]] = [:]
    private var collections: [String: (ownerID: String, tag: String, roles: [String: String])] = [:]  // by id
    private var seq: Int64 = 0

    public init() {}

    public func createUser(name: String, now: Int64) throws -> UserRecord {
        if users[name] != nil { throw StoreError.userExists(name) }
        let u = UserRecord(id: UUID().uuidString.lowercased(), name: name, createdAt: now)
        users[name] = u
        return u
    }

    public func findUser(name: String) -> UserRecord? { users[name] }

    private func name(of userID: String) -> String { users.values.first { $0.id == userID }?.name ?? "" }

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

    /// The new row's sequence number, nil when the user's log has the change already.
    private func append(_ user: String, id: String, json: String, field: String?, collection: String?, via: String?) -> Int64? {
        if changeIDs[user, default: []].contains(id) { return nil }
        changeIDs[user, default: []].insert(id)
        seq += 1
        log[user, default: []].append(Row(log: LoggedChange(seq: seq, json: json, via: via), changeID: id, field: field, collection: collection))
        return seq
    }

    public func deliver(pusherID: String, _ deliveries: [Delivery]) throws -> PushResult {
        var result = PushResult(acknowledged: [], accepted: 0, duplicates: 0, conflicts: 0)
        for d in deliveries {
            switch d.item {
            case .copyExcerpt(let excerpt, let source):
                if let row = log[source]?.first(where: { $0.changeID == "e:" + excerpt }) {
                    _ = append(d.recipient, id: row.changeID, json: row.log.json, field: nil, collection: nil, via: d.via)
                }
            case .change(let change):
                let mine = d.recipient == pusherID
                if mine { result.acknowledged.append(change.id) }
                let inserted = append(
                    d.recipient, id: change.id, json: try d.json ?? ChangeJSON.encode(change), field: change.field?.description,
                    collection: ChangeJSON.noteCollection(change), via: d.via)
                guard let inserted else {
                    if mine { result.duplicates += 1 }
                    continue
                }
                if mine {
                    result.accepted += 1
                    result.logged.append(inserted)
                }
                guard let key = change.field?.description,
                    let plan = FieldMergePlan.plan(current: fields[d.recipient]?[key], change: change)
                else { continue }
                if let (loser, _) = plan.superseded, !(losers[d.recipient]?[key] ?? []).contains(loser) {
                    losers[d.recipient, default: [:]][key, default: []].append(loser)
                }
                if let v = plan.newValue { fields[d.recipient, default: [:]][key] = v }
                if plan.conflict && mine { result.conflicts += 1 }
            }
        }
        return result
    }

    public func pull(userID: String, after: Int64, limit: Int) -> [LoggedChange] {
        Array((log[userID] ?? []).lazy.map(\.log).filter { $0.seq > after }.prefix(limit))
    }

    public func fieldValue(userID: String, field: String) -> FieldValue? { fields[userID]?[field] }

    public func fieldStates(userID: String) -> [(String, FieldValue)] {
        (fields[userID] ?? [:]).map { ($0.key, $0.value) }
    }

    public func excerptIDs(userID: String) -> [String] {
        (log[userID] ?? []).filter { $0.changeID.hasPrefix("e:") }.map { String($0.changeID.dropFirst(2)) }
    }

    public func superseded(userID: String, field: String) -> [FieldValue] {
        (losers[userID]?[field] ?? []).sorted { $0.stamp < $1.stamp }
    }

    private func record(_ id: String) -> CollectionRecord? {
        guard let c = collections[id] else { return nil }
        var names: [String: String] = [:]
        for member in c.roles.keys { names[member] = name(of: member) }
        return CollectionRecord(id: id, ownerID: c.ownerID, ownerName: name(of: c.ownerID), tag: c.tag, roles: c.roles, names: names)
    }

    public func collection(ownerName: String, tag: String) -> CollectionRecord? {
        guard let owner = users[ownerName] else { return nil }
        return collections.first { $0.value.ownerID == owner.id && $0.value.tag == tag }.flatMap { record($0.key) }
    }

    public func collections(of userID: String) -> [CollectionRecord] {
        collections.filter { $0.value.ownerID == userID || $0.value.roles[userID] != nil }.keys.compactMap { record($0) }
            .sorted { $0.name < $1.name }
    }

    public func setMember(ownerID: String, tag: String, memberID: String, role: String, now: Int64) -> CollectionRecord {
        let id = collections.first { $0.value.ownerID == ownerID && $0.value.tag == tag }?.key ?? UUID().uuidString.lowercased()
        var c = collections[id] ?? (ownerID, tag, [:])
        c.roles[memberID] = role
        collections[id] = c
        return record(id)!
    }

    public func removeMember(collection: CollectionRecord, memberID: String) -> Bool {
        guard collections[collection.id]?.roles.removeValue(forKey: memberID) != nil else { return false }
        let rows = log[memberID] ?? []
        let gone = rows.filter { $0.log.via == collection.name }
        for f in Set(gone.compactMap(\.field)) {
            fields[memberID]?[f] = nil
            losers[memberID]?[f] = nil
        }
        log[memberID] = rows.filter { $0.log.via != collection.name }
        changeIDs[memberID]?.subtract(gone.map(\.changeID))
        return true
    }

    public func backfill(collection c: CollectionRecord) throws -> [Change] {
        var out: [Change] = []
        let rows = log[c.ownerID] ?? []
        for (key, value) in (fields[c.ownerID] ?? [:]).sorted(by: { $0.key < $1.key }) where value.value == "true" {
            guard key.hasPrefix("tag:"), key.dropFirst(37) == Substring(c.tag) else { continue }
            let excerpt = String(key.dropFirst(4).prefix(32))
            if let row = rows.first(where: { $0.changeID == "e:" + excerpt }) { out.append(try ChangeJSON.decode(row.log.json)) }
            out.append(.tag(excerptId: excerpt, name: c.name, present: true, stamp: value.stamp, base: nil))
        }
        for row in rows where row.collection == c.name { out.append(try ChangeJSON.decode(row.log.json)) }
        return out
    }
}

/// Compact JSON text of a change, as logged and served.
public enum ChangeJSON {
    public static func encode(_ change: Change) throws -> String {
        ChangeWriter.json(change)
    }

    public static func decode(_ json: String) throws -> Change {
        try JSONDecoder().decode(Change.self, from: Data(json.utf8))
    }

    /// The collection of a note change (nil for everything else).
    public static func noteCollection(_ change: Change) -> String? {
        switch change {
        case .noteBody(let h, _, _, _), .noteDeleted(let h, _, _, _): h.collection
        default: nil
        }
    }
}
