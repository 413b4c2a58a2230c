import Foundation
import GlossModel
import Synchronization

/// Pushes taken in two requests: `POST /v1/pushes` carries the batch and is answered as soon as it
/// is read (202 and a ticket), while the batch is parsed, checked and stored in the
/// background; `GET /v1/pushes/TICKET` waits for the outcome and answers exactly what
/// `POST /v1/push` would have.
///
/// Why: on Linux, URLSession (swift-corelibs-foundation over libcurl) never removes its write
/// source from a connection once libcurl stops asking for write readiness, so a client waiting
/// for the answer to a request whose body took more than one write spins a core until the answer
/// comes (measured: 2.0 s of CPU for a 2 s wait after a 200 KB body, none after a 60 KB body or
/// a GET). With a ticket, the wait is a GET, which has no body.
///
/// A ticket belongs to the user who pushed (another user's lookup finds nothing), is answered
/// once, and is forgotten after `keep` if nobody asks. At most `perUser` pushes per user wait at
/// once (a client told 429 sends its batch as one `POST /v1/push`).
public final class PushTickets: Sendable {
    struct Entry: Sendable {
        let user: String
        let created: ContinuousClock.Instant
        let work: Task<PushResponse, Error>
        /// A GET is waiting for (or has taken) the outcome: a second one finds nothing.
        var claimed = false
        var finished = false
    }

    private let entries = Mutex<[String: Entry]>([:])
    let perUser: Int
    let total: Int
    let keep: Duration

    /// At most `perUser` tickets per user and `total` in all wait at once (429 beyond: the client
    /// then pushes that batch in one request, which HTTP itself paces).
    public init(perUser: Int = 32, total: Int = 256, keep: Duration = .seconds(300)) {
        self.perUser = perUser
        self.total = total
        self.keep = keep
    }

    /// Starts `work` for `user` and returns its ticket (429 when the user, or everyone, has
    /// as many waiting as allowed).
    public func submit(user: String, _ work: @escaping @Sendable () async throws -> PushResponse) throws -> String {
        let ticket = UUID().uuidString.lowercased()
        try entries.withLock { entries in
            // outcomes nobody asked for are dropped after `keep`, once their work has ended
            let now = ContinuousClock.now
            entries = entries.filter { now - $0.value.created < keep || !$0.value.finished }
            guard entries.count < total, entries.values.count(where: { $0.user == user }) < perUser else {
                throw SyncError(
                    429, "too_many_pushes",
                    "too many pushes are waiting for their outcome to be fetched (GET /v1/pushes/TICKET); fetch them, or send this batch to POST /v1/push")
            }
            let key = user + "/" + ticket
            let task = Task { [self] in
                defer { self.entries.withLock { $0[key]?.finished = true } }
                return try await work()
            }
            entries[key] = Entry(user: user, created: now, work: task)
        }
        return ticket
    }

    /// Waits for the outcome of one of `user`'s pushes (its answer, or the error it ended with).
    public func outcome(user: String, ticket: String) async throws -> PushResponse {
        let key = user + "/" + ticket
        let work: Task<PushResponse, Error>? = entries.withLock { entries in
            guard var entry = entries[key], !entry.claimed else { return nil }
            entry.claimed = true
            entries[key] = entry
            return entry.work
        }
        guard let work else {
            throw SyncError(
                404, "unknown_push",
                "no push with ticket '\(ticket.prefix(40))' is waiting for you (answered already, expired, sent to another daemon, or the daemon restarted): push the batch again")
        }
        let result = await work.result
        entries.withLock { _ = $0.removeValue(forKey: key) }
        return try result.get()
    }
}
