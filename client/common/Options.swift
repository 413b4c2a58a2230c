import ArgumentParser
import Foundation
import GlossCorpus
import GlossReplica

/// Flags every command shares.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Replica folder (default: $GLOSS_HOME, else $XDG_DATA_HOME/gloss).")
    public var home: String?

    public init() {}

    public var resolvedHome: String { Self.resolvedHome(home) }

    /// `home` if given, else $GLOSS_HOME, else $XDG_DATA_HOME/gloss, else ~/.local/share/gloss.
    public static func resolvedHome(_ home: String?) -> String {
        if let home { return home }
        if let h = Environment.value("GLOSS_HOME"), !h.isEmpty { return h }
        if let x = Environment.value("XDG_DATA_HOME"), !x.isEmpty { return x + "/gloss" }
        return NSHomeDirectory() + "/.local/share/gloss"
    }

    public func openReplica() throws -> Replica { try Self.openReplica(home: home) }

    /// The replica in `home` as `resolvedHome` finds it (for commands run without the parser).
    public static func openReplica(home: String?) throws -> Replica { try Replica(home: resolvedHome(home)) }
}

/// `--json`: print only JSON on stdout.
public struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON only (on stdout).")
    public var json = false

    public init() {}
}

/// Writing to the terminal.
public enum Output {
    public static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    public static func line(_ s: String = "") { print(s) }

    public static func message(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    // asked once per process (they were asked for every line printed)
    public static let stdoutIsTerminal = isatty(STDOUT_FILENO) != 0
    public static let stderrIsTerminal = isatty(STDERR_FILENO) != 0

    public static let width: Int = {
        var size = winsize()
        if stdoutIsTerminal, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 40 {
            return Int(size.ws_col)
        }
        return 80
    }()

    public static func bold(_ s: String) -> String { stdoutIsTerminal ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    public static func dim(_ s: String) -> String { stdoutIsTerminal ? "\u{1B}[2m\(s)\u{1B}[0m" : s }

    /// Word-wraps `text` to `width` columns with `indent` before every line. (Widths are kept as
    /// counts: measuring the line with `count` before each word made wrapping a long snippet
    /// quadratic, 3.4 M instructions of a 20-hit search.)
    public static func wrap(_ text: String, width: Int = Output.width, indent: String = "") -> String {
        let indentWidth = indent.count
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = indent
            var lineWidth = indentWidth
            for word in paragraph.split(separator: " ") {
                let wordWidth = word.count
                if lineWidth > indentWidth, lineWidth + 1 + wordWidth > width {
                    lines.append(line)
                    line = indent
                    lineWidth = indentWidth
                }
                if lineWidth > indentWidth {
                    line += " "
                    lineWidth += 1
                }
                line += word
                lineWidth += wordWidth
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// `text` on one line: every newline a space (bytewise: Foundation's `replacingOccurrences`
    /// went through `NSString`, 2.4 M instructions for a search's twenty snippets).
    public static func flat(_ text: String) -> String {
        let newline = UInt8(ascii: "\n")
        guard text.utf8.contains(newline) else { return text }
        return String(decoding: text.utf8.map { $0 == newline ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    public static func clip(_ text: String, _ n: Int) -> String {
        let line = flat(text)
        return line.count <= n ? line : String(line.prefix(n - 1)) + "…"
    }

    public static func short(_ id: String) -> String { String(id.prefix(8)) }

    public static func date(_ ms: Int64) -> String {
        let iso = ISOTime.format(ms)
        return String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// A short human citation: `Strong, The Soviets Expected It (1941), p. 134`.
    public static func shortCitation(_ r: ExcerptRecord) -> String {
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
public struct CLIError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// What `gloss --help` says of the commands that talk to glossd: they run in `gloss-sync`, and
/// `gloss` lists them with the same words.
public enum RemoteCommandAbstract {
    public static let sync = "Push local changes to the daemon and pull everyone else's."
    public static let share = "Share your TAG with a user as a live collection (or change their role). Needs the daemon."
    public static let unshare = "Stop sharing your TAG with a user; their replicas drop it at their next sync."
    public static let collections = "Collections you own and those shared with you."
    public static let verify = "Check the replica file, sync, then compare this replica's state with the daemon's, field by field."
}
