import Foundation
import GlossModel
import GlossReplica
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
}
