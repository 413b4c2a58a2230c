import Foundation
import GlossMigrations
import GlossModel
import GlossServer
import GlossSQLite
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

    /// Pushes that arrive together (the SQLite store stores the pushes waiting for its writer in
    /// one transaction, so some of these may share one): each gets its own answer, and a push
    /// that fails fails alone.
    @Test(.timeLimit(.minutes(1)), arguments: Kind.allCases)
    func concurrentPushesAreAnsweredEachAndFailAlone(kind: Kind) async throws {
        guard let store = try await Self.makeStore(kind) else { return }
        let users = [try await store.createUser(name: "a", now: 0), try await store.createUser(name: "b", now: 0)]
        @Sendable func notes(_ prefix: String, _ n: Int, wall: Int64) -> [Change] {
            (0..<n).map { .noteBody(Self.note("\(prefix)-\($0)"), body: "\(prefix) \($0)", stamp: Self.stamp(wall + Int64($0)), base: nil) }
        }
        @Sendable func outcome(_ userID: String, _ changes: [Change]) async -> Result<PushResult, any Error> {
            do { return .success(try await store.push(userID: userID, changes: changes)) } catch { return .failure(error) }
        }
        // a large push keeps the writer busy while small ones queue up
        let big = notes("big", 3000, wall: 100)
        let small = (0..<12).map { notes("s\($0)", 5, wall: 10_000 + Int64($0) * 10) }
        // a push for a user that does not exist breaks the log's foreign key (database stores)
        let failing = kind == .memory ? nil : notes("x", 3, wall: 5)
        var answers: [Int: Result<PushResult, any Error>] = [:]
        await withTaskGroup(of: (Int, Result<PushResult, any Error>).self) { group in
            group.addTask { (-1, await outcome(users[0].id, big)) }
            for (i, changes) in small.enumerated() { group.addTask { (i, await outcome(users[i % 2].id, changes)) } }
            if let failing { group.addTask { (99, await outcome("no-such-user", failing)) } }
            for await (i, r) in group { answers[i] = r }
        }
        var seqs: [Int64] = []
        for (i, changes) in [(-1, big)] + small.enumerated().map({ ($0, $1) }) {
            let r = try #require(try? answers[i]?.get(), "push \(i) failed")
            #expect(r.acknowledged == changes.map(\.id) && r.accepted == changes.count && r.duplicates == 0, "push \(i)")
            #expect(r.logged.count == changes.count && r.logged == r.logged.sorted(), "push \(i)")
            seqs += r.logged
        }
        #expect(Set(seqs).count == seqs.count)
        if failing != nil {
            #expect(throws: (any Error).self) { try answers[99]!.get() }
            #expect(try await store.pull(userID: "no-such-user", after: 0, limit: 100).isEmpty)
        }
        for (u, user) in users.enumerated() {
            let expected = (u == 0 ? big : []) + small.enumerated().filter { $0.offset % 2 == u }.flatMap(\.element)
            let log = try await store.pull(userID: user.id, after: 0, limit: 10_000)
            #expect(Set(log.map(\.seq)).isSubset(of: Set(seqs)) && log.count == expected.count)
            #expect(Set(try log.map { try ChangeJSON.decode($0.json).id }) == Set(expected.map(\.id)))
            let last = try #require(expected.last)
            #expect(try await store.fieldValue(userID: user.id, field: last.field!.description)?.value == FieldMergePlan.text(last))
        }
    }

    /// The SQLite store's group commit, made certain: another connection holds the write lock
    /// while the pushes queue up, so they are stored together, one of them failing (a user that
    /// does not exist breaks the log's foreign key): the others are stored and answered, it
    /// alone fails.
    @Test(.timeLimit(.minutes(1))) func sqliteGroupCommitIsolatesAFailingPush() async throws {
        let path = TestSupport.tempDir("group") + "/glossd.sqlite"
        let store = try SQLiteStore(path: path, now: 0)
        let u = try await store.createUser(name: "u", now: 0)
        let blocker = try Database(path: path)
        try blocker.execute("BEGIN IMMEDIATE")
        let pushes: [(String, [Change])] = (0..<6).map { i in
            (i == 3 ? "no-such-user" : u.id, [Change.noteBody(Self.note("g\(i)"), body: "push \(i)", stamp: Self.stamp(100 + Int64(i)), base: nil)])
        }
        try await withThrowingTaskGroup(of: (Int, Result<PushResult, any Error>).self) { group in
            func send(_ i: Int) {
                let (user, changes) = pushes[i]
                group.addTask {
                    do { return (i, .success(try await store.push(userID: user, changes: changes))) } catch { return (i, .failure(error)) }
                }
            }
            // the first push waits for the lock inside the writer, the other five queue behind it
            // (each wait bounded: nobody waits for the lock before push 0 is taken, then the
            // writer gives up on it after 5 s, so the second wait stays well under that)
            send(0)
            var deadline = ContinuousClock.now + .seconds(20)
            while store.pushesTaken < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            for i in 1..<pushes.count { send(i) }
            deadline = ContinuousClock.now + .seconds(3)
            while store.pushesWaiting < pushes.count - 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(store.pushesTaken == 1 && store.pushesWaiting == pushes.count - 1)
            try blocker.execute("COMMIT")
            for try await (i, answer) in group {
                if i == 3 {
                    #expect(throws: (any Error).self) { try answer.get() }
                } else {
                    #expect(try answer.get().acknowledged == pushes[i].1.map(\.id))
                }
            }
        }
        #expect(store.largestGroup >= 5)
        #expect(try await store.pull(userID: u.id, after: 0, limit: 100).count == 5)
        #expect(try await store.pull(userID: "no-such-user", after: 0, limit: 100).isEmpty)
    }

    /// What an idle daemon gives back: its connections' page caches, emptied; the data is read
    /// again from the file, unchanged.
    @Test func sqliteReleasesItsPageCachesAndKeepsItsData() async throws {
        let path = TestSupport.tempDir("release") + "/glossd.sqlite"
        func walBytes() -> Int { ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0 }
        let store = try SQLiteStore(path: path, now: 0)
        let u = try await store.createUser(name: "u", now: 0)
        let notes = (0..<3_000).map { i in
            Change.noteBody(Self.note("r\(i)"), body: String(repeating: "page cache \(i) ", count: 20), stamp: Self.stamp(100 + Int64(i)), base: nil)
        }
        _ = try await store.push(userID: u.id, changes: notes)
        let pulled = try await store.pull(userID: u.id, after: 0, limit: 10_000)
        #expect(pulled.count == 3_000)
        let cached = await store.cacheBytes()
        #expect(cached > 1_000_000, "\(cached) bytes cached after writing and reading some 3 MB")
        #expect(walBytes() > 1_000_000)
        await store.releaseMemory()
        #expect(walBytes() == 0, "the WAL is truncated")
        let left = await store.cacheBytes()
        #expect(left < cached / 10, "\(left) of \(cached) bytes still cached")
        #expect(try await store.pull(userID: u.id, after: 0, limit: 10_000).map(\.json) == pulled.map(\.json))
        _ = try await store.push(userID: u.id, changes: [.noteBody(Self.note("after"), body: "after", stamp: Self.stamp(9_000), base: nil)])
        #expect(try await store.pull(userID: u.id, after: pulled.last!.seq, limit: 10).count == 1)
    }

    /// The daemon's WAL is copied back once writes stop for a while, or while they go on once it
    /// has grown past its bound; never while a burst of writes is short of the bound.
    @Test(.timeLimit(.minutes(1))) func sqliteCheckpointsWhenWritesStopOrTheWALPassesItsBound() async throws {
        func notes(_ prefix: String, _ n: Int) -> [Change] {
            (0..<n).map { i in .noteBody(Self.note("\(prefix)\(i)"), body: String(repeating: "wal \(i) ", count: 30), stamp: Self.stamp(100 + Int64(i)), base: nil) }
        }
        func waitFor(_ condition: () async -> Bool) async throws -> Bool {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if await condition() { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }
        // writes that stop: nothing is checkpointed while they go on (a write every 0.1 s for
        // longer than the idle time: a checkpoint at a fixed delay after the first would run),
        // once after the last
        let idle = try SQLiteStore(path: TestSupport.tempDir("wal-idle") + "/glossd.sqlite", now: 0, checkpointIdleSeconds: 1)
        var spans: [(start: Date, end: Date)] = []  // each write happened within its span
        var t = Date()
        let a = try await idle.createUser(name: "a", now: 0)
        spans.append((t, Date()))
        let before = idle.checkpoints
        for round in 0..<20 {
            t = Date()
            _ = try await idle.push(userID: a.id, changes: notes("i\(round)-", 10))
            spans.append((t, Date()))
            try await Task.sleep(for: .milliseconds(100))
        }
        // the longest the writer can have been idle during the burst: from one write's start to
        // the next one's end. The other tests running beside this one can stall it past the idle
        // time (then a checkpoint during the burst is right, and nothing is judged)
        let longestPause = zip(spans, spans.dropFirst()).map { $1.end.timeIntervalSince($0.start) }.max()!
        #expect(spans.last!.end.timeIntervalSince(spans[0].start) > 1.5)
        if longestPause < 1 {
            #expect(idle.checkpoints == before, "checkpointed during a burst of writes (longest pause \(longestPause) s)")
        }
        #expect(try await waitFor { idle.checkpoints > before })
        // writes that go on (no pause near the idle time): checkpointed whenever the WAL passes 50 frames
        let bounded = try SQLiteStore(path: TestSupport.tempDir("wal-bound") + "/glossd.sqlite", now: 0, checkpointFrames: 50, checkpointIdleSeconds: 60)
        let b = try await bounded.createUser(name: "b", now: 0)
        for round in 0..<5 { _ = try await bounded.push(userID: b.id, changes: notes("b\(round)-", 200)) }
        #expect(try await waitFor { bounded.checkpoints > 0 })
        #expect(try await bounded.pull(userID: b.id, after: 0, limit: 10_000).count == 1_000)
    }

    @Test func sqliteVersion2KeepsAVersion1LogItsNumbersAndItsDuplicates() async throws {
        // a version-1 store: the owner's excerpt, tag and note, then a row of another user's
        // that was deleted since (a revoked share), so the log's high-water mark is above its rows
        let path = TestSupport.tempDir("v1") + "/glossd.sqlite"
        let e = Self.excerpt
        let old: [Change] = [
            .excerpt(e), .tag(excerptId: e.id, name: "shared", present: true, stamp: Self.stamp(10), base: nil),
            .noteBody(Self.note(), body: "one", stamp: Self.stamp(11), base: nil),
        ]
        do {
            let db = try Database(path: path)
            try Migrator.migrate(db, [Migrations.server[0]], now: "0")
            try db.execute("INSERT INTO app_user(id, name, created_at) VALUES ('o', 'owner', 0), ('m', 'member', 0)")
            for (user, c) in old.map({ ("o", $0) }) + [("m", old[2])] {
                try db.run(
                    "INSERT INTO change_log(user_id, change_id, kind, excerpt_id, field, payload) VALUES (?, ?, ?, ?, ?, ?)", .text(user), .text(c.id),
                    .text(c.kindName), .text(c.excerptId), c.field.map { .text($0.description) } ?? .null, .text(ChangeWriter.json(c)))
                if let f = c.field, case .tag(_, _, _, let s, _) = c {
                    try db.run("INSERT INTO field_state(user_id, field, value, stamp) VALUES ('o', ?, 'true', ?)", .text(f.description), .text(s.description))
                }
            }
            try db.execute("DELETE FROM change_log WHERE seq = 4")
        }
        let store = try SQLiteStore(path: path, now: 0)
        let log = try await store.pull(userID: "o", after: 0, limit: 10)
        #expect(log.map(\.seq) == [1, 2, 3])
        #expect(try log.map { try ChangeJSON.decode($0.json) } == old)
        // pushed again, the old changes are duplicates; a new one gets a number above any handed out
        let later = Change.noteBody(Self.note("n2"), body: "two", stamp: Self.stamp(12), base: nil)
        let again = try await store.push(userID: "o", changes: old + [later])
        #expect(again.duplicates == 3 && again.accepted == 1)
        #expect(again.logged.count == 1 && again.logged[0] > 4)
        // the excerpt is still found by its id: a share backfills and copies it from the owner's log
        let c = try await store.setMember(ownerID: "o", tag: "shared", memberID: "m", role: "reader", now: 5)
        let content = try await store.backfill(collection: c)
        #expect(content.contains(.excerpt(e)))
        _ = try await store.deliver(pusherID: "m", [Delivery(recipient: "m", item: .copyExcerpt(e.id, from: "o"), via: c.name)])
        #expect(try await store.pull(userID: "m", after: 0, limit: 10).map { try ChangeJSON.decode($0.json) } == [.excerpt(e)])
    }

    @Test func sqliteVersion3NumbersTheUsersOfAVersion2Store() async throws {
        // a version-2 store, its rows keyed by user id: a's excerpt and tag, b's note (which
        // superseded an older body), then a's copy of the same note, so the log interleaves users
        let path = TestSupport.tempDir("v2") + "/glossd.sqlite"
        let e = Self.excerpt
        let tag = Change.tag(excerptId: e.id, name: "t", present: true, stamp: Self.stamp(10), base: nil)
        let body = Change.noteBody(Self.note(), body: "b's", stamp: Self.stamp(11), base: nil)
        let key = body.field!.description
        do {
            let db = try Database(path: path)
            try Migrator.migrate(db, Array(Migrations.server[..<2]), now: "0")
            try db.execute("INSERT INTO app_user(id, name, created_at) VALUES ('a', 'alice', 0), ('b', 'bob', 0)")
            for (user, c) in [("a", Change.excerpt(e)), ("a", tag), ("b", body), ("a", body)] {
                try db.run(
                    "INSERT INTO change_log(user_id, change_id, kind, excerpt_id, field, payload) VALUES (?, ?, ?, ?, ?, ?)", .text(user), .text(c.id),
                    .text(c.kindName), .text(c.excerptId), c.field.map { .text($0.description) } ?? .null, .text(ChangeWriter.json(c)))
                if let f = c.field {
                    try db.run(
                        "INSERT INTO field_state(user_id, field, value, stamp) VALUES (?, ?, ?, ?)", .text(user), .text(f.description),
                        .text(FieldMergePlan.text(c)), .text(c.stamp!.description))
                }
            }
            try db.run(
                "INSERT INTO superseded(user_id, field, stamp, value, superseded_by) VALUES ('b', ?, ?, 'older', ?)", .text(key),
                .text(Self.stamp(5).description), .text(Self.stamp(11).description))
        }
        let store = try SQLiteStore(path: path, now: 0)
        let logA = try await store.pull(userID: "a", after: 0, limit: 10)
        let logB = try await store.pull(userID: "b", after: 0, limit: 10)
        #expect(logA.map(\.seq) == [1, 2, 4] && logB.map(\.seq) == [3])
        #expect(try logA.map { try ChangeJSON.decode($0.json) } == [.excerpt(e), tag, body])
        #expect(try logB.map { try ChangeJSON.decode($0.json) } == [body])
        #expect(try await store.fieldValue(userID: "a", field: tag.field!.description) == FieldValue(value: "true", stamp: Self.stamp(10)))
        #expect(try await store.fieldValue(userID: "b", field: tag.field!.description) == nil)
        #expect(try await store.fieldValue(userID: "b", field: key) == FieldValue(value: "b's", stamp: Self.stamp(11)))
        #expect(try await store.superseded(userID: "b", field: key) == [FieldValue(value: "older", stamp: Self.stamp(5))])
        #expect(try await store.superseded(userID: "a", field: key).isEmpty)
        #expect(try await store.fieldStates(userID: "a").count == 2)
        #expect(try await store.excerptIDs(userID: "a") == [e.id])
        #expect(try await store.excerptIDs(userID: "b").isEmpty)
        // pushed again, a's changes are duplicates of a's log, not of b's
        let again = try await store.push(userID: "a", changes: [.excerpt(e), tag, body])
        #expect(again.duplicates == 3 && again.accepted == 0)
        // a new user gets the next number and a log of her own; the same change is hers to log
        let c = try await store.createUser(name: "carol", now: 1)
        #expect(try await store.pull(userID: c.id, after: 0, limit: 10).isEmpty)
        let hers = try await store.push(userID: c.id, changes: [body])
        #expect(hers.accepted == 1 && hers.logged.count == 1 && hers.logged[0] > 4)
        let numbers = try Database(path: path).query("SELECT name, num FROM app_user ORDER BY num") { "\($0.text(0))=\($0.int(1))" }
        #expect(numbers == ["alice=1", "bob=2", "carol=3"])
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
