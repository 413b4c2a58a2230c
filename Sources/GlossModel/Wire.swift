/// Wire types of the sync protocol (`docs/sync-protocol.md`). JSON over HTTP.

/// `POST /v1/push` body: a batch of outbox changes.
public struct PushRequest: Sendable, Codable {
    public var changes: [Change]
    /// Not sent: for each change, its JSON as the client sent it when that is exactly what
    /// `ChangeWriter` writes for it (nil otherwise); `ChangeReader.pushRequest` sets it, and the
    /// daemon stores those bytes rather than writing the change again.
    public var canonicalJSON: [String?]?
    public init(changes: [Change]) { self.changes = changes }
    enum CodingKeys: String, CodingKey { case changes }
}

/// The answer to `POST /v1/pushes`: the ticket to fetch the push's outcome with
/// (`GET /v1/pushes/TICKET`, which answers a `PushResponse` or the push's error).
public struct PushTicket: Sendable, Codable, Equatable {
    public var push: String
    public init(push: String) { self.push = push }
}

/// `POST /v1/push` answer: the ids of the changes the daemon has durably recorded (accepted now or
/// earlier), how many of them lost their merge, and the daemon's clock so the replica's clock can
/// move past it.
public struct PushResponse: Sendable, Codable {
    public var acknowledged: [String]
    public var conflicts: Int
    public var serverStamp: Stamp
    /// Where this push's new changes landed in the pusher's log, as inclusive `[first, last]`
    /// sequence ranges: the replica has them already, so it may ask its next pulls to skip them.
    public var logged: [[Int64]]?
    public init(acknowledged: [String], conflicts: Int, serverStamp: Stamp, logged: [[Int64]]? = nil) {
        self.acknowledged = acknowledged
        self.conflicts = conflicts
        self.serverStamp = serverStamp
        self.logged = logged
    }

    /// Sequence numbers as inclusive runs, in order.
    public static func ranges(_ seqs: [Int64]) -> [[Int64]] {
        var out: [[Int64]] = []
        for s in seqs.sorted() {
            if let last = out.last, last[1] + 1 == s { out[out.count - 1][1] = s } else { out.append([s, s]) }
        }
        return out
    }
}

/// One change as the daemon stores it: with its sequence number.
public struct SequencedChange: Sendable, Codable, Hashable {
    public var seq: Int64
    public var change: Change
    /// `OWNER/TAG` when a shared collection delivered this change; nil for the user's own.
    public var via: String?
    public init(seq: Int64, change: Change, via: String? = nil) {
        self.seq = seq
        self.change = change
        self.via = via
    }
}

/// A collection as `gloss collections --json` shows it: `{"tag", "owner", "role", "members"}`.
/// `role` is `owner`, `editor` or `reader` (the caller's own).
public struct CollectionInfo: Sendable, Codable, Equatable {
    public struct Member: Sendable, Codable, Equatable {
        public var user: String
        public var role: String
        public init(user: String, role: String) {
            self.user = user
            self.role = role
        }
    }
    public var tag: String
    public var owner: String
    public var role: String
    public var members: [Member]
    public init(tag: String, owner: String, role: String, members: [Member]) {
        self.tag = tag
        self.owner = owner
        self.role = role
        self.members = members
    }
    public var name: String { owner + "/" + tag }
}

/// `POST /v1/collections/share` and `/unshare` bodies.
public struct ShareRequest: Sendable, Codable {
    public var tag: String
    public var user: String
    public var role: String?
    public init(tag: String, user: String, role: String? = nil) {
        self.tag = tag
        self.user = user
        self.role = role
    }
}

/// A change the daemon refused for lack of rights (in a 403 body, `refused`).
public struct RefusedChange: Sendable, Codable, Equatable {
    public var id: String
    public var reason: String
    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }
}

/// `POST /v1/pull` body: the cursor (last sequence applied) and the page size wanted.
public struct PullRequest: Sendable, Codable {
    public var after: Int64
    public var limit: Int?
    /// Inclusive `[first, last]` sequence ranges not to send: changes this replica pushed in the
    /// same sync (from `PushResponse.logged`). The cursor still moves past them.
    public var skip: [[Int64]]?
    public init(after: Int64, limit: Int? = nil, skip: [[Int64]]? = nil) {
        self.after = after
        self.limit = limit
        self.skip = skip
    }
}

extension PullRequest {
    /// The request as JSON, written directly: it is every sync's first request, and
    /// JSONEncoder's first use in a process costs half a millisecond of setting itself up
    /// (`perf record` of `gloss sync`, docs/PERFORMANCE.md).
    public var json: [UInt8] {
        var text = "{\"after\":\(after)"
        if let limit { text += ",\"limit\":\(limit)" }
        if let skip { text += ",\"skip\":[" + skip.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]" }
        return Array((text + "}").utf8)
    }
}

/// `POST /v1/pull` answer: changes after the cursor in sequence order, the cursor to store once
/// they are applied, and whether more pages follow.
public struct PullResponse: Sendable, Codable {
    public var changes: [SequencedChange]
    public var cursor: Int64
    public var more: Bool
    public var serverStamp: Stamp
    /// The caller's user name and the collections they own or are members of, now.
    public var user: String?
    public var collections: [CollectionInfo]?
    public init(changes: [SequencedChange], cursor: Int64, more: Bool, serverStamp: Stamp, user: String? = nil, collections: [CollectionInfo]? = nil) {
        self.changes = changes
        self.cursor = cursor
        self.more = more
        self.serverStamp = serverStamp
        self.user = user
        self.collections = collections
    }
}

/// Every error body: `{"error": {"code": "...", "message": "..."}}`.
public struct ErrorBody: Sendable, Codable, Error {
    public struct Detail: Sendable, Codable {
        public var code: String
        public var message: String
    }
    public var error: Detail
    /// With 403 on a push: the changes refused (nothing of the batch was stored).
    public var refused: [RefusedChange]?
    public init(code: String, message: String, refused: [RefusedChange]? = nil) {
        error = Detail(code: code, message: message)
        self.refused = refused
    }
}
