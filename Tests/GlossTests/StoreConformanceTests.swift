import Foundation
import GlossModel
import GlossServer
import Testing

/// Every store-level behaviour sync relies on, run once per store.
@Suite struct StoreConformanceTests {
    enum Kind: String, CaseIterable, Sendable { case memory, sqlite, postgres }

    /// The store under test; nil for PostgreSQL when no test server is configured (a failure
    /// under CI, a skip locally).
    static func makeStore(_ kind: Kind) async throws -> (any SyncStore)? {
        switch kind {
        case .memory: return MemoryStore()
        case .sqlite: return try SQLiteStore(path: TestSupport.tempDir("store") + "/glossd.sqlite", now: 0)
        case .postgres:
            TestPostgres.requireInCI()
            guard TestPostgres.url != nil else { return nil }
            return try await TestPostgres.freshStore()
        }
    }

    static let excerpt = Sample.parsed.excerpts[0]
    static func note(_ id: String = "n1") -> NoteHeader { NoteHeader(id: id, excerptId: excerpt.id, createdAt: 1) }
    static func stamp(_ wall: Int64, _ node: String = "a") -> Stamp { Stamp(wall: wall, counter: 0, node: node) }

    @Test(arguments: Kind.allCases)
    func usersAndTokens(kind: Kind) async throws {
        guard let store = try await Self.makeStore(kind) else { return }
        let alice = try await store.createUser(name: "alice", now: 1)
        await #expect(throws: StoreError.userExists("alice")) { try await store.createUser(name: "alice", now: 2) }
        #expect(try await store.findUser(name: "alice") == alice)
        #expect(try await store.findUser(name: "nobody") == nil)
        _ = try await store.addToken(userID: alice.id, label: "laptop", tokenHash: "h1", now: 1)
        _ = try await store.addToken(userID: alice.id, label: "phone", tokenHash: "h2", now: 1)
        #expect(try await store.authenticate(tokenHash: "h1")?.userID == alice.id)
        #expect(try await store.authenticate(tokenHash: "nope") == nil)
        #expect(try await store.revokeTokens(userID: alice.id, label: "phone", now: 3) == 1)
        #expect(try await store.authenticate(tokenHash: "h2") == nil)
        #expect(try await store.authenticate(tokenHash: "h1") != nil)
        #expect(try await store.revokeTokens(userID: alice.id, label: nil, now: 4) == 1)
        #expect(try await store.authenticate(tokenHash: "h1") == nil)
    }

    @Test(arguments: Kind.allCases)
    func pushIsIdempotentAndSequenced(kind: Kind) async throws {
        guard let store = try await Self.makeStore(kind) else { return }
        let u = try await store.createUser(name: "u", now: 0)
        let changes: [Change] = [
            .excerpt(Self.excerpt),
            .noteBody(Self.note(), body: "one", stamp: Self.stamp(10), base: nil),
            .tag(excerptId: Self.excerpt.id, name: "t", present: true, stamp: Self.stamp(11), base: nil),
        ]
        let first = try await store.push(userID: u.id, changes: changes)
        #expect(first.accepted == 3 && first.duplicates == 0)
        #expect(first.acknowledged == changes.map(\.id))
        let again = try await store.push(userID: u.id, changes: changes)
        #expect(again.accepted == 0 && again.duplicates == 3)
        let log = try await store.pull(userID: u.id, after: 0, limit: 100)
        #expect(log.count == 3)
        #expect(log.map(\.seq) == log.map(\.seq).sorted())
        #expect(Set(log.map(\.seq)).count == 3)
        let decoded = try log.map { try JSONDecoder().decode(Change.self, from: Data($0.json.utf8)) }
        #expect(decoded == changes)
        // paging
        let page1 = try await store.pull(userID: u.id, after: 0, limit: 2)
        let page2 = try await store.pull(userID: u.id, after: page1.last!.seq, limit: 2)
        #expect(page1.count == 2 && page2.count == 1)
        #expect(page1 + page2 == log)
        #expect(try await store.pull(userID: u.id, after: log.last!.seq, limit: 10).isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func fieldsMergeByLastWriterWinsAndKeepLosers(kind: Kind) async throws {
        guard let store = try await Self.makeStore(kind) else { return }
        let u = try await store.createUser(name: "u", now: 0)
        let field = FieldKey.noteBody(noteId: "n1").description
        let late = Change.noteBody(Self.note(), body: "late", stamp: Self.stamp(30, "b"), base: nil)
        let early = Change.noteBody(Self.note(), body: "early", stamp: Self.stamp(20, "a"), base: nil)
        _ = try await store.push(userID: u.id, changes: [late])
        let r = try await store.push(userID: u.id, changes: [early])
        #expect(r.conflicts == 1)
        #expect(try await store.fieldValue(userID: u.id, field: field) == FieldValue(value: "late", stamp: Self.stamp(30, "b")))
        #expect(try await store.superseded(userID: u.id, field: field) == [FieldValue(value: "early", stamp: Self.stamp(20, "a"))])
        // a later edit that saw "late" is no conflict
        let later = Change.noteBody(Self.note(), body: "later", stamp: Self.stamp(40, "a"), base: Self.stamp(30, "b"))
        #expect(try await store.push(userID: u.id, changes: [later]).conflicts == 0)
        #expect(try await store.fieldValue(userID: u.id, field: field)?.value == "later")
        #expect(try await store.superseded(userID: u.id, field: field).map(\.value) == ["early", "late"])
        // tombstones and tags are fields too
        let del = Change.noteDeleted(Self.note(), deleted: true, stamp: Self.stamp(50), base: nil)
        _ = try await store.push(userID: u.id, changes: [del])
        #expect(try await store.fieldValue(userID: u.id, field: FieldKey.noteDeleted(noteId: "n1").description)?.value == "true")
        let tagField = FieldKey.tag(excerptId: Self.excerpt.id, name: "t").description
        _ = try await store.push(userID: u.id, changes: [.tag(excerptId: Self.excerpt.id, name: "t", present: false, stamp: Self.stamp(61), base: nil)])
        _ = try await store.push(userID: u.id, changes: [.tag(excerptId: Self.excerpt.id, name: "t", present: true, stamp: Self.stamp(60), base: nil)])
        #expect(try await store.fieldValue(userID: u.id, field: tagField)?.value == "false")
    }

    /// One push that edits a field several times, out of stamp order, and repeats a change: the
    /// stores that batch a push (PostgreSQL) must merge in push order like the others.
    @Test(arguments: Kind.allCases)
    func onePushMergesRepeatedEditsInOrder(kind: Kind) async throws {
        guard let store = try await Self.makeStore(kind) else { return }
        let u = try await store.createUser(name: "u", now: 0)
        let field = FieldKey.noteBody(noteId: "n1").description
        let second = Change.noteBody(Self.note(), body: "second", stamp: Self.stamp(20, "b"), base: Self.stamp(10))
        let changes: [Change] = [
            .excerpt(Self.excerpt),
            .noteBody(Self.note(), body: "first", stamp: Self.stamp(10), base: nil),
            second,
            .noteBody(Self.note(), body: "stale", stamp: Self.stamp(15, "c"), base: nil),
            second,
            .tag(excerptId: Self.excerpt.id, name: "t", present: true, stamp: Self.stamp(21), base: nil),
        ]
        let r = try await store.push(userID: u.id, changes: changes)
        #expect(r.accepted == 5 && r.duplicates == 1 && r.conflicts == 1, "\(r)")
        #expect(r.acknowledged == changes.map(\.id))
        #expect(r.logged.count == 5 && r.logged == r.logged.sorted())
        let log = try await store.pull(userID: u.id, after: 0, limit: 100)
        #expect(log.map(\.seq) == r.logged)
        #expect(try log.map { try JSONDecoder().decode(Change.self, from: Data($0.json.utf8)) } == [changes[0], changes[1], changes[2], changes[3], changes[5]])
        #expect(try await store.fieldValue(userID: u.id, field: field) == FieldValue(value: "second", stamp: Self.stamp(20, "b")))
        #expect(try await store.superseded(userID: u.id, field: field).map(\.value) == ["first", "stale"])
        #expect(try await store.fieldValue(userID: u.id, field: changes[5].field!.description)?.value == "true")
    }

    @Test(arguments: Kind.allCases)
    func usersNeverSeeEachOthersChanges(kind: Kind) async throws {
        guard let store = try await Self.makeStore(kind) else { return }
        let a = try await store.createUser(name: "a", now: 0)
        let b = try await store.createUser(name: "b", now: 0)
        let change = Change.noteBody(Self.note(), body: "a's", stamp: Self.stamp(10), base: nil)
        _ = try await store.push(userID: a.id, changes: [change])
        #expect(try await store.pull(userID: b.id, after: 0, limit: 100).isEmpty)
        #expect(try await store.fieldValue(userID: b.id, field: change.field!.description) == nil)
        // the same change id pushed by b is b's own, not a duplicate of a's
        #expect(try await store.push(userID: b.id, changes: [change]).accepted == 1)
    }

    @Test(arguments: Kind.allCases)
    func collectionsDeliverBackfillAndRevoke(kind: Kind) async throws {
        guard let store = try await Self.makeStore(kind) else { return }
        let owner = try await store.createUser(name: "owner", now: 0)
        let member = try await store.createUser(name: "member", now: 0)
        let e = Self.excerpt
        let note = NoteHeader(id: "cn", excerptId: e.id, createdAt: 1, collection: "owner/shared")
        _ = try await store.push(userID: owner.id, changes: [
            .excerpt(e), .tag(excerptId: e.id, name: "shared", present: true, stamp: Self.stamp(10), base: nil),
            .noteBody(note, body: "collection note", stamp: Self.stamp(11), base: nil),
            .noteBody(Self.note("private"), body: "owner only", stamp: Self.stamp(12), base: nil),
        ])
        #expect(try await store.collection(ownerName: "owner", tag: "shared") == nil)
        let c = try await store.setMember(ownerID: owner.id, tag: "shared", memberID: member.id, role: "reader", now: 5)
        #expect(c.name == "owner/shared" && c.roles == [member.id: "reader"] && c.names == [member.id: "member"])
        #expect(try await store.collection(ownerName: "owner", tag: "shared") == c)
        #expect(try await store.collections(of: member.id) == [c])
        #expect(try await store.collections(of: owner.id) == [c])
        // backfill: the excerpt, its link as OWNER/TAG, the collection note; nothing private
        let content = try await store.backfill(collection: c)
        #expect(content.count == 3)
        #expect(content.contains(.excerpt(e)))
        #expect(content.contains(.tag(excerptId: e.id, name: "owner/shared", present: true, stamp: Self.stamp(10), base: nil)))
        #expect(!content.contains { if case .noteBody(let h, _, _, _) = $0 { return h.id == "private" } else { return false } })
        let deliveries = content.map { change -> Delivery in
            if case .excerpt(let x) = change { return Delivery(recipient: member.id, item: .copyExcerpt(x.id, from: owner.id), via: c.name) }
            return Delivery(recipient: member.id, item: .change(change), via: c.name)
        }
        _ = try await store.deliver(pusherID: member.id, deliveries)
        _ = try await store.deliver(pusherID: member.id, deliveries)  // repeated: nothing new
        let log = try await store.pull(userID: member.id, after: 0, limit: 100)
        #expect(log.count == 3)
        #expect(log.allSatisfy { $0.via == "owner/shared" })
        #expect(try await store.fieldValue(userID: member.id, field: "note.body:cn")?.value == "collection note")
        // role change keeps one membership
        let editor = try await store.setMember(ownerID: owner.id, tag: "shared", memberID: member.id, role: "editor", now: 6)
        #expect(editor.roles == [member.id: "editor"] && editor.id == c.id)
        // revoke: everything delivered via the collection goes, and the state with it
        #expect(try await store.removeMember(collection: editor, memberID: member.id))
        #expect(!(try await store.removeMember(collection: editor, memberID: member.id)))
        #expect(try await store.pull(userID: member.id, after: 0, limit: 100).isEmpty)
        #expect(try await store.fieldValue(userID: member.id, field: "note.body:cn") == nil)
        #expect(try await store.collections(of: member.id).isEmpty)
        #expect(try await store.pull(userID: owner.id, after: 0, limit: 100).count == 4, "the owner's log is untouched")
    }
}
