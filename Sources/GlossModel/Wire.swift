/// Wire types of the sync protocol (`docs/sync-protocol.md`). JSON over HTTP.

/// `POST /v1/push` body: a batch of outbox changes.
public struct PushRequest: Sendable, Codable {
    public var changes: [Change]
    public init(changes: [Change]) { self.changes = changes }
}

/// `POST /v1/push` answer: the ids of the changes the daemon has durably recorded (accepted now or
/// earlier), how many of them lost their merge, and the daemon's clock so the replica's clock can
/// move past it.
public struct PushResponse: Sendable, Codable {
    public var acknowledged: [String]
    public var conflicts: Int
    public var serverStamp: Stamp
    public init(acknowledged: [String], conflicts: Int, serverStamp: Stamp) {
        self.acknowledged = acknowledged
        self.conflicts = conflicts
        self.serverStamp = serverStamp
    }
}

/// One change as the daemon stores it: with its sequence number.
public struct SequencedChange: Sendable, Codable, Hashable {
    public var seq: Int64
    public var change: Change
    public init(seq: Int64, change: Change) {
        self.seq = seq
        self.change = change
    }
}

/// `POST /v1/pull` body: the cursor (last sequence applied) and the page size wanted.
public struct PullRequest: Sendable, Codable {
    public var after: Int64
    public var limit: Int?
    public init(after: Int64, limit: Int? = nil) {
        self.after = after
        self.limit = limit
    }
}

/// `POST /v1/pull` answer: changes after the cursor in sequence order, the cursor to store once
/// they are applied, and whether more pages follow.
public struct PullResponse: Sendable, Codable {
    public var changes: [SequencedChange]
    public var cursor: Int64
    public var more: Bool
    public var serverStamp: Stamp
    public init(changes: [SequencedChange], cursor: Int64, more: Bool, serverStamp: Stamp) {
        self.changes = changes
        self.cursor = cursor
        self.more = more
        self.serverStamp = serverStamp
    }
}

/// Every error body: `{"error": {"code": "...", "message": "..."}}`.
public struct ErrorBody: Sendable, Codable, Error {
    public struct Detail: Sendable, Codable {
        public var code: String
        public var message: String
    }
    public var error: Detail
    public init(code: String, message: String) { error = Detail(code: code, message: message) }
}
