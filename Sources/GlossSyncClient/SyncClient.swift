import Foundation
import Synchronization
import GlossCompression
import GlossModel
import GlossReplica

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `gloss sync --json`: `{"pushed", "pulled", "conflicts"}`.
public struct SyncSummary: Sendable, Codable, Equatable {
    public var pushed: Int
    public var pulled: Int
    public var conflicts: Int
    /// What the daemon refused and how it was settled locally (a refused collection note is
    /// kept as a personal note; a refused collection tag change is undone).
    public var refused: [String]
    /// Collections whose content was dropped because access to them ended.
    public var dropped: [String]

    public init(pushed: Int, pulled: Int, conflicts: Int, refused: [String] = [], dropped: [String] = []) {
        self.pushed = pushed
        self.pulled = pulled
        self.conflicts = conflicts
        self.refused = refused
        self.dropped = dropped
    }
}

public enum SyncClientError: Error, Sendable, CustomStringConvertible {
    case noRemote
    case noToken(String)
    case unreachable(url: String, reason: String, pending: Int)
    case refused(status: Int, code: String, message: String)
    case forbidden([RefusedChange])
    case badResponse(String)

    public var description: String {
        switch self {
        case .noRemote: "no remote is set: run 'gloss remote set URL --token TOKEN' first"
        case .noToken(let path): "no token: set GLOSS_TOKEN or run 'gloss remote set URL --token TOKEN' (looked in \(path))"
        case .unreachable(let url, let reason, let pending):
            "cannot reach the daemon at \(url) (\(reason)); \(pending) change(s) stay queued, nothing was lost: run 'gloss sync' again later"
        case .refused(let status, let code, let message): "the daemon refused the request (\(status) \(code)): \(message)"
        case .forbidden(let refused): "the daemon refused \(refused.count) change(s): \(refused.first?.reason ?? "")"
        case .badResponse(let m): "unexpected answer from the daemon: \(m)"
        }
    }
}

/// Syncs a replica with glossd: push the outbox in batches (clearing only what the daemon
/// acknowledged), then pull pages after the cursor (applying each page and advancing the cursor
/// in one transaction). Safe to interrupt anywhere and to run again.
public final class SyncClient {
    let replica: Replica
    let base: URL
    let token: String
    let session: URLSession
    /// Changes per push batch. Fewer, larger batches mean fewer commits on the daemon, each of
    /// which rewrites the index pages its batch touched: 5,000 against 2,000, side by side, pushed
    /// 100k notes and tags 16 % faster and 100k excerpts 10–40 % faster (docs/PERFORMANCE.md).
    public var pushBatch = 5_000
    /// A push batch also ends once its JSON reaches this size: the daemon refuses bodies over
    /// 32 MiB, which 2,000 long excerpts would pass.
    public var pushBatchBytes = 4 << 20
    /// Push batches in flight at once: with two, the daemon decodes and checks one while it
    /// stores the other.
    public var pushWindow = 2
    /// Push through tickets (`POST /v1/pushes`, then `GET /v1/pushes/TICKET`) rather than one
    /// `POST /v1/push`; see `startPush`.
    public var ticketedPush = true
    public var pullPage = 2_000
    /// Pulled pages are committed together until they hold this many changes (a bootstrap
    /// commits every few pages rather than every page; see `Replica.beginPullGroup`), or once
    /// the group has been open `pullGroupSeconds`: it holds the replica's write lock, and other
    /// gloss commands wait at most 5 s for it.
    public var pullGroup = 40_000
    public var pullGroupSeconds = 1.0
    /// Whether request bodies over 16 KiB are gzipped and answers asked for gzipped. On by
    /// default, off when the daemon is on this machine (a loopback address or `localhost`):
    /// there compressing costs both processes CPU and saves no time (a push of 100k excerpts to
    /// a local daemon is about 15 % faster without it; docs/PERFORMANCE.md). `GLOSS_COMPRESS=1`
    /// or `0` decides instead (off suits a fast local network too).
    /// Set to false (as `GLOSS_COMPRESS=0` does), it also clears `gzipAnyway`: nothing is gzipped.
    public var compress: Bool {
        didSet { if !compress { gzipAnyway = nil } }
    }
    /// Request bodies in this range of sizes are gzipped even when `compress` is off, unless
    /// `GLOSS_COMPRESS=0`. URLSession spins on a connection whose body did not go out in one
    /// write (see `startPush`) until the answer comes, which under load is a core's worth of
    /// wake-ups: a 125 KB push body gzipped to ~25 KB goes out at once. 20 clients syncing at
    /// once with long-lived clients, three pairs: 17.6 / 19.1 / 19.1k → 19.0 / 21.1 / 21.3k
    /// pushed/s, the clients' CPU 16 % lower (docs/PERFORMANCE.md). Above 1 MiB, compressing
    /// costs more than the spin: 100k excerpts in 4 MiB batches pushed in 2.23 / 2.31 / 1.91 s
    /// plain, 2.63 / 2.29 / 2.38 s gzipped.
    public var gzipAnyway: ClosedRange<Int>? = 64 * 1024...1024 * 1024

    public init(replica: Replica, url: String, token: String, timeout: TimeInterval = 60) throws {
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https", base.host != nil else {
            throw SyncClientError.badResponse("'\(url)' is not an http(s) URL")
        }
        self.replica = replica
        self.base = base
        self.token = token
        switch Environment.value("GLOSS_COMPRESS") {
        case "1": compress = true
        case "0": (compress, gzipAnyway) = (false, nil)
        default: compress = !Self.isLoopback(host: base.host ?? "")
        }
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout * 10
        session = URLSession(configuration: config)
    }

    /// Whether `host` names this machine: `localhost`, 127.0.0.0/8 or ::1.
    public static func isLoopback(host: String) -> Bool {
        // without Foundation's CharacterSet trimming: its first use is 0.8 M instructions
        var h = Substring(host.lowercased())
        while let c = h.first, c == "[" || c == "]" { h = h.dropFirst() }
        while let c = h.last, c == "[" || c == "]" { h = h.dropLast() }
        if h == "localhost" || h.hasSuffix(".localhost") || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Reads the remote and token from the replica (GLOSS_TOKEN overrides the token file).
    public static func forReplica(_ replica: Replica, timeout: TimeInterval = 60) throws -> SyncClient {
        guard let url = try replica.remoteURL() else { throw SyncClientError.noRemote }
        guard let token = replica.token() else { throw SyncClientError.noToken(replica.tokenPath) }
        return try SyncClient(replica: replica, url: url, token: token, timeout: timeout)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// `GLOSS_SYNC_TRACE=1`: phase timings on stderr.
    let trace = Environment.value("GLOSS_SYNC_TRACE") == "1"
    var traceStart = DispatchTime.now().uptimeNanoseconds
    func mark(_ what: String) {
        guard trace else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        FileHandle.standardError.write(Data(String(format: "sync: %-28@ %8.2f ms\n", what as NSString, Double(now - traceStart) / 1e6).utf8))
        traceStart = now
    }

    /// Pushes, then pulls. A push keeps two batches in flight (the daemon decodes and checks one
    /// while it stores the other) and reads and compresses the next meanwhile; a pull fetches the
    /// next page while the current one is applied. Batches are acknowledged, and pages applied,
    /// strictly in order.
    public func sync() async throws -> SyncSummary {
        var summary = SyncSummary(pushed: 0, pulled: 0, conflicts: 0)
        pushedRanges = []
        try await replica.withDeferredCheckpoints {
            try await push(into: &summary)
            try await pull(into: &summary)
        }
        try replica.recordSync(at: Replica.systemNow())
        mark("record sync (checkpoint)")
        return summary
    }

    /// Where this sync's pushed changes landed in the log: the pulls that follow skip them.
    var pushedRanges: [[Int64]] = []

    func push(into summary: inout SyncSummary) async throws {
        var refusals = 0
        mark("start")
        var sent: [(batch: OutboxBatch, task: Task<(Data, URLResponse), Error>)] = []
        defer { for s in sent { s.task.cancel() } }  // only when a batch failed
        var next: (OutboxBatch, URLRequest)?  // read and compressed, not sent yet
        var position = OutboxPosition()  // the end of the last batch read
        var drained = false
        func readNext() throws {
            guard next == nil, !drained else { return }
            next = try pushRequest(after: position)
            if let (batch, _) = next { position = batch.end } else { drained = true }
        }
        func sendNext() -> Bool {
            guard let (batch, request) = next, sent.count < max(1, pushWindow), Self.mayOverlap(batch, sent.map(\.batch)) else { return false }
            sent.append((batch, startPush(request)))
            next = nil
            return true
        }
        try readNext()
        while true {
            while sendNext() { try readNext() }
            guard !sent.isEmpty else { break }
            let (batch, inFlight) = sent.removeFirst()
            let response: PushResponse
            do {
                response = try await finish("v1/push", inFlight)
                mark("POST /v1/push")
            } catch SyncClientError.forbidden(let refused) where refusals < 3 {
                // nothing of the refused batch was stored (a batch sent after it may have been:
                // pushing it again is harmless): settle what was refused locally, then push again
                // from the first unacknowledged change
                refusals += 1
                for s in sent { _ = try? await s.task.value }
                (sent, next, position, drained) = ([], nil, OutboxPosition(), false)
                summary.refused += try replica.resolveRefused(refused)
                try readNext()
                continue
            }
            // a conflict the daemon saw in this push is seen again by this replica when it pulls
            // the competing value, so only the pull side counts
            // the daemon answers with the batch's ids in order; any order would do
            guard response.acknowledged.count == batch.count,
                response.acknowledged.elementsEqual(batch.changes.lazy.map(\.id)) || Set(response.acknowledged) == Set(batch.changes.map(\.id))
            else {
                throw SyncClientError.badResponse("the daemon acknowledged \(response.acknowledged.count) of \(batch.count) changes")
            }
            // hand the daemon the next batch before settling this one locally
            _ = sendNext()
            try replica.acknowledge(batch, serverStamp: response.serverStamp)
            pushedRanges += response.logged ?? []
            mark("acknowledge")
            summary.pushed += batch.count
            try readNext()
        }
        if summary.pushed > 0 { try replica.purgeAcknowledged() }
    }

    /// Whether `batch` may be sent while `ahead` are still in flight. The daemon may store
    /// batches in flight together in either order, which is harmless for field changes (merged
    /// by stamp, deduplicated by id) but not for a field change on an excerpt still in flight:
    /// delivering a tag to a shared collection's members copies the excerpt from the pusher's
    /// log, so it must be there first.
    public static func mayOverlap(_ batch: OutboxBatch, _ ahead: [OutboxBatch]) -> Bool {
        !(batch.end.outboxSeq > batch.start.outboxSeq && ahead.contains { $0.end.excerptSeq > $0.start.excerptSeq })
    }

    /// The next push batch after `position` and its request, or nil when nothing is left.
    func pushRequest(after position: OutboxPosition) throws -> (OutboxBatch, URLRequest)? {
        let batch = try replica.outboxJSONBatch(limit: pushBatch, maxBytes: pushBatchBytes, after: position)
        if batch.isEmpty { return nil }
        mark("read outbox \(batch.count)")
        var body = Array("{\"changes\":[".utf8)
        body.reserveCapacity(batch.changes.reduce(16) { $0 + $1.json.count + 1 })
        for (i, c) in batch.changes.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body += c.json
        }
        body += Array("]}".utf8)
        mark("build body \(body.count) B")
        return (batch, request(ticketedPush ? "v1/pushes" : "v1/push", method: "POST", body: body))
    }

    /// Sends a push batch (`POST /v1/pushes`) and, once the daemon has taken it, waits for its
    /// outcome with `GET /v1/pushes/TICKET`: the answer `/v1/push` would give, or its error.
    /// Waiting on a GET rather than on the POST matters on Linux: URLSession keeps polling a
    /// connection for write readiness after sending a large body, which spins a core until the
    /// answer comes (see `PushTickets` in glossd). When the daemon has no ticket to spare (429:
    /// many of the user's devices pushing at once) or no tickets at all (404), or when the
    /// outcome is not found (404: the GET reached another daemon behind a load balancer, or
    /// the daemon restarted), the batch goes again as one `POST /v1/push` (pushing a batch twice
    /// is harmless: the daemon deduplicates by change id). Any other answer is returned as it is.
    func startPush(_ request: URLRequest) -> Task<(Data, URLResponse), Error> {
        let outcome = self.request("v1/pushes/", method: "GET", body: nil)
        var direct = request
        direct.url = base.appendingPathComponent("v1/push")
        return Task { [session, direct] in
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode
            if status == 429 || status == 404 { return try await session.data(for: direct) }
            guard status == 202, let ticket = try? JSONDecoder().decode(PushTicket.self, from: data), !ticket.push.isEmpty,
                ticket.push.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
            else { return (data, response) }
            var wait = outcome
            wait.url = outcome.url!.appendingPathComponent(ticket.push)
            let answer = try await session.data(for: wait)
            if (answer.1 as? HTTPURLResponse)?.statusCode == 404 { return try await session.data(for: direct) }
            return answer
        }
    }

    func pull(into summary: inout SyncSummary) async throws {
        var cursor = try replica.syncCursor
        mark("start")
        var inFlight = try startPull(after: cursor)
        // the open pull group: changes applied in it, and when it was opened (nil: none open)
        var grouped = 0
        var groupOpened: DispatchTime?
        func commitGroup() throws {
            try replica.commitPullGroup()
            (grouped, groupOpened) = (0, nil)
        }
        defer { replica.rollbackPullGroup() }  // left open only by an error not handled below
        while true {
            let page: PullResponse
            // never wait on the network holding the replica's write lock: a page not here yet
            // ends the open group first (on loopback the next page is usually decoded before
            // the current one is applied, so groups grow; on a slow link they stay small)
            if groupOpened != nil && !inFlight.isDone { try commitGroup() }
            do {
                page = try await finishPull(inFlight)
                mark("POST /v1/pull \(page.changes.count)")
                guard page.cursor >= cursor else { throw SyncClientError.badResponse("the cursor went backwards") }
            } catch {
                // what was applied is whole, page by page, with its cursor: keep it (should the
                // commit fail, the group is rolled back and pulled again next time)
                try? replica.commitPullGroup()
                throw error
            }
            // fetch and decode the following page on another thread while this one is applied
            if page.more {
                inFlight = try startPull(after: page.cursor)
            }
            let result: (applied: Int, conflicts: Int)
            do {
                if groupOpened == nil {
                    try replica.beginPullGroup()
                    groupOpened = .now()
                }
                // excerpts are indexed once, with the last page
                result = try replica.applyPulled(page.changes, cursor: page.cursor, serverStamp: page.serverStamp, indexLater: page.more)
                grouped += page.changes.count
                let open = Double(DispatchTime.now().uptimeNanoseconds - groupOpened!.uptimeNanoseconds) / 1e9
                if !page.more || grouped >= pullGroup || open >= pullGroupSeconds { try commitGroup() }
            } catch {
                replica.rollbackPullGroup()
                if page.more { inFlight.cancel() }
                throw error
            }
            mark("apply page")
            summary.pulled += result.applied
            summary.conflicts += result.conflicts
            cursor = page.cursor
            if !page.more {
                if let user = page.user, let collections = page.collections {
                    summary.dropped = try replica.updateMemberships(user: user, collections: collections)
                }
                return
            }
        }
    }

    /// The page of changes after `cursor`, fetched and decoded as a sync reads it, not applied
    /// (for measuring the read path alone).
    public func readPage(after cursor: Int64) async throws -> PullResponse {
        try await finishPull(try startPull(after: cursor))
    }

    /// Fetches and decodes (inflates, parses) the page after `cursor` in a task of its own, so
    /// that it overlaps with applying the page before it: applying is the bootstrap's bottleneck,
    /// and decoding a page of 2,000 excerpts takes a tenth of the time applying it does.
    func startPull(after cursor: Int64) throws -> PageFetch {
        let request = try pullRequest(after: cursor)
        let done = PageFetch.Done()
        return PageFetch(task: Task { [session] in
            defer { done.flag.store(true, ordering: .releasing) }
            let answer: (Data, URLResponse)
            do { answer = try await session.data(for: request) } catch { throw TransportError(underlying: error) }
            return try SyncClient.decode("v1/pull", answer)
        }, done: done)
    }

    func finishPull(_ inFlight: PageFetch) async throws -> PullResponse {
        do { return try await inFlight.task.value } catch let e as TransportError { throw unreachable(e.underlying) }
    }

    /// A page being fetched and decoded, and whether that has ended (its task returned or threw).
    struct PageFetch {
        final class Done: Sendable { let flag = Atomic<Bool>(false) }
        let task: Task<PullResponse, Error>
        let done: Done
        var isDone: Bool { done.flag.load(ordering: .acquiring) }
        func cancel() { task.cancel() }
    }

    /// A request that never got its answer: the daemon is down, the connection dropped, a timeout.
    struct TransportError: Error { let underlying: Error }

    /// A pull request after `cursor`, skipping this sync's own pushed changes still ahead of it.
    func pullRequest(after cursor: Int64) throws -> URLRequest {
        let ahead = pushedRanges.filter { $0[1] > cursor }.prefix(512)
        let body = PullRequest(after: cursor, limit: pullPage, skip: ahead.isEmpty ? nil : Array(ahead))
        return request("v1/pull", method: "POST", body: body.json)
    }

    // MARK: collections (online)

    public func share(tag: String, with user: String, role: String) async throws -> CollectionInfo {
        try await post("v1/collections/share", ShareRequest(tag: tag, user: user, role: role))
    }

    public func unshare(tag: String, with user: String) async throws {
        let _: [String: Bool] = try await post("v1/collections/unshare", ShareRequest(tag: tag, user: user))
    }

    public func collections() async throws -> [CollectionInfo] {
        try await send("v1/collections", method: "GET", body: Optional<PullRequest>.none)
    }

    func post<Body: Encodable, Answer: Decodable>(_ path: String, _ body: Body) async throws -> Answer {
        try await send(path, method: "POST", body: body)
    }

    func send<Body: Encodable, Answer: Decodable>(_ path: String, method: String, body: Body?) async throws -> Answer {
        try await send(path, method: method, raw: try body.map { Array(try JSONEncoder().encode($0)) })
    }

    func send<Answer: Decodable>(_ path: String, method: String, raw body: [UInt8]?) async throws -> Answer {
        try await finish(path, start(request(path, method: method, body: body)))
    }

    /// A request to the daemon with the token; with `compress`, bodies over 16 KiB are gzipped
    /// (without it, those in `gzipAnyway`). Without `compress` the answer is asked for as it is
    /// (`identity`: libcurl would otherwise offer gzip itself). Public for tests.
    public func request(_ path: String, method: String, body: [UInt8]?) -> URLRequest {
        var request = URLRequest(url: base.appendingPathComponent(path))
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(compress ? "gzip" : "identity", forHTTPHeaderField: "Accept-Encoding")
        if let body {
            if compress ? body.count > 16 * 1024 : gzipAnyway?.contains(body.count) == true {
                request.httpBody = Data(Gzip.compress(body, level: 1))
                request.setValue("gzip", forHTTPHeaderField: "Content-Encoding")
                mark("gzip \(request.httpBody!.count) B")
            } else {
                request.httpBody = Data(body)
            }
        }
        return request
    }

    /// Sends a request without waiting for the answer.
    func start(_ request: URLRequest) -> Task<(Data, URLResponse), Error> {
        Task { [session] in try await session.data(for: request) }
    }

    /// Waits for a started request and decodes the answer (or the daemon's error).
    func finish<Answer: Decodable>(_ path: String, _ inFlight: Task<(Data, URLResponse), Error>) async throws -> Answer {
        let answer: (Data, URLResponse)
        do { answer = try await inFlight.value } catch { throw unreachable(error) }
        mark("HTTP \(answer.0.count) B")
        return try Self.decode(path, answer)
    }

    func unreachable(_ error: Error) -> SyncClientError {
        let pending = (try? replica.status().pending) ?? 0
        return SyncClientError.unreachable(url: base.absoluteString, reason: Self.reason(error), pending: pending)
    }

    /// Decodes an answer (inflating it if gzipped), or throws the daemon's error.
    static func decode<Answer: Decodable>(_ path: String, _ answer: (Data, URLResponse)) throws -> Answer {
        let (raw, response) = answer
        guard let http = response as? HTTPURLResponse else { throw SyncClientError.badResponse("not HTTP") }
        var bytes = Array(raw)
        if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes, limit: 512 * 1024 * 1024) }
        guard (200..<300).contains(http.statusCode) else {
            if let e = try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes)) {
                if http.statusCode == 403, let refused = e.refused, !refused.isEmpty { throw SyncClientError.forbidden(refused) }
                throw SyncClientError.refused(status: http.statusCode, code: e.error.code, message: e.error.message)
            }
            throw SyncClientError.refused(status: http.statusCode, code: "http", message: String(decoding: bytes.prefix(200), as: UTF8.self))
        }
        do {
            // pull pages are the bulk of what a replica reads: the fast reader takes them
            if Answer.self == PullResponse.self { return try ChangeReader.pullResponse(bytes) as! Answer }
            if Answer.self == PushResponse.self { return try ChangeReader.pushResponse(bytes) as! Answer }
            return try JSONDecoder().decode(Answer.self, from: Data(bytes))
        } catch {
            throw SyncClientError.badResponse("cannot decode \(path) answer: \(error)")
        }
    }

    static func reason(_ error: Error) -> String {
        if let e = error as? URLError {
            switch e.code {
            case .cannotConnectToHost: return "connection refused"
            case .timedOut: return "timed out"
            case .networkConnectionLost: return "connection dropped"
            case .cannotFindHost: return "unknown host"
            case .notConnectedToInternet: return "offline"
            default: return e.localizedDescription
            }
        }
        return "\(error)"
    }
}

/// The outcome of `gloss verify`.
public struct VerifyReport: Sendable, Codable, Equatable {
    public struct Difference: Sendable, Codable, Equatable {
        /// `missing-here`, `missing-on-daemon` or `different`.
        public var kind: String
        /// A field key (`note.body:ID`, `tag:EXCERPT:NAME`, …) or `excerpt:ID`.
        public var item: String
        public var here: String?
        public var daemon: String?
    }
    public var consistent: Bool
    public var excerpts: Int
    public var fields: Int
    public var differences: [Difference]
    public var repaired: Bool
}

extension SyncClient {
    /// Syncs, then compares this replica's state with the daemon's for the same user; with
    /// `repair`, refetches what is missing or damaged here, re-sends what the daemon lacks, and
    /// checks again.
    public func verify(repair: Bool) async throws -> VerifyReport {
        if let problem = try replica.integrityProblem() {
            throw SyncClientError.badResponse("the replica file is damaged (\(problem)); move it aside and run 'gloss sync' into a new home to refetch")
        }
        _ = try await sync()
        var report = try await compare()
        if repair && !report.consistent {
            for d in report.differences {
                switch (d.kind, d.item.hasPrefix("excerpt:")) {
                case ("missing-on-daemon", true): try replica.requeue(excerpts: [String(d.item.dropFirst(8))])
                case ("missing-on-daemon", false): try replica.requeue(field: d.item)
                case ("different", false):
                    if let daemon = d.daemon, let entry = try? JSONDecoder().decode(FieldEntry.self, from: Data(daemon.utf8)) {
                        let mine = try replica.fieldValues()[d.item]
                        if let mine, mine.stamp > entry.stamp { try replica.requeue(field: d.item) } else if mine?.stamp == entry.stamp {
                            try replica.overwrite(entry)
                        }
                    }
                default: break
                }
            }
            try replica.resetCursor()
            _ = try await sync()
            report = try await compare()
            report.repaired = true
        }
        return report
    }

    func compare() async throws -> VerifyReport {
        let mine = try replica.localDigest()
        let theirs: VerifyResponse = try await post("v1/verify", VerifyRequest())
        var differences: [VerifyReport.Difference] = []
        if mine.excerptHash != theirs.digest.excerptHash || mine.excerpts != theirs.digest.excerpts {
            let listed: VerifyResponse = try await post("v1/verify", VerifyRequest(excerptIds: true))
            let here = Set(try replica.syncedExcerptIDs()), there = Set(listed.excerptIds ?? [])
            for id in here.subtracting(there).sorted() { differences.append(.init(kind: "missing-on-daemon", item: "excerpt:" + id)) }
            for id in there.subtracting(here).sorted() { differences.append(.init(kind: "missing-here", item: "excerpt:" + id)) }
        }
        let buckets = (0..<StateDigest.bucketCount).filter { mine.buckets[$0] != theirs.digest.buckets[$0] }
        if !buckets.isEmpty {
            let detail: VerifyResponse = try await post("v1/verify", VerifyRequest(buckets: buckets))
            let local = try replica.fieldValues().filter { buckets.contains(StateDigest.bucket(of: $0.key)) }
            var remote: [String: FieldEntry] = [:]
            for e in detail.entries ?? [] { remote[e.field] = e }
            let encoder = JSONEncoder()
            func text(_ e: FieldEntry) -> String { String(decoding: (try? encoder.encode(e)) ?? Data(), as: UTF8.self) }
            for key in Set(local.keys).union(remote.keys).sorted() {
                switch (local[key], remote[key]) {
                case (let l?, nil):
                    differences.append(.init(kind: "missing-on-daemon", item: key, here: text(FieldEntry(field: key, value: l.value, stamp: l.stamp))))
                case (nil, let r?):
                    differences.append(.init(kind: "missing-here", item: key, daemon: text(r)))
                case (let l?, let r?) where l.value != r.value || l.stamp != r.stamp:
                    differences.append(.init(kind: "different", item: key, here: text(FieldEntry(field: key, value: l.value, stamp: l.stamp)), daemon: text(r)))
                default: break
                }
            }
        }
        return VerifyReport(consistent: differences.isEmpty, excerpts: mine.excerpts, fields: mine.fields, differences: differences, repaired: false)
    }
}
