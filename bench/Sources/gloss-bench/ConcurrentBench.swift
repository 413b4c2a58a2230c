import Foundation
import GlossCorpus
import GlossReplica

/// Many clients syncing at once against one glossd (SQLite), each sync a real `gloss sync`
/// process: users with five devices each; every round, each device writes its share of
/// annotations (untimed), then all devices sync at the same moment (timed). Reports throughput
/// (changes pushed per second of wall time), per-sync latency p50/p99, glossd RSS under load, and
/// checks that every user's devices end identical.
enum ConcurrentBench {
    static func run(glossd: String, gloss: String, clients: Int, changes: Int, rounds: Int) async throws {
        let dir = NSTemporaryDirectory() + "gloss-bench-concurrent-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try SyncBench.startDaemon(glossd: glossd, dir: dir, createUser: false)
        defer { daemon.process.terminate(); daemon.process.waitUntilExit() }
        let pid = daemon.process.processIdentifier
        let devicesPerUser = min(5, clients)
        let users = (clients + devicesPerUser - 1) / devicesPerUser
        var tokens: [String] = []
        for u in 0..<users { tokens.append(try SyncBench.addUser(glossd: glossd, db: daemon.database, name: "user\(u)")["token"]!) }
        print("\(clients) clients (\(users) users × \(devicesPerUser) devices), \(changes) changes each in \(rounds) rounds; glossd RSS idle \(SyncBench.rssKB(pid) / 1024) MB")

        // every device starts with the same 1,000 excerpts, synced before the clock starts
        var generator = CorpusGenerator(seed: 3, sources: 20)
        let corpus = try CompilationParser().parse(generator.corpus(excerpts: 1_000))
        let ids = corpus.excerpts.map(\.id)
        var replicas: [Replica] = []
        for c in 0..<clients {
            let r = try Replica(home: "\(dir)/device\(c)")
            _ = try r.importExcerpts(corpus.excerpts)
            try r.setRemote(url: daemon.url, token: tokens[c % users])
            replicas.append(r)
        }
        for _ in 0..<2 { _ = try syncAll(gloss: gloss, homes: replicas.map(\.home), concurrently: false, pid: pid) }

        var rng = SplitMix(seed: 2024)
        var latencies: [Double] = []
        var wall = 0.0
        var peakRSS = 0
        let perRound = changes / rounds
        for round in 0..<rounds {
            for (c, r) in replicas.enumerated() {
                for i in 0..<perRound {
                    let e = ids[Int(rng.next() % UInt64(ids.count))]
                    if i % 2 == 0 {
                        _ = try r.addNote(excerptID: e, body: "Device \(c) round \(round) note \(i): check the date against the record.")
                    } else {
                        _ = try r.setTags(excerptID: e, tags: ["d\(c)r\(round)i\(i)"], present: true)
                    }
                }
            }
            let result = try syncAll(gloss: gloss, homes: replicas.map(\.home), concurrently: true, pid: pid)
            latencies += result.latencies
            wall += result.wall
            peakRSS = max(peakRSS, result.peakRSS)
        }
        // settle, then every user's devices must hold the same state
        for _ in 0..<2 { _ = try syncAll(gloss: gloss, homes: replicas.map(\.home), concurrently: false, pid: pid) }
        for u in 0..<users {
            let devices = stride(from: u, to: clients, by: users).map { replicas[$0] }
            let first = try devices[0].snapshot()
            for d in devices.dropFirst() where try d.snapshot() != first { fail("user\(u)'s devices differ after the concurrent run") }
            if u == 0 { print("user0's devices identical: \(first.notes.count) notes, \(first.tags.count) tags") }
        }
        latencies.sort()
        let pushed = Double(clients * perRound * rounds)
        // every change reaches the user's other devices (the convergence check above holds)
        let delivered = pushed * Double(devicesPerUser - 1)
        let p50 = SyncBench.percentile(latencies, 0.5), p99 = SyncBench.percentile(latencies, 0.99)
        print(String(format: "%d clients syncing at once, %.0f changes pushed and %.0f pulled by sibling devices in %d rounds: %.2f s of sync wall time = %.0f changes pushed/s (%.0f pulled/s); sync latency p50 %.0f ms p99 %.0f ms (%d syncs); glossd RSS peak under load %d MB",
                     clients, pushed, delivered, rounds, wall, pushed / wall, delivered / wall, p50, p99, latencies.count, peakRSS / 1024))
        Results.record("concurrent.pulled", delivered / wall, "changes/s")
        Results.record("concurrent.throughput", pushed / wall, "changes/s")
        Results.record("concurrent.p50", p50, "ms")
        Results.record("concurrent.p99", p99, "ms")
        Results.record("concurrent.rss_peak", Double(peakRSS) / 1024, "MB")
        Results.record("concurrent.clients", Double(clients), "")
        Results.record("concurrent.changes", Double(changes), "")
        Results.record("concurrent.rounds", Double(rounds), "")
    }

    /// Runs `gloss sync` for every home (all at once, or one after another); returns each
    /// process's wall time in ms, the wall time of the whole round in s and glossd's peak RSS.
    static func syncAll(gloss: String, homes: [String], concurrently: Bool, pid: Int32) throws -> (latencies: [Double], wall: Double, peakRSS: Int) {
        var started: [pid_t: UInt64] = [:]
        var latencies: [Double] = []
        var peak = SyncBench.rssKB(pid)
        let begin = DispatchTime.now().uptimeNanoseconds
        func reap(blocking: Bool) -> Bool {
            var status: Int32 = 0
            let child = waitpid(-1, &status, blocking ? 0 : WNOHANG)
            guard child > 0, let t0 = started.removeValue(forKey: child) else { return false }
            if (status >> 8) & 0xFF != 0 { fail("gloss sync failed with status \((status >> 8) & 0xFF)") }
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            return true
        }
        for home in homes {
            started[launch("\(gloss) sync --home \(home)")] = DispatchTime.now().uptimeNanoseconds
            if !concurrently { _ = reap(blocking: true) }
        }
        var lastSample = DispatchTime.now().uptimeNanoseconds
        let deadline = begin + 600 * 1_000_000_000
        while !started.isEmpty {
            if !reap(blocking: false) { usleep(500) }
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastSample > 50_000_000 {
                peak = max(peak, SyncBench.rssKB(pid))
                lastSample = now
            }
            if now > deadline { fail("clients still syncing after 10 minutes") }
        }
        peak = max(peak, SyncBench.rssKB(pid))
        return (latencies, Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9, peak)
    }
}
