import Foundation
import GlossCorpus
import GlossModel
import GlossReplica
import GlossSyncClient

/// Push, bootstrap pull and incremental sync against a real glossd process on loopback.
enum SyncBench {
    struct Daemon {
        let process: Process
        let url: String
        let token: String
        let database: String
    }

    static func startDaemon(glossd: String, dir: String, database: String? = nil, createUser: Bool = true) throws -> Daemon {
        let db = database ?? dir + "/glossd.sqlite"
        var json: [String: String] = ["token": ""]
        if createUser { json = try addUser(glossd: glossd, db: db) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: glossd)
        p.arguments = ["serve", "--database", db, "--port", "0"]
        p.environment = ["GLOSSD_LOG_LEVEL": "warning"]
        let serveOut = Pipe()
        p.standardOutput = serveOut
        try p.run()
        var buffer = Data()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !String(decoding: buffer, as: UTF8.self).contains("\n") {
            let chunk = serveOut.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self).split(separator: "\n").first ?? ""
        guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else { fail("glossd did not start: \(line)") }
        return Daemon(process: p, url: "http://127.0.0.1:\(port)", token: json["token"]!, database: db)
    }

    static func addUser(glossd: String, db: String, name: String = "bench") throws -> [String: String] {
        let add = Process()
        add.executableURL = URL(fileURLWithPath: glossd)
        add.arguments = ["user", "add", name, "--database", db, "--json"]
        let out = Pipe()
        add.standardOutput = out
        try add.run()
        add.waitUntilExit()
        return try JSONDecoder().decode([String: String].self, from: out.fileHandleForReading.readDataToEndOfFile())
    }

    /// Every change of the user, page by page from the start, read and decoded by the sync
    /// client's own code (`SyncClient.readPage`), counted and dropped. `scratch` holds the empty
    /// replica the client needs.
    static func readAllPages(url: String, token: String, limit: Int, scratch: String) async throws -> Int {
        let client = try SyncClient(replica: try Replica(home: scratch), url: url, token: token)
        client.pullPage = limit
        var after: Int64 = 0
        var count = 0
        while true {
            let page = try await client.readPage(after: after)
            count += page.changes.count
            after = page.cursor
            if !page.more { return count }
        }
    }

    static func seconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Each of `runs` rounds once per mode, numbered in order: (0, modes[0]), (1, modes[1]), …
    static func numbered(_ runs: Int, _ modes: [Bool]) -> [(Int, Bool)] {
        (0..<runs).flatMap { r in modes.enumerated().map { (modes.count * r + $0.offset, $0.element) } }
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// "3 runs: 1.02 1.10 0.98 s" for the log.
    static func times(_ xs: [Double], unit: String = "s") -> String {
        "\(xs.count) run(s): " + xs.map { String(format: unit == "s" ? "%.2f" : "%.1f", $0) }.joined(separator: " ") + " " + unit
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    static func rssKB(_ pid: Int32) -> Int { procField(pid, "status", "VmRSS:") }

    /// Bytes a process has written through write(2) and friends so far (`wchar` in /proc/PID/io).
    static func writtenBytes(_ pid: Int32) -> Int { procField(pid, "io", "wchar:") }

    /// The number after `key` in /proc/PID/FILE (0 when the process or the line is gone).
    static func procField(_ pid: Int32, _ file: String, _ key: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// The same bootstrap by a `gloss sync` process (the gloss binary beside glossd), for its peak
    /// memory: pages are applied as they arrive, so it should not grow with the size of the sync.
    static func clientBootstrapMemory(glossd: String, home: String, url: String, token: String, key: String) {
        let gloss = URL(fileURLWithPath: glossd).deletingLastPathComponent().appendingPathComponent("gloss").path
        guard FileManager.default.isExecutableFile(atPath: gloss) else { return }
        let (seconds, mb) = processBootstrap(gloss: gloss, home: home, url: url, token: token)
        print(String(format: "bootstrap by a gloss sync process: %.2f s, peak RSS %.0f MB", seconds, mb))
        Results.record("\(key).client_bootstrap", seconds, "s")
        Results.record("\(key).client_rss_bootstrap", mb, "MB")
        // then a sync with nothing to move, as a scheduler or a script runs it: a new process each
        var noop: [Double] = []
        for _ in 0..<30 {
            let start = DispatchTime.now().uptimeNanoseconds
            guard spawn("\(gloss) sync --home \(home)") == 0 else { fail("gloss sync failed") }
            noop.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        print(String(format: "gloss sync with nothing to move, a new process: median %.1f ms of ", median(noop)) + times(noop, unit: "ms"))
        Results.record("\(key).noop_sync", median(noop), "ms")
    }

    /// A bootstrap of `url`'s data into the empty replica `home` by a `gloss sync` process: its
    /// wall time in s and its peak RSS in MB (through /usr/bin/time: wait4's ru_maxrss of a
    /// posix_spawn child counts the spawning process's memory too, as the child shares it until
    /// exec, here hundreds of MB).
    static func processBootstrap(gloss: String, home: String, url: String, token: String) -> (seconds: Double, mb: Double) {
        guard spawn("\(gloss) remote set \(url) --token \(token) --home \(home)") == 0 else { fail("gloss remote set failed") }
        var status: Int32 = 0
        let start = DispatchTime.now().uptimeNanoseconds
        waitpid(launch("/usr/bin/time -f %M -o \(home)/peak-rss \(gloss) sync --home \(home)"), &status, 0)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0,
            let kb = (try? String(contentsOfFile: home + "/peak-rss", encoding: .utf8)).flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        else { fail("gloss sync failed (wait status \(status))") }
        return (seconds, kb / 1024)
    }

    /// The bench's annotations: `count` changes, half notes, half tags, on excerpts drawn with a
    /// fixed seed, written through the replica API.
    static func annotate(_ replica: Replica, excerptIDs ids: [String], count: Int) throws {
        var rng = SplitMix(seed: 99)
        for i in 0..<(count / 2) {
            _ = try replica.addNote(excerptID: ids[Int(rng.next() % UInt64(ids.count))], body: "Bench note \(i): compare the testimony with the archive record.")
        }
        var tagged = 0
        while tagged < count - count / 2 {
            let e = ids[Int(rng.next() % UInt64(ids.count))]
            tagged += try replica.setTags(excerptID: e, tags: ["t\(rng.next() % 50)"], present: true).count
        }
    }

    static func run(glossd: String, excerpts n: Int, annotations: Int, incremental: Int, database: String?, daemons: Int, key: String) async throws {
        let dir = NSTemporaryDirectory() + "gloss-bench-sync-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // SQLite: each push is measured `runs` times, each into a new daemon from the same replica
        // snapshot, and the median is reported (PostgreSQL: once, into the database given)
        let runs = database == nil ? 3 : 1
        // GLOSS_BENCH_PUSH_WINDOW=1 measures pushes with one batch in flight (the default is 2)
        let pushWindow = ProcessInfo.processInfo.environment["GLOSS_BENCH_PUSH_WINDOW"].flatMap { Int($0) } ?? 2
        // GLOSS_BENCH_TICKETS=0 pushes with one POST /v1/push per batch (the default uses tickets)
        let ticketedPush = ProcessInfo.processInfo.environment["GLOSS_BENCH_TICKETS"] != "0"
        // GLOSS_BENCH_PUSH_BATCH=N pushes N changes per batch (the client's default otherwise)
        let pushBatch = ProcessInfo.processInfo.environment["GLOSS_BENCH_PUSH_BATCH"].flatMap { Int($0) }
        var daemon = try startDaemon(glossd: glossd, dir: dir, database: database)
        defer { daemon.process.terminate(); daemon.process.waitUntilExit() }  // the last one started
        print("store: \(database == nil ? "SQLite" : "PostgreSQL"), daemons: \(daemons)")
        /// glossd's RSS now, printed and recorded as `KEY.rss_NAME`.
        func reportRSS(_ when: String, _ name: String, of daemon: Daemon) {
            let kb = rssKB(daemon.process.processIdentifier)
            print("glossd RSS \(when): \(kb / 1024) MB")
            Results.record("\(key).rss_\(name)", Double(kb) / 1024, "MB")
        }
        reportRSS("idle", "idle", of: daemon)

        var generator = CorpusGenerator(seed: 1, sources: max(1, n / 50))
        let corpus = try CompilationParser().parse(generator.corpus(excerpts: n))
        let imported = dir + "/snapshot-imported", annotated = dir + "/snapshot-annotated"
        _ = try Replica(home: imported).importExcerpts(corpus.excerpts)  // closed again at once
        // push times by whether the bodies were gzipped
        var excerptTimes: [Bool: [Double]] = [:], annotationTimes: [Bool: [Double]] = [:]
        var pending = 0
        var pushWritten = 0
        var a: Replica!
        var clientA: SyncClient!
        /// The pushing replica, opened from `home`, and its client with the push settings above.
        func pusher(_ home: String, _ daemon: Daemon, gzip: Bool) throws -> (Replica, SyncClient) {
            let replica = try Replica(home: home)
            let client = try SyncClient(replica: replica, url: daemon.url, token: daemon.token)
            client.pushWindow = pushWindow
            client.ticketedPush = ticketedPush
            if gzip { client.compress = true }  // else as a client to a daemon on this machine
            if let pushBatch { client.pushBatch = pushBatch }
            return (replica, client)
        }
        // With SQLite each run pushes as a client does to a daemon on another machine (bodies
        // gzipped), then, into another new daemon, as to a daemon on this one (not gzipped, the
        // client's default on loopback); the last daemon started keeps its data for the pulls
        // below. PostgreSQL (one database, one run) is pushed to as on loopback only.
        for (run, gzip) in numbered(runs, database == nil ? [true, false] : [false]) {
            if run > 0 {
                daemon.process.terminate()
                daemon.process.waitUntilExit()
                let runDir = dir + "/run\(run)"
                try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
                daemon = try startDaemon(glossd: glossd, dir: runDir, database: database)
            }
            let home = dir + "/a\(run)"
            (a, clientA) = (nil, nil)
            try FileManager.default.copyItem(atPath: imported, toPath: home)
            (a, clientA) = try pusher(home, daemon, gzip: gzip)
            excerptTimes[gzip, default: []].append(try await seconds { _ = try await clientA.sync() })
            if run == 0 {
                try annotate(a, excerptIDs: corpus.excerpts.map(\.id), count: annotations)
                pending = try a.status().pending
            }
            // every run pushes the same annotated replica; its excerpts are in this daemon already,
            // with the same sequence numbers (a new daemon logs the same pushes in the same order)
            (a, clientA) = (nil, nil)
            if run == 0 { try FileManager.default.copyItem(atPath: home, toPath: annotated) }
            try FileManager.default.removeItem(atPath: home)
            try FileManager.default.copyItem(atPath: annotated, toPath: home)
            (a, clientA) = try pusher(home, daemon, gzip: gzip)
            let written = writtenBytes(daemon.process.processIdentifier)
            annotationTimes[gzip, default: []].append(try await seconds { _ = try await clientA.sync() })
            pushWritten = writtenBytes(daemon.process.processIdentifier) - written
        }
        for gzip in [false, true] {
            for (byMode, count, what, name) in [(excerptTimes, n, "excerpts", "excerpts"), (annotationTimes, pending, "changes (notes and tags)", "annotations")] {
                guard let pushes = byMode[gzip] else { continue }
                let t = median(pushes)
                print(String(format: "push of %d %@%@: %.2f s (%.0f changes/s), median of ", count, what, gzip ? ", bodies gzipped" : "", t, Double(count) / t) + times(pushes))
                Results.record("\(key).push_\(name)\(gzip ? "_gzip" : "")", Double(count) / t, "changes/s")
            }
        }
        print("glossd RSS after push: \(rssKB(daemon.process.processIdentifier) / 1024) MB; it wrote \(pushWritten / 1_048_576) MB during the last push of notes and tags")
        Results.record("\(key).push_written", Double(pushWritten) / 1_048_576, "MB")
        Results.record("\(key).rss_push", Double(rssKB(daemon.process.processIdentifier)) / 1024, "MB")
        // glossd gives memory back after 2 s without a request (IdleRelease)
        try await Task.sleep(for: .seconds(3))
        reportRSS("3 s after the push", "push_idle", of: daemon)

        // with --daemons 2, readers go through a second daemon on the same database
        var readerDaemon = daemon
        if daemons > 1 {
            let second = try startDaemon(glossd: glossd, dir: dir, database: daemon.database, createUser: false)
            readerDaemon = Daemon(process: second.process, url: second.url, token: daemon.token, database: daemon.database)
        }
        defer { if daemons > 1 { readerDaemon.process.terminate(); readerDaemon.process.waitUntilExit() } }

        var b: Replica!
        var clientB: SyncClient!
        var pulled = 0
        var bootstrapTimes: [Bool: [Double]] = [:]
        for (run, gzip) in numbered(runs, [true, false]) {
            (b, clientB) = (nil, nil)
            b = try Replica(home: dir + "/b\(run)")
            clientB = try SyncClient(replica: b, url: readerDaemon.url, token: daemon.token)
            if gzip { clientB.compress = true }
            bootstrapTimes[gzip, default: []].append(try await seconds { pulled = try await clientB.sync().pulled })
        }
        let bootstrap = median(bootstrapTimes[false]!), gzipBootstrap = median(bootstrapTimes[true]!)
        print(String(format: "bootstrap pull of %d excerpts + %d annotations (%d changes): %.2f s, median of ", n, annotations, pulled, bootstrap) + times(bootstrapTimes[false]!))
        print(String(format: "the same, pages gzipped: %.2f s, median of ", gzipBootstrap) + times(bootstrapTimes[true]!))
        Results.record("\(key).bootstrap", bootstrap, "s")
        Results.record("\(key).bootstrap_rate", Double(pulled) / bootstrap, "changes/s")
        Results.record("\(key).bootstrap_gzip", gzipBootstrap, "s")
        reportRSS("after bootstrap", "bootstrap", of: daemon)
        try await Task.sleep(for: .seconds(3))
        reportRSS("3 s after the bootstrap", "bootstrap_idle", of: daemon)
        // what Kinto's client does with its pull: the same changes over HTTP, decoded, not applied
        var readTimes: [Double] = []
        var read = 0
        for _ in 0..<runs {
            readTimes.append(try await seconds { read = try await readAllPages(url: readerDaemon.url, token: daemon.token, limit: 10_000, scratch: dir + "/read") })
        }
        let readOnly = median(readTimes)
        print(String(format: "pull of the same %d changes, pages of 10000 fetched and decoded, not applied: %.2f s (%.0f changes/s), median of ", read, readOnly, Double(read) / readOnly) + times(readTimes))
        Results.record("\(key).read_rate", Double(read) / readOnly, "changes/s")
        clientBootstrapMemory(glossd: glossd, home: dir + "/c", url: readerDaemon.url, token: daemon.token, key: key)

        // incremental: one edit on A, then A syncs (push 1, pull its echo); B syncs (pull 1)
        let note = try a.notes().first!
        var pushTimes: [Double] = []
        var pullTimes: [Double] = []
        for i in 0..<incremental {
            _ = try a.editNote(id: note.id, body: "edit \(i)")
            pushTimes.append(try await seconds { _ = try await clientA.sync() } * 1000)
            pullTimes.append(try await seconds { _ = try await clientB.sync() } * 1000)
        }
        pushTimes.sort()
        pullTimes.sort()
        print(String(format: "incremental sync, 1 change, %d runs: writer p50 %.2f ms p99 %.2f ms; reader p50 %.2f ms p99 %.2f ms",
                     incremental, percentile(pushTimes, 0.5), percentile(pushTimes, 0.99), percentile(pullTimes, 0.5), percentile(pullTimes, 0.99)))
        Results.record("\(key).incremental_writer_p50", percentile(pushTimes, 0.5), "ms")
        Results.record("\(key).incremental_writer_p99", percentile(pushTimes, 0.99), "ms")
        Results.record("\(key).incremental_reader_p50", percentile(pullTimes, 0.5), "ms")
        Results.record("\(key).incremental_reader_p99", percentile(pullTimes, 0.99), "ms")
        let sizeA = (try FileManager.default.attributesOfItem(atPath: a.path)[.size] as? Int) ?? 0
        if database == nil {
            let sizeS = (try FileManager.default.attributesOfItem(atPath: daemon.database)[.size] as? Int) ?? 0
            print("database sizes: replica \(sizeA / 1_048_576) MB, server \(sizeS / 1_048_576) MB (main files)")
            Results.record("\(key).size_server", Double(sizeS) / 1_048_576, "MB")
        } else {
            print("database sizes: replica \(sizeA / 1_048_576) MB")
        }
        Results.record("\(key).size_replica", Double(sizeA) / 1_048_576, "MB")
    }
}
