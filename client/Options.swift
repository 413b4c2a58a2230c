import ArgumentParser
import Foundation
import GlossCorpus
import GlossReplica

/// Flags every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Replica folder (default: $GLOSS_HOME, else $XDG_DATA_HOME/gloss).")
    var home: String?

    var resolvedHome: String {
        if let home { return home }
        let env = ProcessInfo.processInfo.environment
        if let h = env["GLOSS_HOME"], !h.isEmpty { return h }
        if let x = env["XDG_DATA_HOME"], !x.isEmpty { return x + "/gloss" }
        return NSHomeDirectory() + "/.local/share/gloss"
    }

    func openReplica() throws -> Replica { try Replica(home: resolvedHome) }
}

/// `--json`: print only JSON on stdout.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON only (on stdout).")
    var json = false
}

/// Writing to the terminal.
enum Output {
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    static func line(_ s: String = "") { print(s) }

    static func message(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    static var width: Int {
        var size = winsize()
        if isatty(STDOUT_FILENO) != 0, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 40 {
            return Int(size.ws_col)
        }
        return 80
    }

    static func bold(_ s: String) -> String { stdoutIsTerminal ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    static func dim(_ s: String) -> String { stdoutIsTerminal ? "\u{1B}[2m\(s)\u{1B}[0m" : s }

    /// Word-wraps `text` to `width` columns with `indent` before every line.
    static func wrap(_ text: String, width: Int = Output.width, indent: String = "") -> String {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = indent
            for word in paragraph.split(separator: " ") {
                if line.count > indent.count, line.count + 1 + word.count > width {
                    lines.append(line)
                    line = indent
                }
                line += (line.count > indent.count ? " " : "") + word
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func clip(_ text: String, _ n: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count <= n ? flat : String(flat.prefix(n - 1)) + "…"
    }

    static func short(_ id: String) -> String { String(id.prefix(8)) }

    static func date(_ ms: Int64) -> String {
        let iso = ISOTime.format(ms)
        return String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// A short human citation: `Strong, The Soviets Expected It (1941), p. 134`.
    static func shortCitation(_ r: ExcerptRecord) -> String {
        let c = r.citation
        guard !c.title.isEmpty else { return c.raw }
        var s = ""
        if let a = c.authors.first { s += (a.split(separator: ",").first.map(String.init) ?? a) + ", " }
        s += c.title
        if let y = c.year { s += " (\(y))" }
        if !c.pages.isEmpty { s += ", p. \(c.pages)" }
        return s
    }
}

/// A runtime failure: printed as one line on stderr, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
