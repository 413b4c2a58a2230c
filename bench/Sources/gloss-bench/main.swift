import Foundation
import GlossReplica
import GlossSyncClient

/// gloss-bench: deterministic workloads for the benchmarks (`bench/run` runs them all and says how).
///
///   gloss-bench corpus N OUT [--sources S] [--seed X]   write an N-excerpt compilation to OUT
///   gloss-bench time -n RUNS [--setup CMD] [--key K] -- CMD...
///                                                     run CMD RUNS times (setup before each,
///                                                     untimed; both split on spaces, no shell);
///                                                     print median/min/max in ms (K: result key)
///   gloss-bench raw-sqlite CORPUS [--annotations M]   the ceiling: raw SQLite storing the same rows
///   gloss-bench sync --glossd PATH [--excerpts N] [--annotations M] [--incremental K]
///                    [--database postgres://…] [--daemons 2] [--key K]
///                                                     push, bootstrap and incremental sync
///   gloss-bench concurrent --glossd PATH (--gloss PATH | --long-lived) [--clients 20] [--changes 5000]
///                          [--rounds 10]              clients syncing at once, each sync a gloss
///                                                     process (or each client a sync-client)
///   gloss-bench memory --glossd PATH --gloss PATH [--sizes 50000,100000,200000]
///                                                     a gloss sync bootstrap's peak RSS at N excerpts
///                                                     + N annotations for each size N
///   gloss-bench sync-client HOME                      a long-lived client: syncs HOME's replica
///                                                     once per line "sync" on stdin, answers "ok"
///   gloss-bench report RESULTS                        docs/BENCHMARKS.md from a results file
///   gloss-bench read URL TOKEN [--page N]             read every change of a user (for profiling)
///   gloss-bench push HOME URL TOKEN [--batch N] [--bytes B] [--gzip 0|1]
///                                                     push a replica's outbox (for profiling and
///                                                     trying batch sizes)
///
/// With BENCH_RESULTS=FILE, every figure is also appended to FILE (see Results.swift).
let args = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("gloss-bench: \(message)\n".utf8))
    exit(2)
}

func option(_ name: String, in args: [String]) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

/// Starts a command (split on spaces, no shell) without waiting for it.
func launch(_ command: String, quiet: Bool = true) -> pid_t {
    let argv = command.split(separator: " ").map { strdup(String($0)) } + [nil]
    defer { for a in argv { free(a) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if quiet { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0]!, &actions, nil, argv, environ)
    guard rc == 0 else { fail("cannot run \(command): \(String(cString: strerror(rc)))") }
    return pid
}

/// Runs a command and waits for it with waitpid: Foundation's Process.waitUntilExit polls and
/// would add up to ~50 ms to every measurement.
func spawn(_ command: String, quiet: Bool = true) -> Int32 {
    var status: Int32 = 0
    waitpid(launch(command, quiet: quiet), &status, 0)
    return (status >> 8) & 0xFF
}

switch args.first {
case "read":
    // every change of a user, read and decoded as a bootstrap reads them, not applied (for profiling)
    guard args.count >= 3 else { fail("usage: gloss-bench read URL TOKEN [--page N]") }
    let limit = option("--page", in: args).flatMap(Int.init) ?? 10_000
    let start = DispatchTime.now().uptimeNanoseconds
    let scratch = NSTemporaryDirectory() + "gloss-bench-read-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let read = try await SyncBench.readAllPages(url: args[1], token: args[2], limit: limit, scratch: scratch)
    let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print(String(format: "read %d changes in %.2f s (%.0f/s)", read, s, Double(read) / s))
case "push":
    // a replica's outbox pushed by the sync client with the given batch bounds (for profiling)
    guard args.count >= 4 else { fail("usage: gloss-bench push HOME URL TOKEN [--batch N] [--bytes B] [--window W] [--gzip 0|1]") }
    let client = try SyncClient(replica: try Replica(home: args[1]), url: args[2], token: args[3])
    if let n = option("--batch", in: args).flatMap(Int.init) { client.pushBatch = n }
    if let b = option("--bytes", in: args).flatMap(Int.init) { client.pushBatchBytes = b }
    if let w = option("--window", in: args).flatMap(Int.init) { client.pushWindow = w }
    if let z = option("--gzip", in: args) { client.compress = z == "1" }
    let start = DispatchTime.now().uptimeNanoseconds
    let pushed = try await client.sync().pushed
    let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print(String(format: "pushed %d changes in %.2f s (%.0f/s)", pushed, s, Double(pushed) / s))
case "annotate":
    // the bench's annotations added to a replica's excerpts (for profiling pushes of notes and tags)
    guard args.count >= 3, let n = Int(args[2]) else { fail("usage: gloss-bench annotate HOME N") }
    let replica = try Replica(home: args[1])
    let ids = try replica.list().map(\.id)  // in import order, as the bench draws them
    guard !ids.isEmpty else { fail("\(args[1]) has no excerpts") }
    try SyncBench.annotate(replica, excerptIDs: ids, count: n)
    print("\(try replica.status().pending) changes pending")
case "corpus":
    guard args.count >= 3, let n = Int(args[1]) else { fail("usage: gloss-bench corpus N OUT [--sources S] [--seed X]") }
    let sources = option("--sources", in: args).flatMap(Int.init) ?? max(1, n / 50)
    let seed = option("--seed", in: args).flatMap(UInt64.init) ?? 1
    var generator = CorpusGenerator(seed: seed, sources: sources)
    let bytes = generator.corpus(excerpts: n)
    guard FileManager.default.createFile(atPath: args[2], contents: Data(bytes)) else { fail("cannot write \(args[2])") }
    print("wrote \(n) excerpts from \(sources) sources, \(bytes.count) bytes, to \(args[2])")
    // the least frequent word of the vocabulary that occurs in it only once
    let words = CorpusGenerator.words
    print("rare word: \(words.last { w in words.count { $0 == w } == 1 }!)")
case "time":
    guard let sep = args.firstIndex(of: "--"), let runs = option("-n", in: args).flatMap(Int.init), runs > 0 else {
        fail("usage: gloss-bench time -n RUNS [--setup CMD] -- CMD...")
    }
    let setup = option("--setup", in: Array(args[..<sep]))
    let command = args[(sep + 1)...].joined(separator: " ")
    var times: [Double] = []
    for _ in 0..<runs {
        if let setup, setup.split(separator: " ").count > 0, spawn(setup) != 0 { fail("setup failed: \(setup)") }
        let start = DispatchTime.now().uptimeNanoseconds
        let status = spawn(command)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        if status != 0 { fail("command failed (\(status)): \(command)") }
        times.append(ms)
    }
    times.sort()
    let median = SyncBench.median(times)
    print(String(format: "median %.2f ms  min %.2f  max %.2f  runs %d", median, times.first!, times.last!, runs))
    if let key = option("--key", in: Array(args[..<sep])) { Results.record(key, median, "ms") }
case "raw-sqlite":
    guard args.count >= 2 else { fail("usage: gloss-bench raw-sqlite CORPUS") }
    try RawSQLite.run(corpus: args[1], annotations: option("--annotations", in: args).flatMap(Int.init) ?? 100_000)
case "sync":
    guard let glossd = option("--glossd", in: args) else { fail("usage: gloss-bench sync --glossd PATH [--excerpts N] [--annotations M]") }
    try await SyncBench.run(
        glossd: glossd, excerpts: option("--excerpts", in: args).flatMap(Int.init) ?? 100_000,
        annotations: option("--annotations", in: args).flatMap(Int.init) ?? 100_000,
        incremental: option("--incremental", in: args).flatMap(Int.init) ?? 200,
        database: option("--database", in: args), daemons: option("--daemons", in: args).flatMap(Int.init) ?? 1,
        key: option("--key", in: args) ?? "sqlite")
case "concurrent":
    let usage = "usage: gloss-bench concurrent --glossd PATH (--gloss PATH | --long-lived) [--clients 20] [--changes 5000] [--rounds 10]"
    guard let glossd = option("--glossd", in: args) else { fail(usage) }
    let mode: ConcurrentBench.Clients
    if args.contains("--long-lived") {
        mode = .longLived(bench: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    } else {
        guard let gloss = option("--gloss", in: args) else { fail(usage) }
        mode = .processPerSync(gloss: gloss)
    }
    try await ConcurrentBench.run(
        glossd: glossd, mode: mode,
        clients: option("--clients", in: args).flatMap(Int.init) ?? 20,
        changes: option("--changes", in: args).flatMap(Int.init) ?? 5_000, rounds: option("--rounds", in: args).flatMap(Int.init) ?? 10)
case "memory":
    // a gloss sync bootstrap's peak RSS at several sizes of sync
    guard let glossd = option("--glossd", in: args), let gloss = option("--gloss", in: args) else {
        fail("usage: gloss-bench memory --glossd PATH --gloss PATH [--sizes 50000,100000,200000]")
    }
    let sizes = (option("--sizes", in: args) ?? "50000,100000,200000").split(separator: ",").compactMap { Int($0) }
    try await MemoryBench.run(glossd: glossd, gloss: gloss, sizes: sizes)
case "sync-client":
    // one device of the concurrent run's long-lived clients: the replica and its client stay open
    guard args.count >= 2 else { fail("usage: gloss-bench sync-client HOME") }
    let client = try SyncClient.forReplica(try Replica(home: args[1]))
    while let line = readLine() {
        guard line == "sync" else { fail("sync-client: unknown request '\(line)'") }
        do {
            let summary = try await client.sync()
            print("ok pushed \(summary.pushed) pulled \(summary.pulled)")
        } catch {
            print("error \(error)")
        }
        fflush(nil)  // every output stream: the answer goes out now
    }
case "report":
    guard args.count >= 2 else { fail("usage: gloss-bench report RESULTS") }
    print(try Report.markdown(results: args[1]), terminator: "")
default:
    fail("usage: gloss-bench corpus N OUT | gloss-bench time -n RUNS [--setup CMD] -- CMD...")
}
