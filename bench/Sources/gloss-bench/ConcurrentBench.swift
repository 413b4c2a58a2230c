import Foundation
import GlossCorpus
import GlossReplica

/// Many clients syncing at once against one glossd (SQLite): users with five devices each; every
/// round, each device writes its share of annotations (untimed), then all devices sync at the
/// same moment (timed). Reports throughput (changes pushed per second of wall time), per-sync
/// latency p50/p99, glossd RSS under load, the CPU time glossd and the clients spent in the timed
/// rounds, and checks that every user's devices end identical.
///
/// Two kinds of client, run as separate loads on daemons of their own:
/// - `.processPerSync`: each sync a real `gloss sync` process, as a user or a scheduler runs it;
/// - `.longLived`: each device one `gloss-bench sync-client` process that stays up between rounds
///   and syncs through the same `SyncClient` when told to (the shape of Kinto's clients in
///   bench/kinto_bench.py). Side by side, the two show what starting processes costs the load.
enum ConcurrentBench {
    enum Clients {
        case processPerSync(gloss: String)
        case longLived(bench: String)
    }

    static func run(glossd: String, mode: Clients, clients: Int, changes: Int, rounds: Int) async throws {
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
        let syncer: any Syncer
        switch mode {
        case .processPerSync(let gloss): syncer = ProcessPerSync(gloss: gloss, homes: replicas.map(\.home))
        case .longLived(let bench): syncer = try LongLived(bench: bench, homes: replicas.map(\.home))
        }
        defer { syncer.close() }
        for _ in 0..<2 { _ = try syncer.syncAll(concurrently: false, daemon: pid) }

        var rng = SplitMix(seed: 2024)
        var latencies: [Double] = []
        var wall = 0.0
        var peakRSS = 0
        var clientCPU = 0.0, daemonCPU = 0.0
        let perRound = changes / rounds
        // every change of the load is a new note or a new tag: what the devices hold counts what
        // reached them
        func held() throws -> Int {
            try replicas.reduce(0) { sum, r in sum + Int(try r.db.first("SELECT (SELECT COUNT(*) FROM note) + (SELECT COUNT(*) FROM tag)") { $0.int(0) } ?? 0) }
        }
        let heldBefore = try held()
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
            let daemonBefore = cpuSeconds(pid)
            let result = try syncer.syncAll(concurrently: true, daemon: pid)
            daemonCPU += cpuSeconds(pid) - daemonBefore
            clientCPU += result.clientCPU
            latencies += result.latencies
            wall += result.wall
            peakRSS = max(peakRSS, result.peakRSS)
            for (c, r) in replicas.enumerated() where try r.status().pending != 0 { fail("device \(c) still had changes to push after its sync of round \(round)") }
        }
        let pushed = Double(clients * perRound * rounds)
        // pulled in the timed rounds (a change pushed after a sibling's sync reaches it in the next)
        let delivered = Double(try held() - heldBefore) - pushed
        // settle, then every user's devices must hold the same state
        for _ in 0..<2 { _ = try syncer.syncAll(concurrently: false, daemon: pid) }
        for u in 0..<users {
            let devices = stride(from: u, to: clients, by: users).map { replicas[$0] }
            let first = try devices[0].snapshot()
            for d in devices.dropFirst() where try d.snapshot() != first { fail("user\(u)'s devices differ after the concurrent run") }
            if u == 0 { print("user0's devices identical: \(first.notes.count) notes, \(first.tags.count) tags") }
        }
        latencies.sort()
        let p50 = SyncBench.percentile(latencies, 0.5), p99 = SyncBench.percentile(latencies, 0.99)
        let kind = syncer.description
        print(String(format: "%d clients (%@) syncing at once, %.0f changes pushed and %.0f pulled by sibling devices in %d rounds: %.2f s of sync wall time = %.0f changes pushed/s (%.0f pulled/s); sync latency p50 %.0f ms p99 %.0f ms (%d syncs); glossd RSS peak under load %d MB; CPU in the timed rounds: clients %.2f s, glossd %.2f s (%.1f µs per pushed change in all)",
                     clients, kind as NSString, pushed, delivered, rounds, wall, pushed / wall, delivered / wall, p50, p99, latencies.count, peakRSS / 1024,
                     clientCPU, daemonCPU, (clientCPU + daemonCPU) / pushed * 1e6))
        let key = syncer.key
        Results.record("\(key).pulled", delivered / wall, "changes/s")
        Results.record("\(key).throughput", pushed / wall, "changes/s")
        Results.record("\(key).p50", p50, "ms")
        Results.record("\(key).p99", p99, "ms")
        Results.record("\(key).rss_peak", Double(peakRSS) / 1024, "MB")
        Results.record("\(key).cpu_clients", clientCPU, "s")
        Results.record("\(key).cpu_glossd", daemonCPU, "s")
        Results.record("\(key).wall", wall, "s")
        Results.record("\(key).pushed", pushed, "changes")
        Results.record("\(key).clients", Double(clients), "")
        Results.record("\(key).changes", Double(changes), "")
        Results.record("\(key).rounds", Double(rounds), "")
    }

    /// User plus system CPU time a process has used so far, in seconds (/proc/PID/stat; 0 when
    /// it is gone).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // after the command name in parentheses: state is field 3, utime 14, stime 15
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// A round of syncs: each sync's wall time in ms, the whole round's in s, glossd's peak RSS in
/// KiB, and the CPU seconds the clients used for it.
struct Round {
    var latencies: [Double] = []
    var wall = 0.0
    var peakRSS = 0
    var clientCPU = 0.0
}

protocol Syncer: CustomStringConvertible {
    /// Results key prefix.
    var key: String { get }
    /// Syncs every device, all at once or one after another.
    func syncAll(concurrently: Bool, daemon: Int32) throws -> Round
    func close()
}

extension Syncer {
    /// Waits for the round's syncs: `poll` records those that ended and returns true to be
    /// called again at once (it found one, or waited itself), false to be called again after
    /// a short sleep; glossd's RSS is sampled every 50 ms meanwhile.
    func wait(_ round: inout Round, begin: UInt64, daemon: Int32, pending: () -> Bool, poll: (inout Round) throws -> Bool) rethrows {
        var lastSample = DispatchTime.now().uptimeNanoseconds
        let deadline = begin + 600 * 1_000_000_000
        while pending() {
            if try !poll(&round) { usleep(500) }
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastSample > 50_000_000 {
                round.peakRSS = max(round.peakRSS, SyncBench.rssKB(daemon))
                lastSample = now
            }
            if now > deadline { fail("clients still syncing after 10 minutes") }
        }
        round.peakRSS = max(round.peakRSS, SyncBench.rssKB(daemon))
        round.wall = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
    }
}

/// Each sync a `gloss sync` process (its CPU time from wait4's rusage).
struct ProcessPerSync: Syncer {
    let gloss: String
    let homes: [String]
    var key: String { "concurrent" }
    var description: String { "each sync a gloss process" }

    func syncAll(concurrently: Bool, daemon: Int32) throws -> Round {
        var started: [pid_t: UInt64] = [:]
        var round = Round(peakRSS: SyncBench.rssKB(daemon))
        let begin = DispatchTime.now().uptimeNanoseconds
        func reap(_ round: inout Round, blocking: Bool) -> Bool {
            var status: Int32 = 0
            var usage = rusage()
            let child = wait4(-1, &status, blocking ? 0 : WNOHANG, &usage)
            guard child > 0, let t0 = started.removeValue(forKey: child) else { return false }
            if (status >> 8) & 0xFF != 0 { fail("gloss sync failed with status \((status >> 8) & 0xFF)") }
            round.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            round.clientCPU += Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
            return true
        }
        for home in homes {
            started[launch("\(gloss) sync --home \(home)")] = DispatchTime.now().uptimeNanoseconds
            if !concurrently { _ = reap(&round, blocking: true) }
        }
        wait(&round, begin: begin, daemon: daemon, pending: { !started.isEmpty }, poll: { reap(&$0, blocking: false) })
        return round
    }

    func close() {}
}

/// Each device a `gloss-bench sync-client HOME` process that stays up and syncs once per line
/// "sync" on its stdin, answering "ok …" on its stdout.
final class LongLived: Syncer {
    struct Client {
        let process: Process
        let input: FileHandle
        let output: Int32
    }
    let clients: [Client]
    var key: String { "concurrent.longlived" }
    var description: String { "each device a long-lived process" }

    init(bench: String, homes: [String]) throws {
        signal(SIGPIPE, SIG_IGN)  // a client that died is reported by the write that fails
        clients = try homes.map { home in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: bench)
            process.arguments = ["sync-client", home]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            return Client(process: process, input: input.fileHandleForWriting, output: output.fileHandleForReading.fileDescriptor)
        }
    }

    func syncAll(concurrently: Bool, daemon: Int32) throws -> Round {
        var round = Round(peakRSS: SyncBench.rssKB(daemon))
        let cpuBefore = clients.map { ConcurrentBench.cpuSeconds($0.process.processIdentifier) }
        let begin = DispatchTime.now().uptimeNanoseconds
        var started: [Int: UInt64] = [:]
        func answer(_ i: Int, _ round: inout Round) {
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while true {
                let n = read(clients[i].output, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1, byte != 10 else { break }
                line.append(byte)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("ok") else { fail("sync-client \(i) failed: \(text.isEmpty ? "it exited" : text)") }
            round.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - started.removeValue(forKey: i)!) / 1e6)
        }
        for i in clients.indices {
            started[i] = DispatchTime.now().uptimeNanoseconds
            do { try clients[i].input.write(contentsOf: Data("sync\n".utf8)) } catch { fail("sync-client \(i) exited") }
            if !concurrently { answer(i, &round) }
        }
        wait(&round, begin: begin, daemon: daemon, pending: { !started.isEmpty }) { round in
            var fds = started.keys.map { pollfd(fd: clients[$0].output, events: Int16(POLLIN), revents: 0) }
            // blocks until an answer comes (at most 20 ms, for the RSS samples): the bench takes
            // no CPU from the load while it waits, and an answer is timed as it arrives
            let ready = Glibc.poll(&fds, nfds_t(fds.count), 20)
            guard ready > 0 else { return ready == 0 }  // timed out: at once; failed (EINTR): after a sleep
            for fd in fds where fd.revents != 0 {
                answer(clients.firstIndex { $0.output == fd.fd }!, &round)
            }
            return true
        }
        round.clientCPU = zip(clients, cpuBefore).map { ConcurrentBench.cpuSeconds($0.process.processIdentifier) - $1 }.reduce(0, +)
        return round
    }

    func close() {
        for c in clients { try? c.input.close() }
        for c in clients { c.process.waitUntilExit() }
    }
}
