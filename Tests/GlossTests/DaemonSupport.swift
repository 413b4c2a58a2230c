import Foundation
import GlossCorpus
import GlossModel
import GlossReplica
import GlossSyncClient
import Testing

/// A real `glossd serve` process on 127.0.0.1 with a random port and a temporary SQLite file.
final class Daemon: @unchecked Sendable {
    let process = Process()
    let dir: String
    let database: String
    private(set) var port = 0
    let stderr = Pipe()
    var url: String { "http://127.0.0.1:\(port)" }

    /// The daemon's log (stderr), kept in a file.
    var logPath: String { dir + "/glossd.log" }

    init(maxSkewSeconds: Int = 300, database: String? = nil, arguments: [String] = []) throws {
        dir = TestSupport.tempDir("glossd")
        self.database = database ?? dir + "/glossd.sqlite"
        try start(maxSkewSeconds: maxSkewSeconds, arguments: arguments)
    }

    private func start(maxSkewSeconds: Int, arguments: [String]) throws {
        process.executableURL = TestSupport.binDir.appendingPathComponent("glossd")
        process.arguments = ["serve", "--database", database, "--host", "127.0.0.1", "--port", "0", "--max-skew", String(maxSkewSeconds)] + arguments
        let out = Pipe()
        process.standardOutput = out
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        // the first stdout line names the port; give up after 20 s
        let deadline = Date().addingTimeInterval(20)
        var buffer = Data()
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            if let line = String(data: buffer, encoding: .utf8), line.contains("\n") {
                let first = line.split(separator: "\n")[0]
                port = Int(first.split(separator: ":").last ?? "") ?? 0
                break
            }
        }
        guard port > 0 else {
            process.terminate()
            throw CLIFailure("glossd did not start: \(String(decoding: buffer, as: UTF8.self))")
        }
    }

    /// Creates a user; returns its first token.
    func addUser(_ name: String) throws -> String {
        let r = try runProcess(TestSupport.binDir.appendingPathComponent("glossd").path, ["user", "add", name, "--database", database, "--json"])
        guard r.status == 0 else { throw CLIFailure(r.stderr) }
        return try r.json([String: String].self)["token"]!
    }

    func glossd(_ args: String...) throws -> ProcessResult {
        try runProcess(TestSupport.binDir.appendingPathComponent("glossd").path, args + ["--database", database])
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A replica in a temporary home with an adjustable clock, synced in-process through the real
/// HTTP client.
final class TestReplica: @unchecked Sendable {
    let replica: Replica
    let clock: ManualClock
    let url: String
    let token: String
    /// nil: the client's default (no compression to a daemon on loopback).
    var compress: Bool?

    init(daemon: Daemon, token: String, offsetMillis: Int64 = 0) throws {
        clock = ManualClock(offset: offsetMillis)
        replica = try Replica(home: TestSupport.tempDir("replica"), now: clock.now)
        url = daemon.url
        self.token = token
        try replica.setRemote(url: daemon.url, token: token)
    }

    @discardableResult
    func sync() async throws -> SyncSummary {
        let client = try SyncClient(replica: replica, url: url, token: token, timeout: 20)
        client.pushBatch = 500
        client.pullPage = 300
        if let compress { client.compress = compress }
        return try await client.sync()
    }
}

/// Real time plus an offset the test can change (a machine whose clock is wrong).
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Int64
    init(offset: Int64) { self.offset = offset }
    func set(offset: Int64) { lock.withLock { self.offset = offset } }
    var now: @Sendable () -> Int64 {
        { [self] in Replica.systemNow() + lock.withLock { offset } }
    }
}

enum Sample {
    static let parsed: ParsedCorpus = try! CompilationParser().parse(try! TestSupport.sampleCorpus())
}
