import Foundation
import GlossCompression
import GlossModel
import GlossReplica
import GlossSyncClient
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The authorization matrix, secrets in logs, hostile bodies over HTTP, a daemon that never
/// answers, and concurrent load.
@Suite(.serialized) struct SecurityAndLoadTests {
    let sample = Sample.parsed.excerpts

    func request(_ url: String, method: String, token: String?, body: Data?, headers: [String: String] = [:]) async throws -> RawResponse {
        var r = URLRequest(url: URL(string: url)!)
        r.httpMethod = method
        if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        r.httpBody = body
        r.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: r)
        return RawResponse(status: (response as! HTTPURLResponse).statusCode, body: data)
    }

    @Test func everyEndpointTimesEveryRole() async throws {
        let daemon = try Daemon()
        var tokens: [String: String] = [:]
        for name in ["owner", "editor", "reader", "outsider"] { tokens[name] = try daemon.addUser(name) }
        let revoked = try daemon.glossd("token", "add", "outsider", "--label", "old", "--json").json([String: String].self)["token"]!
        _ = try daemon.glossd("token", "revoke", "outsider", "--label", "old")
        let owner = try TestReplica(daemon: daemon, token: tokens["owner"]!)
        _ = try owner.replica.importExcerpts([sample[0]])
        _ = try owner.replica.setTags(excerptID: sample[0].id, tags: ["shared"], present: true)
        try await owner.sync()
        let admin = try SyncClient(replica: owner.replica, url: daemon.url, token: tokens["owner"]!)
        _ = try await admin.share(tag: "shared", with: "editor", role: "editor")
        _ = try await admin.share(tag: "shared", with: "reader", role: "reader")

        func note(_ who: String) throws -> Data {
            let h = NoteHeader(id: UUID().uuidString.lowercased(), excerptId: sample[0].id, createdAt: 1, collection: "owner/shared")
            return try JSONEncoder().encode(PushRequest(changes: [.noteBody(h, body: "by \(who)", stamp: Stamp(wall: Replica.systemNow(), counter: 0, node: who), base: nil)]))
        }
        func link(_ who: String) throws -> Data {
            try JSONEncoder().encode(PushRequest(changes: [
                .tag(excerptId: sample[0].id, name: "owner/shared", present: true, stamp: Stamp(wall: Replica.systemNow(), counter: 0, node: who), base: nil),
            ]))
        }
        let pull = try JSONEncoder().encode(PullRequest(after: 0))
        let verify = try JSONEncoder().encode(VerifyRequest())
        let unshareReader = try JSONEncoder().encode(ShareRequest(tag: "shared", user: "nobody-here"))
        // (endpoint, body for a caller) → expected status per caller
        typealias Row = (String, String, (String) throws -> Data?, [String: Int])
        let rows: [Row] = [
            ("POST", "/v1/push", { try note($0) }, ["owner": 200, "editor": 200, "reader": 403, "outsider": 403]),
            ("POST", "/v1/push", { try link($0) }, ["owner": 200, "editor": 200, "reader": 403, "outsider": 403]),
            ("POST", "/v1/pull", { _ in pull }, ["owner": 200, "editor": 200, "reader": 200, "outsider": 200]),
            ("POST", "/v1/verify", { _ in verify }, ["owner": 200, "editor": 200, "reader": 200, "outsider": 200]),
            ("GET", "/v1/collections", { _ in nil }, ["owner": 200, "editor": 200, "reader": 200, "outsider": 200]),
            ("GET", "/v1/whoami", { _ in nil }, ["owner": 200, "editor": 200, "reader": 200, "outsider": 200]),
            // managing acts on the caller's own tag only: for everyone but the owner there is
            // no such collection, and for the owner no such member
            ("POST", "/v1/collections/unshare", { _ in unshareReader }, ["owner": 404, "editor": 404, "reader": 404, "outsider": 404]),
        ]
        var checked = 0
        for (method, path, body, expected) in rows {
            for (who, status) in expected {
                let r = try await request(daemon.url + path, method: method, token: tokens[who]!, body: try body(who))
                #expect(r.status == status, "\(method) \(path) as \(who): \(String(decoding: r.body.prefix(200), as: UTF8.self))")
                checked += 1
            }
            for bad in [nil, "gloss_" + String(repeating: "f", count: 64), revoked, "not-a-token"] {
                let r = try await request(daemon.url + path, method: method, token: bad, body: try body("outsider"))
                #expect(r.status == 401, "\(method) \(path) with \(bad ?? "no token")")
                #expect((try? JSONDecoder().decode(ErrorBody.self, from: r.body))?.error.code == "unauthenticated")
                checked += 1
            }
        }
        #expect(checked == rows.count * 8)
        // what the pulls of each role contain
        for who in ["editor", "reader"] {
            let r = try await request(daemon.url + "/v1/pull", method: "POST", token: tokens[who]!, body: pull)
            let page = try JSONDecoder().decode(PullResponse.self, from: r.body)
            #expect(page.changes.contains { $0.change.id == "e:" + sample[0].id }, "\(who) receives the collection")
        }
        let outsiderPage = try JSONDecoder().decode(PullResponse.self, from: try await request(daemon.url + "/v1/pull", method: "POST", token: tokens["outsider"]!, body: pull).body)
        #expect(outsiderPage.changes.isEmpty)
        // secrets never reach the log
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        #expect(log.contains("/v1/push"), "the log has the requests")
        for t in Array(tokens.values) + [revoked] { #expect(!log.contains(t)) }
        #expect(!log.contains("Bearer"))
    }

    @Test func hostileBodiesOverHTTP() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let e = sample[0]
        func change(_ json: String) -> Data { Data("{\"changes\":[\(json)]}".utf8) }
        let s = Stamp(wall: Replica.systemNow(), counter: 0, node: "x").description
        let cases: [(String, Data, Int, String)] = [
            ("invalid UTF-8", Data([0x7B, 0x22, 0x63, 0xFF, 0xFE, 0x22, 0x3A, 0x5B, 0x5D, 0x7D]), 400, "bad_json"),
            ("overlong note", change(ChangeWriter.json(.noteBody(NoteHeader(id: "n", excerptId: e.id, createdAt: 0), body: String(repeating: "x", count: 70_000), stamp: Stamp(s)!, base: nil))), 400, "invalid_change"),
            ("overlong tag", change("{\"kind\":\"tag\",\"excerptId\":\"\(e.id)\",\"tag\":\"\(String(repeating: "t", count: 65))\",\"present\":true,\"stamp\":\"\(s)\"}"), 400, "invalid_change"),
            ("bad stamp", change("{\"kind\":\"tag\",\"excerptId\":\"\(e.id)\",\"tag\":\"t\",\"present\":true,\"stamp\":\"yesterday\"}"), 400, "bad_json"),
            ("number too big", Data("{\"after\": 99999999999999999999999}".utf8), 400, "bad_json"),
            ("corrupt gzip", Data([0x1F, 0x8B, 0x08, 0x00, 0x01, 0x02]), 400, "bad_encoding"),
        ]
        for (name, body, status, code) in cases {
            let path = name == "number too big" ? "/v1/pull" : "/v1/push"
            let headers = name == "corrupt gzip" ? ["Content-Encoding": "gzip"] : [:]
            let r = try await request(daemon.url + path, method: "POST", token: token, body: body, headers: headers)
            #expect(r.status == status, "\(name)")
            #expect((try? JSONDecoder().decode(ErrorBody.self, from: r.body))?.error.code == code, "\(name): \(String(decoding: r.body.prefix(200), as: UTF8.self))")
        }
        // a gzip bomb: 64 MiB of zeros compressed to ~64 KiB is refused once it inflates past the limit
        let bomb = Gzip.compress(Array(repeating: 0x20, count: 64 * 1024 * 1024), level: 9)
        let r = try await request(daemon.url + "/v1/push", method: "POST", token: token, body: Data(bomb), headers: ["Content-Encoding": "gzip"])
        #expect(r.status == 413)
        #expect(try await rawGet(daemon.url + "/healthz") == 200)
    }

    @Test func aDaemonThatNeverAnswersTimesOutAndLosesNothing() async throws {
        // a listening socket that accepts connections and never answers
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        listen(fd, 16)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let home = TestSupport.tempDir("slow")
        _ = try gloss(home, "import", "--sample")
        _ = try gloss(home, "remote", "set", "http://127.0.0.1:\(port)", "--token", "gloss_" + String(repeating: "0", count: 64))
        let start = Date()
        let r = try gloss(home, "sync", "--timeout", "2")
        #expect(r.status != 0)
        #expect(r.stderr.contains("timed out") && r.stderr.contains("116 change(s) stay queued"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(start) < 30)
        // the real daemon later takes everything
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        _ = try gloss(home, "remote", "set", daemon.url, "--token", token)
        let ok = try gloss(home, "sync", "--json")
        #expect(ok.status == 0)
        #expect(try ok.json(SyncSummary.self).pushed == 116)
    }

    @Test func fiftyConcurrentClientsLoseNothing() async throws {
        let long = ProcessInfo.processInfo.environment["GLOSS_LONG_TESTS"] == "1"
        let perClient = long ? 1000 : 120
        let rounds = 4
        let daemon = try Daemon()
        var tokens: [String] = []
        for u in 0..<5 { tokens.append(try daemon.addUser("user\(u)")) }
        let excerpts = Array(sample.prefix(20))
        var clients: [TestReplica] = []
        for i in 0..<50 {
            let c = try TestReplica(daemon: daemon, token: tokens[i % 5])
            _ = try c.replica.importExcerpts(excerpts)
            clients.append(c)
        }
        let timings = Timings()
        let start = Date()
        for round in 0..<rounds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, c) in clients.enumerated() {
                    group.addTask {
                        for k in 0..<(perClient / rounds) {
                            let e = excerpts[(i + k) % excerpts.count].id
                            if k % 4 == 3 {
                                _ = try c.replica.setTags(excerptID: e, tags: ["c\(i)r\(round)k\(k)"], present: true)
                            } else {
                                _ = try c.replica.addNote(excerptID: e, body: "client \(i) round \(round) #\(k)")
                            }
                        }
                        let t0 = Date()
                        _ = try await c.sync()
                        timings.add(Date().timeIntervalSince(t0))
                    }
                }
                try await group.waitForAll()
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        for c in clients { try await c.sync() }
        for u in 0..<5 {
            let devices = clients.enumerated().filter { $0.offset % 5 == u }.map(\.element)
            let reference = try devices[0].replica.snapshot()
            #expect(reference.notes.count == 10 * rounds * (perClient / rounds - perClient / rounds / 4))
            for d in devices.dropFirst() { #expect(try d.replica.snapshot() == reference) }
        }
        let total = 50 * perClient
        let p99 = timings.percentile(0.99)
        print(String(format: "load: 50 clients, %d changes in %.2f s including edits (%.0f changes/s), sync p50 %.0f ms, p99 %.0f ms",
                     total, elapsed, Double(total) / elapsed, timings.percentile(0.5) * 1000, p99 * 1000))
        #expect(try await rawGet(daemon.url + "/healthz") == 200)
    }
}

final class Timings: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []
    func add(_ v: Double) { lock.withLock { values.append(v) } }
    func percentile(_ p: Double) -> Double {
        lock.withLock {
            let s = values.sorted()
            return s.isEmpty ? 0 : s[min(s.count - 1, Int((Double(s.count) * p).rounded(.up)) - 1)]
        }
    }
}
