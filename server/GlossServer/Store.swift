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
}

/// One logged change as stored: its sequence number and its JSON text.
public struct LoggedChange: Sendable, Equatable {
    public var seq: Int64
    public var json: String
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
    /// Records each change not yet recorded for the user (by change id), giving it the next
    /// sequence number, and merges field changes by last-writer-wins.
    func push(userID: String, changes: [Change]) async throws -> PushResult
    /// Logged changes of the user with sequence numbers above `after`, in order, at most `limit`.
    func pull(userID: String, after: Int64, limit: Int) async throws -> [LoggedChange]
    /// The current value of one field (for tests and verification).
    func fieldValue(userID: String, field: String) async throws -> FieldValue?
    /// Values of a field that lost a merge, oldest first.
    func superseded(userID: String, field: String) async throws -> [FieldValue]
}
