import Foundation
import GlossModel
import GlossReplica
import GlossSyncClient
import Testing

/// Shared collections through a real glossd: owner alice, reader bob, editor carol, outsider dave.
@Suite(.serialized) struct SharingTests {
    let sample = Sample.parsed.excerpts
    let collection = "alice/purge-trials"

    struct World {
        let daemon: Daemon
        let tokens: [String: String]
        let alice: TestReplica, bob: TestReplica, bob2: TestReplica, carol: TestReplica, dave: TestReplica
    }

    func world() async throws -> World {
        let daemon = try Daemon()
        var tokens: [String: String] = [:]
        for name in ["alice", "bob", "carol", "dave"] { tokens[name] = try daemon.addUser(name) }
        let w = World(
            daemon: daemon, tokens: tokens, alice: try TestReplica(daemon: daemon, token: tokens["alice"]!),
            bob: try TestReplica(daemon: daemon, token: tokens["bob"]!), bob2: try TestReplica(daemon: daemon, token: tokens["bob"]!),
            carol: try TestReplica(daemon: daemon, token: tokens["carol"]!), dave: try TestReplica(daemon: daemon, token: tokens["dave"]!))
        _ = try w.alice.replica.importExcerpts(sample)
        for e in sample.prefix(3) { _ = try w.alice.replica.setTags(excerptID: e.id, tags: ["purge-trials"], present: true) }
        _ = try w.alice.replica.addNote(excerptID: sample[0].id, body: "collection note by alice", collection: collection)
        _ = try w.alice.replica.addNote(excerptID: sample[0].id, body: "alice's private note")
        _ = try w.alice.replica.setTags(excerptID: sample[0].id, tags: ["private"], present: true)
        try await w.alice.sync()
        let client = try SyncClient(replica: w.alice.replica, url: daemon.url, token: tokens["alice"]!)
        _ = try await client.share(tag: "purge-trials", with: "bob", role: "reader")
        let info = try await client.share(tag: "purge-trials", with: "carol", role: "editor")
        #expect(info.members == [.init(user: "bob", role: "reader"), .init(user: "carol", role: "editor")])
        for r in [w.bob, w.bob2, w.carol, w.dave] { try await r.sync() }
        return w
    }

    func bodies(_ r: TestReplica) throws -> Set<String> { Set(try r.replica.notes().map(\.body)) }

    @Test func membersReceiveTheCollectionLiveAndNothingPersonal() async throws {
        let w = try await world()
        for member in [w.bob, w.bob2, w.carol] {
            #expect(Set(try member.replica.list(tag: collection).map(\.id)) == Set(sample.prefix(3).map(\.id)))
            #expect(try member.replica.status().excerpts == 3)
            #expect(try bodies(member) == ["collection note by alice"])
            #expect(try member.replica.tagCounts().map(\.name) == [collection], "no personal tag of alice's")
        }
        #expect(try w.dave.replica.status().excerpts == 0)
        #expect(try w.dave.replica.cachedCollections().isEmpty)
        #expect(try w.bob.replica.cachedCollections().first?.role == "reader")
        // live: what alice tags later arrives at the next sync
        _ = try w.alice.replica.setTags(excerptID: sample[5].id, tags: ["purge-trials"], present: true)
        _ = try w.alice.replica.setTags(excerptID: sample[1].id, tags: ["purge-trials"], present: false)
        try await w.alice.sync()
        try await w.bob.sync()
        #expect(Set(try w.bob.replica.list(tag: collection).map(\.id)) == [sample[0].id, sample[2].id, sample[5].id])
    }

    @Test func editorsChangeTheCollectionForEveryone() async throws {
        let w = try await world()
        // carol has her own copy of the corpus and adds an excerpt alice never tagged
        _ = try w.carol.replica.importExcerpts(sample)
        _ = try w.carol.replica.setTags(excerptID: sample[9].id, tags: [collection], present: true)
        _ = try w.carol.replica.addNote(excerptID: sample[9].id, body: "carol's collection note", collection: collection)
        _ = try w.carol.replica.addNote(excerptID: sample[9].id, body: "carol's private note")
        let s = try await w.carol.sync()
        #expect(s.refused.isEmpty)
        try await w.alice.sync()
        try await w.bob.sync()
        #expect(try w.alice.replica.tags(of: sample[9].id) == ["purge-trials"], "the owner sees her plain tag")
        #expect(try bodies(w.alice).contains("carol's collection note"))
        #expect(!(try bodies(w.alice).contains("carol's private note")))
        #expect(try w.bob.replica.list(tag: collection).map(\.id).contains(sample[9].id))
        #expect(try bodies(w.bob) == ["collection note by alice", "carol's collection note"])
        // editing alice's collection note is allowed for an editor and reaches everyone
        let note = try #require(try w.carol.replica.notes().first { $0.body == "collection note by alice" })
        _ = try w.carol.replica.editNote(id: note.id, body: "edited by carol")
        try await w.carol.sync()
        try await w.alice.sync()
        try await w.bob.sync()
        #expect(try w.alice.replica.note(id: note.id)?.body == "edited by carol")
        #expect(try w.bob.replica.note(id: note.id)?.body == "edited by carol")
        #expect(try w.bob.replica.history(noteID: note.id).map(\.value).contains("collection note by alice"))
    }

    /// Pushes keep two batches in flight; these use one- and two-change batches so that many are.
    func client(_ r: TestReplica, _ user: String, _ w: World, batch: Int) throws -> SyncClient {
        let c = try SyncClient(replica: r.replica, url: w.daemon.url, token: w.tokens[user]!, timeout: 20)
        c.pushBatch = batch
        return c
    }

    @Test func aFieldChangeWaitsForExcerptsInFlight() throws {
        // the daemon may store two batches in flight in either order; a tag stored before its
        // excerpt would reach collection members without the excerpt (the copy finds nothing)
        let r = try Replica(home: TestSupport.tempDir("replica"))
        _ = try r.importExcerpts(Array(sample.prefix(2)))
        _ = try r.setTags(excerptID: sample[0].id, tags: ["t"], present: true)
        _ = try r.setTags(excerptID: sample[1].id, tags: ["t"], present: true)
        let e1 = try r.outboxJSONBatch(limit: 1)
        let e2 = try r.outboxJSONBatch(limit: 1, after: e1.end)
        let t1 = try r.outboxJSONBatch(limit: 1, after: e2.end)
        let t2 = try r.outboxJSONBatch(limit: 1, after: t1.end)
        let mixed = try r.outboxJSONBatch(limit: 3, after: e1.end)
        #expect(SyncClient.mayOverlap(e2, [e1]))
        #expect(!SyncClient.mayOverlap(t1, [e2]))
        #expect(!SyncClient.mayOverlap(mixed, [e1]))
        #expect(!SyncClient.mayOverlap(t2, [mixed]))
        #expect(SyncClient.mayOverlap(t2, [t1]))
        #expect(SyncClient.mayOverlap(t1, []))
    }

    @Test func anExcerptReachesMembersThroughManyBatchesInFlight() async throws {
        let w = try await world()
        _ = try w.carol.replica.importExcerpts(sample)
        for i in 9..<13 { _ = try w.carol.replica.setTags(excerptID: sample[i].id, tags: [collection], present: true) }
        let s = try await client(w.carol, "carol", w, batch: 1).sync()
        #expect(s.refused.isEmpty)
        try await w.bob.sync()
        #expect(Set(try w.bob.replica.list(tag: collection).map(\.id)).isSuperset(of: sample[9..<13].map(\.id)))
    }

    @Test func aRefusalAmongBatchesInFlightLosesNothing() async throws {
        let w = try await world()
        for i in 0..<5 { _ = try w.bob.replica.addNote(excerptID: sample[1].id, body: "bob's note \(i)") }
        let refused = try w.bob.replica.addNote(excerptID: sample[0].id, body: "bob's collection thought", collection: collection)
        for i in 5..<10 { _ = try w.bob.replica.addNote(excerptID: sample[1].id, body: "bob's note \(i)") }
        let summary = try await client(w.bob, "bob", w, batch: 2).sync()
        #expect(summary.refused.count == 1)
        #expect(try w.bob.replica.note(id: refused.id)?.collection == nil)
        #expect(try w.bob.replica.status().pending == 0)
        try await w.bob2.sync()
        let expected = Set((0..<10).map { "bob's note \($0)" } + ["bob's collection thought"])
        #expect(try bodies(w.bob2).isSuperset(of: expected))
    }

    @Test func readersAreRefusedAndKeepTheirWords() async throws {
        let w = try await world()
        let note = try w.bob.replica.addNote(excerptID: sample[0].id, body: "bob's thought", collection: collection)
        _ = try w.bob.replica.setTags(excerptID: sample[2].id, tags: [collection], present: false)
        let summary = try await w.bob.sync()
        #expect(summary.refused.count == 2)
        #expect(summary.refused.contains { $0.contains("kept as a personal note") })
        #expect(try w.bob.replica.note(id: note.id)?.collection == nil)
        #expect(try w.bob.replica.note(id: note.id)?.body == "bob's thought")
        #expect(try w.bob.replica.list(tag: collection).map(\.id).contains(sample[2].id), "the refused removal is undone")
        #expect(try w.bob.replica.status().pending == 0)
        try await w.alice.sync()
        #expect(!(try bodies(w.alice).contains("bob's thought")))
        #expect(try w.alice.replica.tags(of: sample[2].id).contains("purge-trials"))
        // bob's other device gets his personal note, not as a collection note
        try await w.bob2.sync()
        #expect(try w.bob2.replica.note(id: note.id)?.collection == nil)
        // the CLI refuses up front with the cached role
        #expect(throws: ReplicaError.self) { try w.bob.replica.checkCanEdit(collection: collection) }
    }

    @Test func outsidersGetTheSameRefusalWhetherOrNotTheCollectionExists() async throws {
        let w = try await world()
        let dave = w.tokens["dave"]!
        func push(_ collection: String) async throws -> RawResponse {
            let header = NoteHeader(id: UUID().uuidString.lowercased(), excerptId: sample[0].id, createdAt: 1, collection: collection)
            let change = Change.noteBody(header, body: "sneaky", stamp: Stamp(wall: Replica.systemNow(), counter: 0, node: "dave"), base: nil)
            return try await rawPost(w.daemon.url + "/v1/push", token: dave, body: try JSONEncoder().encode(PushRequest(changes: [change])))
        }
        let existing = try await push(collection)
        let missing = try await push("alice/no-such-tag")
        #expect(existing.status == 403 && missing.status == 403)
        let a = try JSONDecoder().decode(ErrorBody.self, from: existing.body)
        let b = try JSONDecoder().decode(ErrorBody.self, from: missing.body)
        #expect(a.refused?.first?.reason.replacingOccurrences(of: collection, with: "X") == b.refused?.first?.reason.replacingOccurrences(of: "alice/no-such-tag", with: "X"))
        let text = String(decoding: existing.body, as: UTF8.self)
        for leak in sample.prefix(3).map(\.id) + ["bob", "carol", "collection note"] { #expect(!text.contains(leak)) }
        // a tag link into the collection, and pulls, are refused or empty too
        let tag = Change.tag(excerptId: sample[0].id, name: collection, present: false, stamp: Stamp(wall: Replica.systemNow(), counter: 0, node: "dave"), base: nil)
        #expect(try await rawPost(w.daemon.url + "/v1/push", token: dave, body: try JSONEncoder().encode(PushRequest(changes: [tag]))).status == 403)
        let pull = try await rawPost(w.daemon.url + "/v1/pull", token: dave, body: try JSONEncoder().encode(PullRequest(after: 0)))
        let page = try JSONDecoder().decode(PullResponse.self, from: pull.body)
        #expect(page.changes.isEmpty && page.collections == [])
        // only owners manage: dave "unsharing" alice's tag acts on his own (nonexistent) collection
        let unshare = try await rawPost(w.daemon.url + "/v1/collections/unshare", token: dave, body: try JSONEncoder().encode(ShareRequest(tag: "purge-trials", user: "bob")))
        #expect(unshare.status == 404)
        try await w.bob.sync()
        #expect(try w.bob.replica.status().excerpts == 3, "bob still has access")
    }

    @Test func unshareDropsTheContentOnEveryDeviceButKeepsPersonalNotes() async throws {
        let w = try await world()
        let mine = try w.bob.replica.addNote(excerptID: sample[1].id, body: "bob's personal note on a shared excerpt")
        try await w.bob.sync()
        try await w.bob2.sync()
        let client = try SyncClient(replica: w.alice.replica, url: w.daemon.url, token: w.tokens["alice"]!)
        try await client.unshare(tag: "purge-trials", with: "bob")
        await #expect(throws: SyncClientError.self) { try await client.unshare(tag: "purge-trials", with: "bob") }
        for device in [w.bob, w.bob2] {
            let s = try await device.sync()
            #expect(s.dropped == [collection])
            #expect(try device.replica.list(tag: collection).isEmpty)
            #expect(try bodies(device) == ["bob's personal note on a shared excerpt"])
            #expect(try device.replica.note(id: mine.id) != nil)
            let left = try device.replica.list().map { String($0.id.prefix(6)) }
            let via = try device.replica.db.query("SELECT excerpt_id, via FROM excerpt_via") { $0.text(0).prefix(6) + ":" + $0.text(1) }
            #expect(try device.replica.status().excerpts == 1, "only the excerpt bob's own note is on stays: \(left) \(via)")
            #expect(try device.replica.cachedCollections().isEmpty)
        }
        // a new device of bob's never sees the collection
        let fresh = try TestReplica(daemon: w.daemon, token: w.tokens["bob"]!)
        try await fresh.sync()
        #expect(try fresh.replica.list(tag: collection).isEmpty)
        #expect(try bodies(fresh) == ["bob's personal note on a shared excerpt"])
        // carol keeps access
        try await w.carol.sync()
        #expect(try w.carol.replica.list(tag: collection).count == 3)
    }
}
