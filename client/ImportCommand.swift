import ArgumentParser
import GlossCLI
import Foundation
import GlossCorpus
import GlossModel
import GlossReplica
import GlossSampleCorpus

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a compilation (text) or a 'gloss export --format json' file.",
        discussion: "Excerpts are identified by their content, so importing the same file again adds nothing.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The file to import ('-' for standard input).")
    var file: String?

    @Flag(name: .long, help: "Import the sample corpus shipped with gloss (military-purges.txt).")
    var sample = false

    @Flag(name: .long, help: "Replace invalid UTF-8 with U+FFFD (and report it) instead of refusing the file.")
    var replaceInvalid = false

    func validate() throws {
        if sample == (file != nil) { throw ValidationError("give a FILE to import, or --sample") }
    }

    func run() throws {
        let input: ImportInput
        let name: String
        if sample {
            input = .bytes(SampleCorpus.bytes)
            name = SampleCorpus.fileName
        } else if file == "-" {
            input = .handle(FileHandle.standardInput, size: nil)
            name = "standard input"
        } else {
            let path = file!
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            guard exists, !isFolder.boolValue, let handle = FileHandle(forReadingAtPath: path) else {
                throw CLIError("cannot read \(path): \(!exists ? "no such file" : isFolder.boolValue ? "it is a folder" : "permission denied")")
            }
            var info = stat()
            let size = fstat(handle.fileDescriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
            input = .handle(handle, size: size)
            name = path
        }
        let replica = try global.openReplica()
        let summary: ImportSummary
        var reader = input.chunks()
        let first = try reader.next() ?? []
        if first.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{") {
            var bytes = first
            while let more = try reader.next() { bytes += more }
            let doc: ExportDocument
            do { doc = try JSONDecoder().decode(ExportDocument.self, from: Data(bytes)) } catch {
                throw CLIError("\(name) looks like JSON but is not a Gloss export: \(describe(error))")
            }
            summary = try replica.importExport(doc)
        } else {
            // A compilation is parsed as it is read and stored in one transaction, so memory does
            // not grow with the file and a bad line (invalid UTF-8) keeps nothing of it. Parsing
            // runs on a thread of its own while this one stores what it has parsed.
            let bar = input.size.flatMap { ProgressBar(total: $0, label: "importing") }
            let parse = BackgroundParse(
                first: first, rest: reader, stream: CompilationStream(invalidUTF8: replaceInvalid ? .replace : .fail), bar: bar)
            defer { parse.stop() }
            let (imported, duplicates) = try replica.importExcerpts { insert in
                while let batch = try parse.next() {
                    for e in batch { try insert(e) }
                }
            }
            let parsed = parse.summary!
            bar?.finish()
            summary = ImportSummary(imported: imported, duplicates: duplicates, sources: parsed.sourceCount, warnings: parsed.warnings)
        }
        if output.json {
            try Output.json(summary)
        } else {
            for w in summary.warnings { Output.message("warning: \(w)") }
            var line = "imported \(summary.imported) excerpt(s) from \(summary.sources) source(s); \(summary.duplicates) duplicate(s) skipped (already present or repeated in the file)"
            if let n = summary.notes, let t = summary.tags { line += "; \(n) note(s), \(t) tag(s) added" }
            Output.line(line)
        }
    }

    private func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "missing '\(key.stringValue)' at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx), DecodingError.dataCorrupted(let ctx):
            return "\(ctx.debugDescription) at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
        default:
            return "\(error)"
        }
    }
}

/// Where an import reads from: bytes already in memory, or a file read in 1 MiB chunks.
enum ImportInput {
    case bytes([UInt8])
    case handle(FileHandle, size: Int?)

    var size: Int? {
        switch self {
        case .bytes(let b): b.count
        case .handle(_, let size): size
        }
    }

    func chunks() -> Chunks { Chunks(input: self) }

    struct Chunks {
        let input: ImportInput
        var done = false

        mutating func next() throws -> [UInt8]? {
            guard !done else { return nil }
            switch input {
            case .bytes(let b):
                done = true
                return b
            case .handle(let handle, _):
                guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else {
                    done = true
                    return nil
                }
                return Array(data)
            }
        }
    }
}

/// Reads and parses a compilation on a thread of its own and hands its excerpts over in batches,
/// at most `depth` of them waiting, so parsing (a fifth of an import's time) overlaps with
/// storing and memory stays bounded. The parser stops at its first error, which `next()` throws;
/// `stop()` tells it to stop early (it looks between chunks and batches) and waits until it has,
/// but not for more than `stopWait`: a parser blocked reading a pipe that sends nothing more must
/// not keep a failed import from exiting.
final class BackgroundParse: @unchecked Sendable {
    static let batchSize = 256
    static let depth = 8
    static let stopWait: TimeInterval = 2

    // the parsing thread's own until it has finished
    private var first: [UInt8]?
    private var rest: ImportInput.Chunks
    private var stream: CompilationStream
    private let bar: ProgressBar?
    private var parsed: CorpusSummary?

    // shared, under `lock`
    private let lock = NSCondition()
    private var ready: [[Excerpt]] = []
    private var failure: Error?
    private var finished = false
    private var stopping = false

    private struct Stopped: Error {}

    init(first: [UInt8], rest: ImportInput.Chunks, stream: CompilationStream, bar: ProgressBar?) {
        self.first = first
        self.rest = rest
        self.stream = stream
        self.bar = bar
        Thread { [self] in run() }.start()
    }

    /// What the parser found (sources, warnings): set once `next()` has returned nil.
    var summary: CorpusSummary? {
        lock.lock()
        defer { lock.unlock() }
        return finished ? parsed : nil
    }

    /// The next batch in file order; nil at the end; the parser's error if it failed.
    func next() throws -> [Excerpt]? {
        lock.lock()
        defer { lock.unlock() }
        while ready.isEmpty && !finished { lock.wait() }
        if let failure { throw failure }
        guard !ready.isEmpty else { return nil }
        lock.broadcast()
        return ready.removeFirst()
    }

    /// Stops the parser if it is still running and waits until it has (at most `stopWait`).
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        stopping = true
        lock.broadcast()
        let deadline = Date(timeIntervalSinceNow: Self.stopWait)
        while !finished && lock.wait(until: deadline) {}
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    private func run() {
        var batch: [Excerpt] = []
        func handOver() throws {
            lock.lock()
            defer { lock.unlock() }
            while ready.count >= Self.depth && !stopping { lock.wait() }
            if stopping { throw Stopped() }
            ready.append(batch)
            lock.broadcast()
            batch = []
            batch.reserveCapacity(Self.batchSize)
        }
        func emit(_ e: Excerpt) throws {
            batch.append(e)
            if batch.count == Self.batchSize { try handOver() }
        }
        var error: Error?
        do {
            var read = 0
            var chunk = first
            first = nil
            while let bytes = chunk {
                try bytes.withUnsafeBufferPointer { try stream.feed($0, emit: emit) }
                read += bytes.count
                bar?.update(read)
                if isStopping { throw Stopped() }
                chunk = try rest.next()
            }
            parsed = try stream.finish(emit: emit)
            if !batch.isEmpty { try handOver() }
        } catch is Stopped {
        } catch let e {
            error = e
        }
        lock.lock()
        failure = error
        finished = true
        lock.broadcast()
        lock.unlock()
    }
}

/// A one-line progress bar on stderr, shown only for long imports on a terminal.
final class ProgressBar {
    let total: Int
    let label: String
    private var lastPercent = -1

    init?(total: Int, label: String) {
        guard total >= 2 << 20, Output.stderrIsTerminal else { return nil }
        self.total = total
        self.label = label
    }

    func update(_ done: Int) {
        // a file that grows while it is read would pass 100 %
        let percent = total == 0 ? 100 : min(100, done * 100 / total)
        guard percent != lastPercent else { return }
        lastPercent = percent
        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(percent)% of \(total >> 20) MiB".utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
