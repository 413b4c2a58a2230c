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
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "GLOSS_HOME")
    env.removeValue(forKey: "GLOSS_TOKEN")
    for (k, v) in environment { env[k] = v }
    let p = try startProcess(executable, args, environment: env)
    let out = p.standardOutput as! Pipe, err = p.standardError as! Pipe, input = p.standardInput as! Pipe
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

/// Starts `executable` with fresh pipes for its standard streams.
///
/// An executable a test has just written (see `copyExecutable`) can fail to start with ETXTBSY
/// ("Text file busy"): a process another test forks at that moment inherits the copy's open
/// write descriptor until it calls exec. That lasts microseconds, so the start is retried,
/// every 10 ms for at most 2 s; any other failure is thrown at once.
func startProcess(_ executable: String, _ args: [String], environment: [String: String]) throws -> Process {
    let deadline = Date().addingTimeInterval(2)
    while true {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.environment = environment
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        p.standardInput = Pipe()
        do {
            try p.run()
            return p
        } catch let error as NSError {
            let posix = error.userInfo[NSUnderlyingErrorKey] as? NSError
            let busy = posix?.domain == NSPOSIXErrorDomain && posix?.code == Int(ETXTBSY)
            guard busy, Date() < deadline else { throw error }
            usleep(10_000)
        }
    }
}

/// Copies an executable to `destination` through a descriptor opened with O_CLOEXEC, so
/// processes that other tests start meanwhile do not keep it open for writing past their exec.
func copyExecutable(from source: String, to destination: String) throws {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
    let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    try bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            offset += n
        }
    }
}
