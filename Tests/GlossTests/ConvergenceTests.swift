import Foundation
import GlossModel
import GlossReplica
import GlossSQLite
import PropertyBased
import Testing

/// Randomized: several replicas (clocks skewed), hundreds of random edits, random sync orders;
/// in the end every replica and the daemon hold the same state.
@Suite(.serialized) struct ConvergenceTests {
    enum Op: CaseIterable { case addNote, editNote, deleteNote, tag, untag, sync }

    func run(seed: UInt64, replicas replicaCount: Int, steps: Int) async throws {
        var rng = SeededRandom(seed: seed)
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let offsets: [Int64] = [0, -3_600_000, 90_000, -45_000, 30_000]
        var replicas: [TestReplica] = []
        for i in 0..<replicaCount { replicas.append(try TestReplica(daemon: daemon, token: token, offsetMillis: offsets[i % offsets.count])) }
        let excerpts = Array(Sample.parsed.excerpts.prefix(6))
        _ = try replicas[0].replica.importExcerpts(excerpts)
        try await replicas[0].sync()
        for r in replicas.dropFirst() { try await r.sync() }
        let tags = ["army", "navy", "trial"]
        for step in 0..<steps {
            let r = replicas[Int.random(in: 0..<replicas.count, using: &rng)].replica
            let e = excerpts[Int.random(in: 0..<excerpts.count, using: &rng)].id
            let notes = try r.notes()
            switch Op.allCases.randomElement(using: &rng)! {
            case .addNote:
                _ = try r.addNote(excerptID: e, body: "note \(step)")
            case .editNote:
                if let n = notes.randomElement(using: &rng) { _ = try r.editNote(id: n.id, body: "edit \(step)") }
            case .deleteNote:
                if let n = notes.randomElement(using: &rng) { try r.removeNote(id: n.id) }
            case .tag:
                _ = try r.setTags(excerptID: e, tags: [tags.randomElement(using: &rng)!], present: true)
            case .untag:
                _ = try r.setTags(excerptID: e, tags: [tags.randomElement(using: &rng)!], present: false)
            case .sync:
                try await replicas[Int.random(in: 0..<replicas.count, using: &rng)].sync()
            }
        }
        // everyone syncs twice, in a random order each round
        for _ in 0..<2 {
            for r in replicas.shuffled(using: &rng) { try await r.sync() }
        }
        let reference = try replicas[0].replica.snapshot()
        #expect(!reference.notes.isEmpty)
        for r in replicas.dropFirst() {
            #expect(try r.replica.snapshot() == reference, "seed \(seed)")
            #expect(try r.replica.status().pending == 0)
        }
        // the daemon's current values and superseded values are the replicas'
        let server = try Database(path: daemon.database, readOnly: true)
        var serverFields: [String: FieldValue] = [:]
        for (field, value, stamp) in try server.query("SELECT field, value, stamp FROM field_state", [], { ($0.text(0), $0.text(1), $0.text(2)) }) {
            serverFields[field] = FieldValue(value: value, stamp: Stamp(stamp)!)
        }
        #expect(serverFields == (try replicas[0].replica.fieldValues()), "seed \(seed)")
        let serverLosers = try server.query("SELECT field, stamp, value FROM superseded ORDER BY field, stamp") {
            [$0.text(0), $0.text(1), $0.text(2)].joined(separator: "|")
        }
        #expect(serverLosers == reference.superseded, "seed \(seed)")
    }

    @Test func threeReplicasConvergeAfterRandomEditsAndSyncs() async throws {
        try await run(seed: 20261125, replicas: 3, steps: 400)
    }

    @Test func manySeedsConverge() async {
        await propertyCheck(count: 6, input: Gen.int(in: 1...1_000_000)) { seed in
            do { try await run(seed: UInt64(seed), replicas: 4, steps: 120) } catch { Issue.record("seed \(seed): \(error)") }
        }
    }
}
