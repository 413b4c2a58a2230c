import Foundation
import GlossCorpus
import GlossReplica
import GlossSyncClient

/// Whether a `gloss sync` bootstrap's memory grows with the size of the sync: the bench's kind of
/// data (N excerpts and N annotations) at several sizes, each pushed into a new glossd, then
/// bootstrapped into an empty replica by a `gloss sync` process whose peak RSS /usr/bin/time
/// reports. Pages are applied as they arrive and committed in bounded groups, and SQLite's page
/// cache and the full-text index's pending terms have fixed caps, so past the size where those
/// fill, the peak should stay where it is.
enum MemoryBench {
    static func run(glossd: String, gloss: String, sizes: [Int]) async throws {
        for size in sizes {
            let dir = NSTemporaryDirectory() + "gloss-bench-memory-\(getpid())-\(size)"
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let daemon = try SyncBench.startDaemon(glossd: glossd, dir: dir)
            defer { daemon.process.terminate(); daemon.process.waitUntilExit() }
            var generator = CorpusGenerator(seed: 1, sources: max(1, size / 50))
            let corpus = try CompilationParser().parse(generator.corpus(excerpts: size))
            let writer = try Replica(home: dir + "/writer")
            _ = try writer.importExcerpts(corpus.excerpts)
            try SyncBench.annotate(writer, excerptIDs: corpus.excerpts.map(\.id), count: size)
            _ = try await SyncClient(replica: writer, url: daemon.url, token: daemon.token).sync()
            let (seconds, mb) = SyncBench.processBootstrap(gloss: gloss, home: dir + "/reader", url: daemon.url, token: daemon.token)
            print(String(format: "bootstrap of %d excerpts + %d annotations by a gloss sync process: %.2f s, peak RSS %.0f MB", size, size, seconds, mb))
            Results.record("memory.bootstrap_rss.\(2 * size)", mb, "MB")
        }
    }
}
