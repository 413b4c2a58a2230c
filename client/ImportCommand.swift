import ArgumentParser
import Foundation
import GlossCorpus
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
        let bytes: [UInt8]
        let name: String
        if sample {
            bytes = SampleCorpus.bytes
            name = SampleCorpus.fileName
        } else if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
            name = "standard input"
        } else {
            let path = file!
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied or a folder" : "no such file")")
            }
            bytes = Array(data)
            name = path
        }
        let replica = try global.openReplica()
        let summary: ImportSummary
        if bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{") {
            let doc: ExportDocument
            do { doc = try JSONDecoder().decode(ExportDocument.self, from: Data(bytes)) } catch {
                throw CLIError("\(name) looks like JSON but is not a Gloss export: \(describe(error))")
            }
            summary = try replica.importExport(doc)
        } else {
            let parsed = try CompilationParser().parse(bytes, invalidUTF8: replaceInvalid ? .replace : .fail)
            let bar = ProgressBar(total: parsed.excerpts.count, label: "importing")
            let (imported, duplicates) = try replica.importExcerpts(parsed.excerpts, progress: bar.map { b in { b.update($0) } })
            bar?.finish()
            summary = ImportSummary(imported: imported, duplicates: duplicates, sources: parsed.sourceCount, warnings: parsed.warnings)
        }
        if output.json {
            try Output.json(summary)
        } else {
            for w in summary.warnings { Output.message("warning: \(w)") }
            var line = "imported \(summary.imported) excerpt(s) from \(summary.sources) source(s); \(summary.duplicates) already present"
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

/// A one-line progress bar on stderr, shown only for long imports on a terminal.
final class ProgressBar {
    let total: Int
    let label: String
    private var lastPercent = -1

    init?(total: Int, label: String) {
        guard total >= 5000, Output.stderrIsTerminal else { return nil }
        self.total = total
        self.label = label
    }

    func update(_ done: Int) {
        let percent = total == 0 ? 100 : done * 100 / total
        guard percent != lastPercent else { return }
        lastPercent = percent
        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(percent)% \(done)/\(total)".utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
