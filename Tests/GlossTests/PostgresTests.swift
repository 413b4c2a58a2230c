import Foundation
import GlossModel
import GlossReplica
import GlossServer
import PostgresNIO
import Testing

/// Two glossd processes on one PostgreSQL database, clients syncing concurrently through both.
@Suite(.serialized) struct PostgresTests {
    @Test func twoDaemonsOnOneDatabaseConverge() async throws {
        TestPostgres.requireInCI()
        guard TestPostgres.url != nil else { return }
        let url = try await TestPostgres.freshDatabase()
        let first = try Daemon(database: url)
        let second = try Daemon(database: url)
        let token = try first.addUser("alice")
        let excerpts = Array(Sample.parsed.excerpts.prefix(8))
        var replicas: [TestReplica] = []
        for i in 0..<4 { replicas.append(try TestReplica(daemon: i % 2 == 0 ? first : second, token: token)) }
        _ = try replicas[0].replica.importExcerpts(excerpts)
        try await replicas[0].sync()
        var rng = SeededRandom(seed: 5150)
        for round in 0..<12 {
            for (i, r) in replicas.enumerated() {
                for k in 0..<6 {
                    let e = excerpts[Int.random(in: 0..<excerpts.count, using: &rng)].id
                    if try r.replica.excerpt(id: e) == nil { continue }
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: _ = try r.replica.addNote(excerptID: e, body: "r\(i) round \(round) #\(k)")
                    case 1: if let n = try r.replica.notes().randomElement(using: &rng) { _ = try r.replica.editNote(id: n.id, body: "edit r\(i) \(round) \(k)") }
                    case 2: _ = try r.replica.setTags(excerptID: e, tags: ["t\(k % 3)"], present: true)
                    default: _ = try r.replica.setTags(excerptID: e, tags: ["t\(k % 3)"], present: false)
                    }
                }
            }
            // every replica syncs at once, through both daemons, so transactions interleave
            try await withThrowingTaskGroup(of: Void.self) { group in
                for r in replicas { group.addTask { _ = try await r.sync() } }
                try await group.waitForAll()
            }
        }
        for _ in 0..<2 { for r in replicas { try await r.sync() } }
        let reference = try replicas[0].replica.snapshot()
        #expect(reference.excerpts.count == excerpts.count)
        #expect(!reference.notes.isEmpty)
        for r in replicas.dropFirst() { #expect(try r.replica.snapshot() == reference) }
        // a new replica bootstrapping from either daemon gets the same
        for daemon in [first, second] {
            let fresh = try TestReplica(daemon: daemon, token: token)
            try await fresh.sync()
            #expect(try fresh.replica.snapshot() == reference)
        }
    }

    /// Right after a large push, pages of the log are read in index order: the daemon has the log
    /// analyzed itself. Before, until autovacuum came by (a minute or more later), PostgreSQL had
    /// no statistics, estimated a user's rows at a few dozen, and fetched every page by scanning
    /// and sorting all of the user's rows after the cursor (bootstraps 3× slower).
    @Test func aLargePushHasTheLogAnalyzedSoPagesAreReadInIndexOrder() async throws {
        TestPostgres.requireInCI()
        guard TestPostgres.url != nil else { return }
        let store = try await TestPostgres.freshStore(analyzeAfterRows: 5_000)
        // autovacuum kept off these tables, so that what plans the page is the daemon's ANALYZE
        try await store.client.query("ALTER TABLE change_log SET (autovacuum_enabled = false)")
        try await store.client.query("ALTER TABLE field_state SET (autovacuum_enabled = false)")
        let user = try await store.createUser(name: "u", now: 0)
        let excerpt = Sample.parsed.excerpts[0]
        let tags = (0..<20_000).map { i in
            Change.tag(excerptId: excerpt.id, name: "t\(i)", present: true, stamp: Stamp(wall: 1_000 + Int64(i), counter: 0, node: "testnode00000001"), base: nil)
        }
        _ = try await store.push(userID: user.id, changes: [.excerpt(excerpt)] + tags)
        // in the background: wait for it, bounded
        var analyzed = false
        for _ in 0..<100 where !analyzed {
            for try await (done) in try await store.client.query(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'change_log'"
            ).decode(Bool.self) { analyzed = done }
            if !analyzed { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(analyzed, "glossd did not analyze the log within 10 s of a push of 20,001 rows")
        let page = PostgresStore.pullQuery(userID: user.id, after: 0, limit: 2_001)
        var plan: [String] = []
        for try await (line) in try await store.client.query(PostgresQuery(unsafeSQL: "EXPLAIN " + page.sql, binds: page.binds)).decode(String.self) {
            plan.append(line)
        }
        #expect(plan.first?.contains("Limit") == true)
        #expect(plan.contains { $0.contains("Index Scan") && !$0.contains("Bitmap") }, "\(plan.joined(separator: "\n"))")
        #expect(!plan.contains { $0.contains("Sort") }, "\(plan.joined(separator: "\n"))")
    }
}
