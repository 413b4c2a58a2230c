import Foundation
import GlossModel
import Synchronization

/// Daemon limits and settings.
public struct SyncLimits: Sendable {
    /// Largest request body accepted, compressed or not (413 above).
    public var maxBodyBytes = 32 * 1024 * 1024
    /// Most changes in one push (413 above).
    public var maxChangesPerPush = 10_000
    /// Default and largest pull page (400 above the largest).
    public var defaultPageSize = 2_000
    public var maxPageSize = 10_000
    /// How far ahead of the daemon's clock a stamp may be.
    public var maxClockSkewMillis: Int64 = 5 * 60 * 1000

    public init() {}
}

/// An error a client caused or must hear about: an HTTP status, a stable code, a message that
/// says what to do.
public struct SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var refused: [RefusedChange]?

    public init(_ status: Int, _ code: String, _ message: String, refused: [RefusedChange]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.refused = refused
    }

    public var description: String { "\(status) \(code): \(message)" }
}

/// The sync logic behind the HTTP routes: validation, the clock-skew rule, the daemon's HLC,
/// and the store. Routes only decode, call this and encode.
public final class SyncService: Sendable {
    public let store: any SyncStore
    public let limits: SyncLimits
    let now: @Sendable () -> Int64
    private let clock: Mutex<HybridClock>

    public init(store: any SyncStore, limits: SyncLimits = SyncLimits(), node: String = "glossd", now: @escaping @Sendable () -> Int64) {
        self.store = store
        self.limits = limits
        self.now = now
        clock = Mutex(HybridClock(node: node, now: now))
    }

    /// The daemon's current stamp (after everything it has received).
    public func currentStamp() -> Stamp { clock.withLock { $0.tick() } }

    public func authenticate(bearer token: String) async throws -> AuthenticatedUser? {
        guard token.hasPrefix("gloss_"), token.utf8.count <= 128 else { return nil }
        return try await store.authenticate(tokenHash: Tokens.hash(token))
    }

    public func push(_ request: PushRequest, user: AuthenticatedUser) async throws -> PushResponse {
        if request.changes.count > limits.maxChangesPerPush {
            throw SyncError(413, "too_many_changes", "a push may carry at most \(limits.maxChangesPerPush) changes; this one has \(request.changes.count): send smaller batches")
        }
        let physical = now()
        for change in request.changes {
            if let problem = change.validationError() {
                throw SyncError(400, "invalid_change", "change \(change.id.prefix(120)): \(problem)")
            }
            if let s = change.stamp, s.wall > physical + limits.maxClockSkewMillis {
                let ahead = (s.wall - physical) / 60_000
                throw SyncError(
                    400, "clock_skew",
                    "change \(change.id.prefix(120)) is stamped \(ahead) minute(s) ahead of the daemon's clock (limit \(limits.maxClockSkewMillis / 60_000)): "
                        + "the clock of the machine with replica id \(s.node) is wrong; set its time correctly, then sync again. Nothing in this batch was stored.")
            }
        }
        // who may write what, and who receives it: one policy, decided before anything is stored
        var byName: [String: CollectionRecord] = [:]
        for name in AccessPolicy.referencedCollections(request.changes) {
            let parts = name.split(separator: "/")
            if let c = try await store.collection(ownerName: String(parts[0]), tag: String(parts[1])) { byName[name] = c }
        }
        var ownedByTag: [String: CollectionRecord] = [:]
        let hasPlainTags = request.changes.contains { if case .tag(_, let n, _, _, _) = $0 { return !n.utf8.contains(UInt8(ascii: "/")) } else { return false } }
        if hasPlainTags {
            for c in try await store.collections(of: user.userID) where c.ownerID == user.userID { ownedByTag[c.tag] = c }
        }
        let (deliveries, refused) = AccessPolicy.plan(request.changes, json: request.canonicalJSON, context: .init(pusher: user, byName: byName, ownedByTag: ownedByTag))
        if !refused.isEmpty {
            throw SyncError(
                403, "forbidden", "\(refused.count) change(s) of this batch are not allowed (see 'refused'); nothing in the batch was stored",
                refused: refused)
        }
        let result = try await store.deliver(pusherID: user.userID, deliveries)
        let stamp = clock.withLock { clock in
            for change in request.changes { if let s = change.stamp { clock.receive(s) } }
            return clock.tick()
        }
        // any subset of the ranges is correct (the replica pulls what is not skipped), so a push
        // whose rows are scattered among other writers' tells only the first runs
        let logged = Array(PushResponse.ranges(result.logged).prefix(SyncService.maxSkipRanges))
        return PushResponse(acknowledged: request.changes.map(\.id), conflicts: result.conflicts, serverStamp: stamp, logged: logged)
    }

    /// A page of the user's changes after the cursor, as JSON text ready to send.
    public func pull(_ request: PullRequest, user: AuthenticatedUser) async throws -> [UInt8] {
        let limit = request.limit ?? limits.defaultPageSize
        guard limit >= 1, limit <= limits.maxPageSize else {
            throw SyncError(400, "bad_page_size", "page size must be between 1 and \(limits.maxPageSize); ask for fewer changes per page")
        }
        guard request.after >= 0 else { throw SyncError(400, "bad_cursor", "the cursor 'after' cannot be negative") }
        let skip = try Self.skipRanges(request.skip)
        // a replica's own changes from this sync are not sent back: jump over the runs that
        // start at the cursor, and leave out the others from the page (the cursor moves past both)
        let after = Self.past(skip, from: request.after)
        // one extra row tells whether more pages follow
        let rows = try await store.pull(userID: user.userID, after: after, limit: limit + 1)
        var more = rows.count > limit
        let fetched = rows.prefix(limit)
        var cursor = fetched.last?.seq ?? after
        if more && !skip.isEmpty {
            // when only this sync's own runs follow the page, end here instead of in one more
            // request (a sync's own push usually ends the log): the cursor moves past them
            let next = Self.past(skip, from: cursor)
            if next > cursor, try await store.pull(userID: user.userID, after: next, limit: 1).isEmpty { (cursor, more) = (next, false) }
        }
        let page = skip.isEmpty ? fetched : fetched.filter { row in !skip.contains { $0.contains(row.seq) } }
        var out = [UInt8]()
        out.reserveCapacity(page.reduce(64) { $0 + $1.json.utf8.count + 24 })
        out += Array("{\"changes\":[".utf8)
        // appended in place: a temporary array per row for the number and another for the JSON
        // were two allocations and an extra copy of each change
        for (i, row) in page.enumerated() {
            out.append(contentsOf: i > 0 ? #",{"seq":"#.utf8 : #"{"seq":"#.utf8)
            ChangeWriter.integer(row.seq, &out)
            out.append(contentsOf: #","change":"#.utf8)
            out.append(contentsOf: row.json.utf8)
            if let via = row.via {
                out.append(contentsOf: #","via":"#.utf8)
                ChangeWriter.string(via, &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out += Array("],\"cursor\":\(cursor),\"more\":\(more),\"serverStamp\":\"\(currentStamp().description)\",".utf8)
        out += Array("\"user\":".utf8)
        ChangeWriter.string(user.name, &out)
        out += Array(",\"collections\":".utf8) + (try JSONEncoder().encode(try await collections(for: user)))
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The cursor past the skip runs that follow `cursor` without a gap (ranges sorted).
    static func past(_ skip: [ClosedRange<Int64>], from cursor: Int64) -> Int64 {
        var position = cursor
        for r in skip where r.lowerBound <= position + 1 && r.upperBound > position { position = r.upperBound }
        return position
    }

    /// The most skip ranges a pull may carry (and a push answer reports).
    static let maxSkipRanges = 512

    /// Validated, sorted skip ranges.
    static func skipRanges(_ raw: [[Int64]]?) throws -> [ClosedRange<Int64>] {
        guard let raw else { return [] }
        guard raw.count <= maxSkipRanges else {
            throw SyncError(400, "bad_skip", "at most \(maxSkipRanges) skip ranges per pull")
        }
        return try raw.map { r in
            guard r.count == 2, r[0] >= 1, r[0] <= r[1] else {
                throw SyncError(400, "bad_skip", "each skip range is [first, last] with 1 ≤ first ≤ last")
            }
            return r[0]...r[1]
        }.sorted { $0.lowerBound < $1.lowerBound }
    }

    // MARK: verification

    /// The user's state digest, with the entries of the buckets asked for.
    public func verify(_ request: VerifyRequest, user: AuthenticatedUser) async throws -> VerifyResponse {
        guard request.buckets.count <= StateDigest.bucketCount, request.buckets.allSatisfy({ (0..<StateDigest.bucketCount).contains($0) }) else {
            throw SyncError(400, "bad_bucket", "buckets are 0–\(StateDigest.bucketCount - 1)")
        }
        let fields = try await store.fieldStates(userID: user.userID)
        let excerpts = try await store.excerptIDs(userID: user.userID)
        let wanted = Set(request.buckets)
        let entries = wanted.isEmpty ? nil : fields.filter { wanted.contains(StateDigest.bucket(of: $0.0)) }.map {
            FieldEntry(field: $0.0, value: $0.1.value, stamp: $0.1.stamp)
        }
        return VerifyResponse(
            digest: StateDigest(excerptIDs: excerpts, fields: fields), excerptIds: request.excerptIds ? excerpts : nil, entries: entries)
    }

    // MARK: shared collections

    /// Collections the user owns or is a member of, with everyone's roles.
    public func collections(for user: AuthenticatedUser) async throws -> [CollectionInfo] {
        try await store.collections(of: user.userID).map { c in
            let role = AccessPolicy.role(of: user.userID, in: c)?.rawValue ?? "reader"
            let members = c.roles.keys.sorted { c.names[$0, default: ""] < c.names[$1, default: ""] }.map {
                CollectionInfo.Member(user: c.names[$0, default: ""], role: c.roles[$0]!)
            }
            return CollectionInfo(tag: c.tag, owner: c.ownerName, role: role, members: members)
        }
    }

    /// Shares the owner's TAG with a user (or changes their role) and delivers the collection's
    /// current content to them.
    public func share(_ request: ShareRequest, owner: AuthenticatedUser) async throws -> CollectionInfo {
        if let problem = Limits.validateTag(request.tag) { throw SyncError(400, "bad_tag", problem) }
        guard let role = request.role, role == "reader" || role == "editor" else {
            throw SyncError(400, "bad_role", "role must be reader or editor")
        }
        guard let member = try await store.findUser(name: request.user) else {
            throw SyncError(404, "unknown_user", "no user named '\(request.user.prefix(64))'")
        }
        if member.id == owner.userID { throw SyncError(400, "bad_user", "you own this collection already") }
        let record = try await store.setMember(ownerID: owner.userID, tag: request.tag, memberID: member.id, role: role, now: now())
        let content = try await store.backfill(collection: record)
        _ = try await store.deliver(
            pusherID: member.id,
            content.map { change in
                if case .excerpt(let e) = change { return Delivery(recipient: member.id, item: .copyExcerpt(e.id, from: owner.userID), via: record.name) }
                return Delivery(recipient: member.id, item: .change(change), via: record.name)
            })
        return try await collections(for: owner).first { $0.tag == request.tag }!
    }

    /// Ends a member's access; their replicas drop the collection's content at their next sync.
    public func unshare(_ request: ShareRequest, owner: AuthenticatedUser) async throws {
        let notShared = SyncError(404, "not_shared", "\(owner.name)/\(request.tag.prefix(64)) is not shared with '\(request.user.prefix(64))'")
        guard let member = try await store.findUser(name: request.user),
            let record = try await store.collection(ownerName: owner.name, tag: request.tag)
        else { throw notShared }
        guard try await store.removeMember(collection: record, memberID: member.id) else { throw notShared }
    }

    // MARK: accounts (used by `glossd user|token`)

    /// Creates a user and a first device token; returns the token (shown once).
    public func addUser(name: String) async throws -> (UserRecord, token: String) {
        try Self.validateUserName(name)
        let user = try await store.createUser(name: name, now: now())
        let token = try await addToken(user: user, label: "first device")
        return (user, token)
    }

    public func addToken(userName: String, label: String) async throws -> String {
        guard let user = try await store.findUser(name: userName) else { throw StoreError.unknownUser(userName) }
        return try await addToken(user: user, label: label)
    }

    func addToken(user: UserRecord, label: String) async throws -> String {
        let token = Tokens.generate()
        _ = try await store.addToken(userID: user.id, label: label, tokenHash: Tokens.hash(token), now: now())
        return token
    }

    public func revokeTokens(userName: String, label: String?) async throws -> Int {
        guard let user = try await store.findUser(name: userName) else { throw StoreError.unknownUser(userName) }
        return try await store.revokeTokens(userID: user.id, label: label, now: now())
    }

    static func validateUserName(_ name: String) throws {
        if let problem = Limits.validateUserName(name) { throw SyncError(400, "bad_user_name", problem) }
    }
}
