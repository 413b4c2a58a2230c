import GlossModel

public struct UserRecord: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Int64
    public init(id: String, name: String, createdAt: Int64) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// Who a request is from, once its bearer token has been checked.
public struct AuthenticatedUser: Sendable, Equatable {
    public var userID: String
    public var name: String
    public var tokenID: String
}

public struct PushResult: Sendable, Equatable {
    /// Every change id of the batch that is now durably recorded (new or seen before).
    public var acknowledged: [String]
    public var accepted: Int
    public var duplicates: Int
    public var conflicts: Int
    /// Sequence numbers of the pusher's own newly logged changes.
    public var logged: [Int64] = []
}

/// One logged change as stored: its sequence number, its JSON text and the collection that
/// delivered it (nil for the user's own).
public struct LoggedChange: Sendable, Equatable {
    public var seq: Int64
    public var json: String
    public var via: String?
    public init(seq: Int64, json: String, via: String? = nil) {
        self.seq = seq
        self.json = json
        self.via = via
    }
}

/// A shared collection with its members (user id → role, user id → name).
public struct CollectionRecord: Sendable, Equatable {
    public var id: String
    public var ownerID: String
    public var ownerName: String
    public var tag: String
    public var roles: [String: String]
    public var names: [String: String]
    public var name: String { ownerName + "/" + tag }
    public init(id: String, ownerID: String, ownerName: String, tag: String, roles: [String: String], names: [String: String]) {
        self.id = id
        self.ownerID = ownerID
        self.ownerName = ownerName
        self.tag = tag
        self.roles = roles
        self.names = names
    }
}

/// One thing to append to one user's log: a change, or a copy of an excerpt the source user has.
public struct Delivery: Sendable, Equatable {
    public enum Item: Sendable, Equatable {
        case change(Change)
        case copyExcerpt(String, from: String)
    }
    public var recipient: String
    public var item: Item
    public var via: String?
    /// The change's JSON as `ChangeWriter` writes it, when the push brought it (stores write it
    /// themselves otherwise).
    public var json: String?
    public init(recipient: String, item: Item, via: String?, json: String? = nil) {
        self.recipient = recipient
        self.item = item
        self.via = via
        self.json = json
    }
}

public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case userExists(String)
    case unknownUser(String)

    public var description: String {
        switch self {
        case .userExists(let n): "user '\(n)' already exists"
        case .unknownUser(let n): "no user named '\(n)'"
        }
    }
}

/// Storage behind glossd. Every method is atomic (one transaction). The merge decisions are not
/// the store's: it reads a field's current value, asks `FieldMergePlan` and writes what the plan
/// says, so every store (and every replica) merges identically.
///
/// Implementations: `MemoryStore` (unit tests), `SQLiteStore` (the embedded default).
/// `StoreConformanceTests` runs the same behaviours against each.
public protocol SyncStore: Sendable {
    func createUser(name: String, now: Int64) async throws -> UserRecord
    func findUser(name: String) async throws -> UserRecord?
    /// Stores a token's hash; returns the token's id.
    func addToken(userID: String, label: String, tokenHash: String, now: Int64) async throws -> String
    /// Revokes the user's tokens with this label (all when nil); returns how many.
    func revokeTokens(userID: String, label: String?, now: Int64) async throws -> Int
    /// The user owning a live token with this hash.
    func authenticate(tokenHash: String) async throws -> AuthenticatedUser?
    /// In one transaction, appends each delivery to its recipient's log unless that log has
    /// the change id already, giving it the next sequence number, and merges field changes into
    /// the recipient's state by last-writer-wins. The result counts the pusher's own deliveries.
    func deliver(pusherID: String, _ deliveries: [Delivery]) async throws -> PushResult
    /// Logged changes of the user with sequence numbers above `after`, in order, at most `limit`.
    func pull(userID: String, after: Int64, limit: Int) async throws -> [LoggedChange]
    /// The current value of one field (for tests and verification).
    func fieldValue(userID: String, field: String) async throws -> FieldValue?
    /// Values of a field that lost a merge, oldest first.
    func superseded(userID: String, field: String) async throws -> [FieldValue]
    /// Every field's current value in the user's state (for `gloss verify`).
    func fieldStates(userID: String) async throws -> [(String, FieldValue)]
    /// The ids of every excerpt in the user's log.
    func excerptIDs(userID: String) async throws -> [String]

    // MARK: shared collections
    func collection(ownerName: String, tag: String) async throws -> CollectionRecord?
    /// Collections the user owns or is a member of.
    func collections(of userID: String) async throws -> [CollectionRecord]
    /// Adds a member or changes their role, creating the collection if needed.
    func setMember(ownerID: String, tag: String, memberID: String, role: String, now: Int64) async throws -> CollectionRecord
    /// Removes a member and everything the collection delivered to them (log rows, field
    /// state, superseded values). False when they were not a member.
    func removeMember(collection: CollectionRecord, memberID: String) async throws -> Bool
    /// The collection's current content as changes, for a new member: each excerpt carrying the
    /// tag in the owner's space, the tag link (named OWNER/TAG), and every collection note change.
    func backfill(collection: CollectionRecord) async throws -> [Change]
    /// Frees what the store caches in memory and can read again (called once the daemon is idle).
    func releaseMemory() async
    /// Leaves the store's files complete before the process ends (the last request done);
    /// `truncating` when the daemon stops, not when a command that may run beside it ends.
    func close(truncating: Bool) async
}

extension SyncStore {
    public func releaseMemory() async {}
    public func close(truncating: Bool) async {}

    /// A user's own push with no collection involved: every change to the pusher.
    public func push(userID: String, changes: [Change]) async throws -> PushResult {
        try await deliver(pusherID: userID, changes.map { Delivery(recipient: userID, item: .change($0), via: nil) })
    }
}
