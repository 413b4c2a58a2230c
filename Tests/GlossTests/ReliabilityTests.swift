import Foundation
import GlossModel
import GlossReplica
import GlossSQLite
import GlossSyncClient
import Testing

/// Crashes, restarts and verification. Bounded: GLOSS_LONG_TESTS=1 runs the 100-run variants.
@Suite(.serialized) struct ReliabilityTests {
    static let long = ProcessInfo.processInfo.environment["GLOSS_LONG_TESTS"] == "1"
    let sample = Sample.parsed.excerpts

    /// A replica (for the CLI) with the corpus and `notes` notes, ready to sync.
    func loadedHome(daemon: Daemon, token: String, notes: Int) throws -> (String, Replica) {
        let home = TestSupport.tempDir("crash")
        let replica = try Replica(home: home)
        _ = try replica.importExcerpts(sample)
        for i in 0..<notes { _ = try replica.addNote(excerptID: sample[i % sample.count].id, body: "note \(i)") }
        for (i, e) in sample.enumerated() where i % 3 == 0 { _ = try replica.setTags(excerptID: e.id, tags: ["t\(i % 4)"], present: true) }
        try replica.setRemote(url: daemon.url, token: token)
        return (home, replica)
    }

    @Test func aDaemonOnATakenPortSaysSoAndExits() throws {
        let first = try Daemon()
        defer { first.stop() }
        let r = try runProcess(
            TestSupport.binDir.appendingPathComponent("glossd").path,
            ["serve", "--database", TestSupport.tempDir() + "/other.sqlite", "--host", "127.0.0.1", "--port", String(first.port)], timeout: 30)
        #expect(r.status != 0)
        #expect(r.stderr.contains("cannot listen on 127.0.0.1:\(first.port): the port is in use"), "\(r.stderr)")
    }

    @Test func aDaemonStoppedRightAfterAPushLeavesItsDatabaseFileWhole() async throws {
        // stopped within its checkpoint's idle second, glossd left everything it had stored in
        // the WAL: a copy of the database file alone (a backup) held none of it
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let laptop = try TestReplica(daemon: daemon, token: token)
        _ = try laptop.replica.importExcerpts(Array(sample.prefix(40)))
        for e in sample.prefix(40) { _ = try laptop.replica.addNote(excerptID: e.id, body: "read \(e.id.prefix(6))") }
        #expect(try await laptop.sync().pushed == 80)
        daemon.stop()  // SIGTERM at once
        let wal = (try? FileManager.default.attributesOfItem(atPath: daemon.database + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0, "the WAL still holds \(wal) bytes")
        let copy = TestSupport.tempDir("backup") + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: daemon.database, toPath: copy)
        let db = try Database(path: copy)
        #expect(try db.first("SELECT COUNT(*) FROM change_log") { $0.int(0) } == 80)

        // killed (no chance to copy anything back): the next daemon copies the WAL it finds
        // into the file once idle, without a request
        let second = try Daemon(database: daemon.database)
        let desk = try TestReplica(daemon: second, token: token)
        #expect(try await desk.sync().pulled == 80)
        for e in sample.prefix(30) { _ = try desk.replica.addNote(excerptID: e.id, body: "desk") }
        #expect(try await desk.sync().pushed == 30)
        kill(second.process.processIdentifier, SIGKILL)
        second.process.waitUntilExit()
        let third = try Daemon(database: daemon.database)
        defer { third.stop() }
        func rowsInTheFileAlone() throws -> Int64? {
            let copy = TestSupport.tempDir("backup") + "/copy.sqlite"
            try FileManager.default.copyItem(atPath: daemon.database, toPath: copy)
            return try? Database(path: copy).first("SELECT COUNT(*) FROM change_log") { $0.int(0) }
        }
        let expected: Int64 = 80 + 30
        var rows = try rowsInTheFileAlone()
        for _ in 0..<100 {
            if rows == expected { break }
            try await Task.sleep(for: .milliseconds(100))
            rows = try rowsInTheFileAlone()
        }
        #expect(rows == expected)
    }

    @Test func killingTheClientMidSyncLosesAndDuplicatesNothing() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let (home, replica) = try loadedHome(daemon: daemon, token: token, notes: 1500)
        let expected = try replica.status().pending
        var rng = SeededRandom(seed: 777)
        let runs = Self.long ? 100 : 15
        var killed = 0
        for _ in 0..<runs {
            let p = Process()
            p.executableURL = TestSupport.binDir.appendingPathComponent("gloss")
            p.arguments = ["sync", "--home", home]
            p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            usleep(UInt32.random(in: 5_000...120_000, using: &rng))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                killed += 1
            }
            p.waitUntilExit()
            // edit between crashes too
            _ = try replica.addNote(excerptID: sample[Int.random(in: 0..<sample.count, using: &rng)].id, body: "between crashes")
        }
        #expect(killed > 0, "at least some syncs were killed mid-way")
        print("reliability: client SIGKILLed mid-sync in \(killed) of \(runs) runs; \(expected + runs) changes expected")
        let final = try gloss(home, "sync", "--json")
        #expect(final.status == 0, "\(final.stderr)")
        #expect(try replica.status().pending == 0)
        // the daemon holds every change exactly once
        let server = try Database(path: daemon.database, readOnly: true)
        let logged = try server.first("SELECT COUNT(*), COUNT(DISTINCT change_id) FROM change_log") { [$0.int(0), $0.int(1)] }!
        #expect(logged[0] == logged[1])
        #expect(logged[0] == Int64(expected + runs))
        // and a fresh replica gets exactly the same state
        let other = try TestReplica(daemon: daemon, token: token)
        try await other.sync()
        #expect(try other.replica.snapshot().notes == replica.snapshot().notes)
        #expect(try other.replica.snapshot().tags == replica.snapshot().tags)
        #expect(try other.replica.status().excerpts == sample.count)
        let report = try await SyncClient(replica: replica, url: daemon.url, token: token).verify(repair: false)
        #expect(report.consistent)
    }

    @Test func killingTheDaemonMidPushAndPullLosesAndDuplicatesNothing() async throws {
        let dir = TestSupport.tempDir("daemon-crash")
        let database = dir + "/glossd.sqlite"
        var daemon = try Daemon(database: database)
        let token = try daemon.addUser("alice")
        let writer = try TestReplica(daemon: daemon, token: token)
        _ = try writer.replica.importExcerpts(sample)
        let reader = try TestReplica(daemon: daemon, token: token)
        var rng = SeededRandom(seed: 4242)
        let runs = Self.long ? 100 : 12
        var interrupted = 0
        for round in 0..<runs {
            for i in 0..<150 { _ = try writer.replica.addNote(excerptID: sample[(round * 7 + i) % sample.count].id, body: "r\(round) n\(i)") }
            let url = daemon.url
            let push = Task { try await SyncClient(replica: writer.replica, url: url, token: token, timeout: 5).sync() }
            let pull = Task { try await SyncClient(replica: reader.replica, url: url, token: token, timeout: 5).sync() }
            usleep(UInt32.random(in: 1_000...60_000, using: &rng))
            kill(daemon.process.processIdentifier, SIGKILL)
            daemon.process.waitUntilExit()
            if (try? await push.value) == nil { interrupted += 1 }
            _ = try? await pull.value
            daemon = try Daemon(database: database)
        }
        #expect(interrupted > 0, "some pushes were cut off by the crash")
        print("reliability: daemon SIGKILLed in \(runs) runs, \(interrupted) pushes cut off; \(sample.count + runs * 150) changes expected")
        let final = try await SyncClient(replica: writer.replica, url: daemon.url, token: token).sync()
        #expect(final.pushed >= 0)
        _ = try await SyncClient(replica: reader.replica, url: daemon.url, token: token).sync()
        #expect(try writer.replica.status().pending == 0)
        #expect(try reader.replica.snapshot() == writer.replica.snapshot())
        #expect(try reader.replica.notes().count == runs * 150)
        let server = try Database(path: database, readOnly: true)
        let logged = try server.first("SELECT COUNT(*), COUNT(DISTINCT change_id) FROM change_log") { [$0.int(0), $0.int(1)] }!
        #expect(logged[0] == logged[1])
        #expect(logged[0] == Int64(sample.count + runs * 150))
    }

    @Test func verifyFindsDamageExactlyAndRepairsItInPlace() async throws {
        let daemon = try Daemon()
        let token = try daemon.addUser("alice")
        let a = try TestReplica(daemon: daemon, token: token)
        _ = try a.replica.importExcerpts(Array(sample.prefix(20)))
        let note = try a.replica.addNote(excerptID: sample[0].id, body: "the true text")
        _ = try a.replica.setTags(excerptID: sample[1].id, tags: ["kept"], present: true)
        let b = try TestReplica(daemon: daemon, token: token)
        try await a.sync()
        try await b.sync()
        let client = try SyncClient(replica: b.replica, url: daemon.url, token: token)
        #expect(try await client.verify(repair: false).consistent)
        // damage b behind its back: a changed body (same stamp), a lost tag, a lost excerpt
        try b.replica.db.execute("UPDATE note SET body = 'garbled' WHERE id = '\(note.id)'")
        try b.replica.db.execute("DELETE FROM tag WHERE name = 'kept'")
        try b.replica.db.execute("DELETE FROM excerpt WHERE id = '\(sample[7].id)'")
        let report = try await client.verify(repair: false)
        #expect(!report.consistent)
        let items = Set(report.differences.map { "\($0.kind) \($0.item)" })
        #expect(items == [
            "different note.body:\(note.id)", "missing-here tag:\(sample[1].id):kept", "missing-here excerpt:\(sample[7].id)",
        ])
        let repaired = try await client.verify(repair: true)
        #expect(repaired.consistent && repaired.repaired)
        #expect(try b.replica.note(id: note.id)?.body == "the true text")
        #expect(try b.replica.tags(of: sample[1].id) == ["kept"])
        #expect(try b.replica.excerpt(id: sample[7].id) != nil)
        #expect(try b.replica.snapshot().notes == a.replica.snapshot().notes)
        // the CLI says so too, with exit status 0 when consistent
        let cli = try gloss(b.replica.home, "verify", "--json")
        #expect(cli.status == 0, "\(cli.stderr)")
    }
}
