import Foundation
import GlossCompression
import GlossModel
import GlossReplica
import GlossSQLite
import GlossServer
import GlossSyncClient
import Testing

/// Sync through a real glossd process on loopback.
@Suite(.serialized) struct SyncTests {
    let sample = Sample.parsed.excerpts

    @Test func twoReplicasExchangeExcerptsNotesAndTags() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let laptop = try TestReplica(daemon: daemon, token: token)
        let desktop = try TestReplica(daemon: daemon, token: token)  // never imports the corpus
        let mode = try FileManager.default.attributesOfItem(atPath: laptop.replica.tokenPath)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the token file is readable by its owner only")
        _ = try laptop.replica.importExcerpts(sample)
        let e = sample[4].id
        let note = try laptop.replica.addNote(excerptID: e, body: "written on the laptop")
        _ = try laptop.replica.setTags(excerptID: e, tags: ["purge-trials"], present: true)
        let pushed = try await laptop.sync()
        #expect(pushed.pushed == 118)
        let pulled = try await desktop.sync()
        #expect(pulled.pulled == 118)
        #expect(pulled.conflicts == 0)
        #expect(try desktop.replica.status().excerpts == 116)
        #expect(try desktop.replica.record(excerptID: e).notes.map(\.body) == ["written on the laptop"])
        #expect(try desktop.replica.list(tag: "purge-trials").map(\.id) == [e])
        // and back
        _ = try desktop.replica.editNote(id: note.id, body: "edited on the desktop")
        try await desktop.sync()
        try await laptop.sync()
        #expect(try laptop.replica.note(id: note.id)?.body == "edited on the desktop")
        #expect(try laptop.replica.snapshot() == desktop.replica.snapshot())
        // idle sync moves nothing
        let idle = try await laptop.sync()
        #expect(idle == SyncSummary(pushed: 0, pulled: 0, conflicts: 0))
        #expect(try laptop.replica.status().pending == 0)
    }

    @Test func bodiesAreGzippedExceptToADaemonOnThisMachine() async throws {
        for host in ["127.0.0.1", "127.8.0.1", "localhost", "LocalHost", "a.localhost", "::1", "[::1]"] {
            #expect(SyncClient.isLoopback(host: host), "\(host)")
        }
        for host in ["10.0.0.1", "gloss.example.com", "127.0.0.1.example.com", "localhost.example.com", "128.0.0.1", "127.0.0.256", "127.0.1", ""] {
            #expect(!SyncClient.isLoopback(host: host), "\(host)")
        }
        let scratch = try Replica(home: TestSupport.tempDir("replica"))
        let local = try SyncClient(replica: scratch, url: "http://127.0.0.1:8420", token: "t")
        let remote = try SyncClient(replica: scratch, url: "https://gloss.example.com", token: "t")
        #expect(!local.compress && remote.compress)
        let body = Array(String(repeating: "{\"kind\":\"note\"},", count: 2_000).utf8)
        let sent = remote.request("v1/push", method: "POST", body: body)
        #expect(sent.value(forHTTPHeaderField: "Content-Encoding") == "gzip")
        #expect(sent.value(forHTTPHeaderField: "Accept-Encoding") == "gzip")
        #expect(try Gzip.decompress(Array(sent.httpBody ?? Data()), limit: body.count) == body)
        let plain = local.request("v1/push", method: "POST", body: body)
        #expect(plain.value(forHTTPHeaderField: "Content-Encoding") == nil)
        #expect(plain.value(forHTTPHeaderField: "Accept-Encoding") == "identity", "libcurl would offer gzip on its own")
        #expect(plain.httpBody == Data(body))
        // on this machine too, a body between 64 KiB and 1 MiB goes gzipped (the answer plain);
        // a larger one does not
        let midSize = Array(String(repeating: "{\"kind\":\"note\"},", count: 8_000).utf8)
        let mid = local.request("v1/push", method: "POST", body: midSize)
        #expect(mid.value(forHTTPHeaderField: "Content-Encoding") == "gzip" && mid.value(forHTTPHeaderField: "Accept-Encoding") == "identity")
        #expect(try Gzip.decompress(Array(mid.httpBody ?? Data()), limit: midSize.count) == midSize)
        let large = Array(String(repeating: "{\"kind\":\"note\"},", count: 70_000).utf8)
        #expect(local.request("v1/push", method: "POST", body: large).value(forHTTPHeaderField: "Content-Encoding") == nil)
        local.compress = false  // as GLOSS_COMPRESS=0 does, or a caller asking for plain bodies
        #expect(local.request("v1/push", method: "POST", body: midSize).httpBody == Data(midSize))

        // through a real daemon: one replica pushes and pulls gzipped, the other plain
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let zipped = try TestReplica(daemon: daemon, token: token)
        zipped.compress = true
        let plainReplica = try TestReplica(daemon: daemon, token: token)
        plainReplica.compress = false
        _ = try zipped.replica.importExcerpts(sample)  // a body well over 16 KiB
        let note = try zipped.replica.addNote(excerptID: sample[0].id, body: "sent gzipped")
        #expect(try await zipped.sync().pushed == 117)
        #expect(try await plainReplica.sync().pulled == 117)
        _ = try plainReplica.replica.editNote(id: note.id, body: "sent plain")
        _ = try plainReplica.replica.importExcerpts([Excerpt(text: String(repeating: "A long plain passage. ", count: 2_000), citation: sample[1].citation, compilation: "")])
        #expect(try await plainReplica.sync().pushed == 2)
        #expect(try await zipped.sync().pulled == 2)
        #expect(try zipped.replica.snapshot() == plainReplica.replica.snapshot())
    }

    @Test func pulledPagesAreCommittedInGroupsAndAGroupCutOffLeavesNoTrace() async throws {
        // through a real daemon: pages of 20 changes, committed every 100
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let writer = try TestReplica(daemon: daemon, token: token)
        _ = try writer.replica.importExcerpts(sample)
        for i in 0..<150 { _ = try writer.replica.addNote(excerptID: sample[i % sample.count].id, body: "grouped \(i)") }
        #expect(try await writer.sync().pushed == sample.count + 150)
        let reader = try Replica(home: TestSupport.tempDir("replica"))
        let client = try SyncClient(replica: reader, url: daemon.url, token: token, timeout: 20)
        client.pullPage = 20
        client.pullGroup = 100
        #expect(try await client.sync().pulled == sample.count + 150)
        #expect(try reader.snapshot() == writer.replica.snapshot())
        #expect(try reader.search("grouped", limit: 1000).count == 150, "notes pulled in a group are in the full-text index")

        // in the replica: a group's pages share one transaction; one closed before its commit
        // (a killed process) leaves neither the pages nor the cursor, and a rolled-back group's
        // cached source ids are forgotten, so applying the pages again stores them whole
        let home = TestSupport.tempDir("replica")
        let pages = [Array(sample.prefix(10)), Array(sample.dropFirst(10).prefix(10))].enumerated().map { (p, excerpts) in
            excerpts.enumerated().map { SequencedChange(seq: Int64(p * 10 + $0.offset + 1), change: .excerpt($0.element)) }
        }
        do {
            let cut = try Replica(home: home)
            try cut.beginPullGroup()
            _ = try cut.applyPulled(pages[0], cursor: 10, serverStamp: nil, indexLater: true)
            _ = try cut.applyPulled(pages[1], cursor: 20, serverStamp: nil, indexLater: true)
        }  // closed without a commit
        let again = try Replica(home: home)
        #expect(try again.syncCursor == 0)
        #expect(try again.status().excerpts == 0)
        try again.beginPullGroup()
        _ = try again.applyPulled(pages[0], cursor: 10, serverStamp: nil, indexLater: true)
        again.rollbackPullGroup()
        #expect(try again.status().excerpts == 0)
        try again.beginPullGroup()
        for (i, page) in pages.enumerated() {
            _ = try again.applyPulled(page, cursor: Int64(10 * (i + 1)), serverStamp: nil, indexLater: i == 0)
        }
        try again.commitPullGroup()
        #expect(try again.syncCursor == 20)
        #expect(try again.status().excerpts == 20)
        for e in sample.prefix(20) { #expect(try again.record(excerptID: e.id).excerpt == e) }
    }

    @Test func aPageOfOnlySkippedChangesIsAppliedInTheOpenGroup() async throws {
        // Another user's change sits before this sync's own pushed run in the daemon's log, so
        // the pull cannot jump over the run: its first page holds only skipped changes (empty,
        // more to come), and the group it opened must carry on into the next page
        let daemon = try Daemon()
        let bob = try TestReplica(daemon: daemon, token: try daemon.addUser("bob"))
        _ = try bob.replica.importExcerpts([sample[0]])
        #expect(try await bob.sync().pushed == 1)
        let token = try daemon.addUser("alice")
        let alice = try Replica(home: TestSupport.tempDir("replica"))
        _ = try alice.importExcerpts(Array(sample.prefix(60)))
        let client = try SyncClient(replica: alice, url: daemon.url, token: token, timeout: 20)
        client.pullPage = 20
        client.pullGroup = 1_000
        let summary = try await client.sync()
        #expect(summary.pushed == 60 && summary.pulled == 0)
        #expect(try alice.syncCursor >= 61)
        let other = try TestReplica(daemon: daemon, token: token)
        #expect(try await other.sync().pulled == 60)
    }

    @Test func concurrentEditsOfOneNoteKeepTheLaterAndTheLoserInHistory() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let a = try TestReplica(daemon: daemon, token: token)
        let b = try TestReplica(daemon: daemon, token: token)
        _ = try a.replica.importExcerpts(Array(sample.prefix(3)))
        let note = try a.replica.addNote(excerptID: sample[0].id, body: "v0")
        try await a.sync()
        try await b.sync()
        // both edit while apart; b edits later
        _ = try a.replica.editNote(id: note.id, body: "edit on A")
        try await Task.sleep(for: .milliseconds(5))
        _ = try b.replica.editNote(id: note.id, body: "edit on B (later)")
        let first = try await a.sync()
        let second = try await b.sync()
        let third = try await a.sync()
        #expect(first.conflicts == 0)
        #expect(second.conflicts >= 1, "B's push replaces a value B never saw")
        #expect(third.conflicts >= 1, "A's value lost to B's")
        for r in [a, b] {
            #expect(try r.replica.note(id: note.id)?.body == "edit on B (later)")
            let history = try r.replica.history(noteID: note.id).filter { $0.field == "body" }
            #expect(history.map(\.value) == ["v0", "edit on A", "edit on B (later)"])
            #expect(history.last?.current == true)
        }
        #expect(try a.replica.snapshot() == b.replica.snapshot())
        // the daemon kept the loser too
        let server = try Database(path: daemon.database, readOnly: true)
        let losers = try server.query("SELECT value FROM superseded WHERE field = ? ORDER BY stamp", [.text("note.body:" + note.id)]) { $0.text(0) }
        #expect(losers == ["v0", "edit on A"])
    }

    @Test func tagAddAndRemoveAreOrderedByStamp() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let a = try TestReplica(daemon: daemon, token: token)
        let b = try TestReplica(daemon: daemon, token: token)
        let e = sample[1].id
        _ = try a.replica.importExcerpts([sample[1]])
        _ = try a.replica.setTags(excerptID: e, tags: ["army"], present: true)
        try await a.sync()
        try await b.sync()
        // b removes, then a (later) adds again: present wins
        _ = try b.replica.setTags(excerptID: e, tags: ["army"], present: false)
        try await Task.sleep(for: .milliseconds(5))
        _ = try a.replica.setTags(excerptID: e, tags: ["army", "navy"], present: false)
        _ = try a.replica.setTags(excerptID: e, tags: ["army"], present: true)
        try await b.sync()
        try await a.sync()
        try await b.sync()
        #expect(try a.replica.tags(of: e) == ["army"])
        #expect(try b.replica.tags(of: e) == ["army"])
        #expect(try a.replica.snapshot() == b.replica.snapshot())
    }

    @Test func aLaterDeleteBeatsAnEarlierEditAndViceVersa() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let a = try TestReplica(daemon: daemon, token: token)
        let b = try TestReplica(daemon: daemon, token: token)
        _ = try a.replica.importExcerpts([sample[2]])
        let n1 = try a.replica.addNote(excerptID: sample[2].id, body: "one")
        let n2 = try a.replica.addNote(excerptID: sample[2].id, body: "two")
        try await a.sync()
        try await b.sync()
        // n1: edit on A, later delete on B → deleted. n2: delete on A, later edit on B → the
        // edit is a different field: body changes, the tombstone stays (deletion is its own field)
        _ = try a.replica.editNote(id: n1.id, body: "one, edited")
        try a.replica.removeNote(id: n2.id)
        try await Task.sleep(for: .milliseconds(5))
        try b.replica.removeNote(id: n1.id)
        _ = try b.replica.editNote(id: n2.id, body: "two, edited")
        try await a.sync()
        try await b.sync()
        try await a.sync()
        for r in [a, b] {
            #expect(try r.replica.notes(excerptID: sample[2].id).isEmpty)
            #expect(try r.replica.history(noteID: n1.id).contains { $0.value == "one, edited" })
            #expect(try r.replica.note(id: n2.id)?.body == "two, edited")
        }
        #expect(try a.replica.snapshot() == b.replica.snapshot())
    }

    @Test func aMachineAnHourBehindWinsWithAnEditMadeAfterItSynced() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let correct = try TestReplica(daemon: daemon, token: token)
        let slow = try TestReplica(daemon: daemon, token: token, offsetMillis: -3_600_000)
        _ = try correct.replica.importExcerpts([sample[0]])
        let note = try correct.replica.addNote(excerptID: sample[0].id, body: "from the correct clock")
        try await correct.sync()
        try await slow.sync()
        // the slow machine's wall clock is an hour behind the stamp it just received, yet its
        // next edit must order after it
        _ = try slow.replica.editNote(id: note.id, body: "edited after syncing, on the slow machine")
        try await slow.sync()
        try await correct.sync()
        #expect(try correct.replica.note(id: note.id)?.body == "edited after syncing, on the slow machine")
        #expect(try slow.replica.note(id: note.id)?.body == "edited after syncing, on the slow machine")
    }

    @Test func stampsTooFarAheadAreRefusedAndNothingIsLost() async throws {
        let daemon = try Daemon(maxSkewSeconds: 300)
        let token = try daemon.addUser("alice")
        let fast = try TestReplica(daemon: daemon, token: token, offsetMillis: 3_600_000)
        _ = try fast.replica.importExcerpts([sample[0]])
        _ = try fast.replica.addNote(excerptID: sample[0].id, body: "from the future")
        await #expect {
            try await fast.sync()
        } throws: { error in
            let text = "\(error)"
            return text.contains("clock_skew") && text.contains(fast.replica.replicaID) && text.contains("ahead")
        }
        #expect(try fast.replica.status().pending == 2)
        // once its clock is fixed, the queued change is still stamped in the future: the daemon
        // keeps refusing it rather than letting it win every later merge
        fast.clock.set(offset: 0)
        await #expect(throws: SyncClientError.self) { try await fast.sync() }
    }

    @Test func aRepeatedPushChangesNothing() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let a = try TestReplica(daemon: daemon, token: token)
        _ = try a.replica.importExcerpts([sample[0]])
        _ = try a.replica.addNote(excerptID: sample[0].id, body: "once")
        let batch = try a.replica.outboxBatch(limit: 100)
        // the response to the first push is "lost": the replica pushes the same batch again
        for _ in 0..<3 {
            let r = try await rawPost(daemon.url + "/v1/push", token: token, body: try JSONEncoder().encode(PushRequest(changes: batch)))
            #expect(r.status == 200)
            let ack = try JSONDecoder().decode(PushResponse.self, from: r.body)
            #expect(Set(ack.acknowledged) == Set(batch.map(\.id)))
        }
        let server = try Database(path: daemon.database, readOnly: true)
        #expect(try server.first("SELECT COUNT(*), MAX(seq) FROM change_log") { [$0.int(0), $0.int(1)] } == [2, 2])
        let summary = try await a.sync()
        #expect(summary.pushed == 2)
        #expect(summary.pulled == 0)
        #expect(try server.first("SELECT COUNT(*) FROM change_log") { $0.int(0) } == 2)
    }

    @Test func aTicketedPushAnswersOnceAndOnlyToItsPusher() async throws {
        let daemon = try Daemon()
        let alice = try daemon.addUser("alice"), bob = try daemon.addUser("bob")
        let r = try TestReplica(daemon: daemon, token: alice)
        _ = try r.replica.importExcerpts(Array(sample.prefix(3)))
        let body = try JSONEncoder().encode(PushRequest(changes: try r.replica.outboxBatch(limit: 100)))
        let taken = try await rawPost(daemon.url + "/v1/pushes", token: alice, body: body)
        #expect(taken.status == 202)
        let ticket = try JSONDecoder().decode(PushTicket.self, from: taken.body).push
        let outcomeURL = daemon.url + "/v1/pushes/" + ticket
        // another user finds nothing under it, and nobody gets anything without a token
        #expect(try await rawSend(outcomeURL, method: "GET", token: bob).status == 404)
        #expect(try await rawSend(outcomeURL, method: "GET", token: nil).status == 401)
        let outcome = try await rawSend(outcomeURL, method: "GET", token: alice)
        #expect(outcome.status == 200)
        #expect(try JSONDecoder().decode(PushResponse.self, from: outcome.body).acknowledged.count == 3)
        #expect(try await rawSend(outcomeURL, method: "GET", token: alice).status == 404, "an outcome is answered once")
        // a body that does not parse, and a change the daemon rejects, are refused when the
        // outcome is fetched (the batch is parsed after the 202; nothing of either stored)
        let malformed = try await rawPost(daemon.url + "/v1/pushes", token: alice, body: Data("{\"changes\": [{\"kind\": \"tag\"".utf8))
        #expect(malformed.status == 202)
        let unparsed = try await rawSend(
            daemon.url + "/v1/pushes/" + (try JSONDecoder().decode(PushTicket.self, from: malformed.body).push), method: "GET", token: alice)
        #expect(unparsed.status == 400)
        #expect(String(decoding: unparsed.body, as: UTF8.self).contains("bad_json"))
        // a body the daemon cannot read is refused at once, without a ticket
        #expect(try await rawPost(daemon.url + "/v1/pushes", token: alice, body: body, headers: ["Content-Encoding": "br"]).status == 415)
        let ahead = Stamp(wall: Replica.systemNow() + 3_600_000, counter: 0, node: "skewed")
        let skewed = try JSONEncoder().encode(PushRequest(changes: [.tag(excerptId: sample[0].id, name: "t", present: true, stamp: ahead, base: nil)]))
        let late = try JSONDecoder().decode(PushTicket.self, from: try await rawPost(daemon.url + "/v1/pushes", token: alice, body: skewed).body).push
        let refused = try await rawSend(daemon.url + "/v1/pushes/" + late, method: "GET", token: alice)
        #expect(refused.status == 400)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("clock_skew"))
        let log = try await rawPost(daemon.url + "/v1/pull", token: alice, body: try JSONEncoder().encode(PullRequest(after: 0)))
        #expect(try JSONDecoder().decode(PullResponse.self, from: log.body).changes.count == 3, "only the first push's three excerpts are stored")
        // at most 32 outcomes wait per user
        var tickets: [String] = []
        for _ in 0..<32 {
            let t = try await rawPost(daemon.url + "/v1/pushes", token: alice, body: body)
            #expect(t.status == 202)
            tickets.append(try JSONDecoder().decode(PushTicket.self, from: t.body).push)
        }
        #expect(try await rawPost(daemon.url + "/v1/pushes", token: alice, body: body).status == 429)
        #expect(try await rawPost(daemon.url + "/v1/pushes", token: bob, body: body).status == 202, "other users are not limited by alice's")
        for t in tickets { #expect(try await rawSend(daemon.url + "/v1/pushes/" + t, method: "GET", token: alice).status == 200) }
    }

    @Test func aDaemonWithoutTicketsIsPushedToInOneRequestPerBatch() async throws {
        let daemon = try Daemon(arguments: ["--no-push-tickets"])
        let token = try daemon.addUser("alice")
        #expect(try await rawPost(daemon.url + "/v1/pushes", token: token, body: Data("{\"changes\":[]}".utf8)).status == 404)
        let a = try TestReplica(daemon: daemon, token: token)
        let b = try TestReplica(daemon: daemon, token: token)
        _ = try a.replica.importExcerpts(Array(sample.prefix(5)))
        _ = try a.replica.addNote(excerptID: sample[0].id, body: "pushed without a ticket")
        let client = try SyncClient(replica: a.replica, url: daemon.url, token: token, timeout: 20)
        client.pushBatch = 2  // three batches, two in flight, each falling back to POST /v1/push
        #expect(try await client.sync().pushed == 6)
        #expect(try a.replica.status().pending == 0)
        #expect(try await b.sync().pulled == 6)
        #expect(try b.replica.notes().map(\.body) == ["pushed without a ticket"])
    }

    @Test func longExcerptsArePushedInBatchesBoundedBySize() async throws {
        // 2,000 excerpts of 20 KB would make one 40 MB batch, over the daemon's 32 MiB body limit:
        // a batch also ends at a size (a small one here, so that the test stays small)
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let a = try TestReplica(daemon: daemon, token: token)
        let b = try TestReplica(daemon: daemon, token: token)
        let long = (0..<12).map { i in
            Excerpt(text: String(repeating: "Long passage \(i). ", count: 1500), citation: sample[i].citation, compilation: "")
        }
        _ = try a.replica.importExcerpts(long)
        _ = try a.replica.addNote(excerptID: long[0].id, body: "after the excerpts")
        let maxBytes = 64 * 1024
        var position = OutboxPosition()
        var batches: [OutboxBatch] = []
        for _ in 0..<20 {
            let batch = try a.replica.outboxJSONBatch(limit: 2_000, maxBytes: maxBytes, after: position)
            if batch.isEmpty { break }
            batches.append(batch)
            position = batch.end
        }
        #expect(batches.count >= 4)
        for batch in batches { #expect(batch.changes.dropLast().map(\.json.count).reduce(0, +) < maxBytes) }
        let ids = batches.flatMap { $0.changes.map(\.id) }
        #expect(ids.count == 13 && Array(ids.prefix(12)) == long.map { Change.excerpt($0).id }, "the whole outbox, excerpts first, in order")
        // through the daemon, with the client's bound set to the same size (the replica's batches
        // are checked above; the client passes its bound to them)
        let client = try SyncClient(replica: a.replica, url: daemon.url, token: token, timeout: 20)
        client.pushBatchBytes = maxBytes
        #expect(try await client.sync().pushed == 13)
        #expect(try a.replica.status().pending == 0)
        #expect(try await b.sync().pulled == 13)
        #expect(try b.replica.notes().map(\.body) == ["after the excerpts"])
    }

    @Test func aPullSkipsOnlyWhatTheSameSyncPushed() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let a = try TestReplica(daemon: daemon, token: token)
        let b = try TestReplica(daemon: daemon, token: token)
        _ = try a.replica.importExcerpts(Array(sample.prefix(3)))
        // the daemon says where a push landed in the log
        let mine = try a.replica.outboxBatch(limit: 100)
        let pushed = try await rawPost(daemon.url + "/v1/push", token: token, body: try JSONEncoder().encode(PushRequest(changes: mine)))
        let logged = try JSONDecoder().decode(PushResponse.self, from: pushed.body).logged
        #expect(logged == [[1, 3]])
        // another device's change lands after it
        _ = try b.replica.importExcerpts([sample[5]])
        _ = try await b.sync()
        func pull(_ request: PullRequest) async throws -> (status: Int, page: PullResponse?) {
            let r = try await rawPost(daemon.url + "/v1/pull", token: token, body: try JSONEncoder().encode(request))
            return (r.status, r.status == 200 ? try JSONDecoder().decode(PullResponse.self, from: r.body) : nil)
        }
        // skipped runs leave the page but not the cursor; what is not in them still comes
        let skipped = try await pull(PullRequest(after: 0, skip: [[1, 3]]))
        #expect(skipped.page?.changes.map(\.seq) == [4])
        #expect(skipped.page?.cursor == 4)
        let middle = try await pull(PullRequest(after: 0, skip: [[2, 2]]))
        #expect(middle.page?.changes.map(\.seq) == [1, 3, 4])
        #expect(try await pull(PullRequest(after: 0)).page?.changes.count == 4)
        // a run that starts at the cursor is jumped over before the page is read
        let jumped = try await pull(PullRequest(after: 0, limit: 1, skip: [[1, 3]]))
        #expect(jumped.page?.changes.map(\.seq) == [4] && jumped.page?.more == false)
        let split = try await pull(PullRequest(after: 0, limit: 2, skip: [[2, 3]]))
        #expect(split.page?.changes.map(\.seq) == [1] && split.page?.cursor == 2 && split.page?.more == true)
        // a page followed only by skipped runs is the last: its cursor moves past them
        let ending = try await pull(PullRequest(after: 0, limit: 3, skip: [[4, 4]]))
        #expect(ending.page?.changes.map(\.seq) == [1, 2, 3] && ending.page?.cursor == 4 && ending.page?.more == false)
        let notLast = try await pull(PullRequest(after: 0, limit: 2, skip: [[3, 3]]))
        #expect(notLast.page?.changes.map(\.seq) == [1, 2] && notLast.page?.cursor == 2 && notLast.page?.more == true)
        // malformed ranges are refused
        #expect(try await pull(PullRequest(after: 0, skip: [[3, 1]])).status == 400)
        #expect(try await pull(PullRequest(after: 0, skip: [[0, 1]])).status == 400)
        #expect(try await pull(PullRequest(after: 0, skip: Array(repeating: [1, 1], count: 513))).status == 400)
        // through the client: a sync pushes its changes and downloads only the other device's
        _ = try a.replica.addNote(excerptID: sample[0].id, body: "mine")
        // (the three excerpts sent by hand above are still queued here: the daemon acknowledges
        // them again as duplicates, logs nothing new for them, and only the note is skipped)
        let summary = try await a.sync()
        #expect(summary.pushed == 4)
        // (sequence numbers may have gaps: the duplicates' inserts drew numbers they did not keep)
        let last = try Database(path: daemon.database, readOnly: true).first("SELECT MAX(seq) FROM change_log") { $0.int(0) }
        #expect(try a.replica.syncCursor == last)
        _ = try await b.sync()
        #expect(try a.replica.snapshot() == b.replica.snapshot())
    }

    @Test func theDaemonDownKeepsTheOutboxAndTheNextSyncResumes() async throws {
        let dir = TestSupport.tempDir("restart")
        var daemon: Daemon? = try Daemon(database: dir + "/glossd.sqlite")
        let token = try daemon!.addUser("alice")
        let a = try TestReplica(daemon: daemon!, token: token)
        _ = try a.replica.importExcerpts(Array(sample.prefix(10)))
        daemon!.stop()
        #expect(daemon!.process.terminationReason == .exit, "SIGTERM shuts glossd down gracefully")
        #expect(daemon!.process.terminationStatus == 0)
        await #expect {
            try await a.sync()
        } throws: { error in
            "\(error)".contains("cannot reach the daemon") && "\(error)".contains("10 change(s) stay queued")
        }
        #expect(try a.replica.status().pending == 10)
        // same database, new process (and a new port)
        daemon = try Daemon(database: dir + "/glossd.sqlite")
        let b = try TestReplica(daemon: daemon!, token: token)
        try a.replica.setRemote(url: daemon!.url, token: token)
        let resumed = try await SyncClient(replica: a.replica, url: daemon!.url, token: token).sync()
        #expect(resumed.pushed == 10)
        #expect(try a.replica.status().pending == 0)
        #expect(try await b.sync().pulled == 10)
    }

    @Test func usersAreIsolatedAndTokensChecked() async throws {
        let daemon = try Daemon()
        let alice = try daemon.addUser("alice")
        let bob = try daemon.addUser("bob")
        let a = try TestReplica(daemon: daemon, token: alice)
        _ = try a.replica.importExcerpts([sample[0]])
        _ = try a.replica.addNote(excerptID: sample[0].id, body: "alice's private note")
        try await a.sync()
        let b = try TestReplica(daemon: daemon, token: bob)
        #expect(try await b.sync().pulled == 0)
        #expect(try b.replica.status().excerpts == 0)
        // missing, malformed and revoked tokens
        let pull = try JSONEncoder().encode(PullRequest(after: 0))
        #expect(try await rawPost(daemon.url + "/v1/pull", token: nil, body: pull).status == 401)
        #expect(try await rawPost(daemon.url + "/v1/pull", token: "gloss_" + String(repeating: "0", count: 64), body: pull).status == 401)
        let second = try daemon.glossd("token", "add", "alice", "--label", "phone", "--json")
        let phone = try second.json([String: String].self)["token"]!
        #expect(try await rawPost(daemon.url + "/v1/pull", token: phone, body: pull).status == 200)
        #expect(try daemon.glossd("token", "revoke", "alice", "--label", "phone").status == 0)
        let revoked = try await rawPost(daemon.url + "/v1/pull", token: phone, body: pull)
        #expect(revoked.status == 401)
        #expect(String(decoding: revoked.body, as: UTF8.self).contains("\"code\":\"unauthenticated\""))
        #expect(try await rawPost(daemon.url + "/v1/pull", token: alice, body: pull).status == 200)
        // tokens are stored only as hashes
        let server = try Database(path: daemon.database, readOnly: true)
        let hashes = try server.query("SELECT token_hash FROM device_token") { $0.text(0) }
        #expect(!hashes.contains(alice) && hashes.contains(GlossServer.Tokens.hash(alice)))
    }

    @Test func limitsAndMalformedBodiesGetJSONErrors() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let cases: [(String, Data, Int, String)] = [
            ("/v1/pull", Data("{\"after\": 0, \"limit\": 100000}".utf8), 400, "bad_page_size"),
            ("/v1/pull", Data("{\"after\": \"x\"}".utf8), 400, "bad_json"),
            ("/v1/push", Data("{\"changes\": [".utf8), 400, "bad_json"),
            ("/v1/push", Data("{\"changes\": [{\"kind\": \"tag\"}]}".utf8), 400, "bad_json"),
            ("/v1/push", Data(String(repeating: "[", count: 100_000).utf8), 400, "bad_json"),
            ("/v1/push", Data(repeating: 0x20, count: 33 * 1024 * 1024), 413, "body_too_large"),
            ("/v1/nope", Data(), 404, "not_found"),
        ]
        for (path, body, status, code) in cases {
            let r = try await rawPost(daemon.url + path, token: token, body: body)
            #expect(r.status == status, "\(path) \(code)")
            let error = try? JSONDecoder().decode(ErrorBody.self, from: r.body)
            #expect(error?.error.code == code, "\(path): \(String(decoding: r.body.prefix(200), as: UTF8.self))")
        }
        let health = try await rawGet(daemon.url + "/healthz")
        #expect(health == 200, "the daemon is still healthy")
    }

    /// glossd stores a pushed change's bytes as sent when they are the canonical JSON: a body
    /// that lists changes twice must not get the first list's bytes stored for the second's
    /// changes (a change nobody validated would be served under another's id).
    @Test func aPushListingChangesTwiceStoresOnlyWhatItCounts() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let stamp = Stamp(wall: 1_700_000_000_000, counter: 0, node: "r1")
        let counted = Change.tag(excerptId: String(repeating: "a", count: 32), name: "kept", present: true, stamp: stamp, base: nil)
        let ignored = Change.tag(excerptId: String(repeating: "b", count: 32), name: "smuggled", present: true, stamp: stamp, base: nil)
        let body = "{\"changes\":[\(ChangeWriter.json(ignored))],\"changes\":[\(ChangeWriter.json(counted))]}"
        let pushed = try await rawPost(daemon.url + "/v1/push", token: token, body: Data(body.utf8))
        #expect(pushed.status == 200, "\(String(decoding: pushed.body, as: UTF8.self))")
        let pulled = try await rawPost(daemon.url + "/v1/pull", token: token, body: Data("{\"after\":0}".utf8))
        let page = try ChangeReader.pullResponse(Array(pulled.body))
        #expect(page.changes.map(\.change) == [counted])
        #expect(!String(decoding: pulled.body, as: UTF8.self).contains("smuggled"))
    }
}


struct RawResponse {
    var status: Int
    var body: Data
}

func rawPost(_ url: String, token: String?, body: Data, headers: [String: String] = [:]) async throws -> RawResponse {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = "POST"
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    request.httpBody = body
    request.timeoutInterval = 30
    let (data, response) = try await URLSession.shared.data(for: request)
    return RawResponse(status: (response as! HTTPURLResponse).statusCode, body: data)
}

func rawSend(_ url: String, method: String, token: String?) async throws -> RawResponse {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    request.timeoutInterval = 30
    let (data, response) = try await URLSession.shared.data(for: request)
    return RawResponse(status: (response as! HTTPURLResponse).statusCode, body: data)
}

func rawGet(_ url: String) async throws -> Int {
    let (_, response) = try await URLSession.shared.data(from: URL(string: url)!)
    return (response as! HTTPURLResponse).statusCode
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
