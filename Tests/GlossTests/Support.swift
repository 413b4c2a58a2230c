import Foundation
import Testing

/// Paths and helpers shared by the tests.
enum TestSupport {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var sampleCorpusPath: String { repoRoot.appendingPathComponent("corpus/military-purges.txt").path }

    static func sampleCorpus() throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: sampleCorpusPath)))
    }

    /// Folder holding the built executables (`gloss`, `gloss-sync`, `glossd`).
    static var binDir: URL {
        if let dir = ProcessInfo.processInfo.environment["GLOSS_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        // swift-testing may run inside the .xctest bundle folder
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("gloss").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return repoRoot.appendingPathComponent(".build/debug")
    }

    static func tempDir(_ name: String = "gloss-test") -> String {
        let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutData: Data

    func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: stdoutData)
    }
}

/// Runs an executable to completion (bounded by `timeout` seconds) and captures its output.
func runProcess(_ executable: String, _ args: [String], environment: [String: String] = [:], stdin: Data? = nil, timeout: Double = 60) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "GLOSS_HOME")
    env.removeValue(forKey: "GLOSS_TOKEN")
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = Pipe()
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try? input.fileHandleForWriting.close()
    // read both pipes concurrently so a full pipe cannot block the child
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let deadline = DispatchTime.now() + timeout
    // a hard kill: a hung child may not act on SIGTERM
    let killer = DispatchWorkItem { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: deadline, execute: killer)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    killer.cancel()
    return ProcessResult(
        status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
}

/// Runs `gloss` with `--home home` appended.
func gloss(_ home: String, _ args: String..., stdin: Data? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    try runProcess(TestSupport.binDir.appendingPathComponent("gloss").path, args + ["--home", home], environment: environment, stdin: stdin)
}
