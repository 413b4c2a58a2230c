import ArgumentParser
import GlossCLI
import GlossReplica

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Full-text search over excerpts, citations and notes, best match first.",
        discussion: "Words must all match; \"quoted words\" match as a phrase; word* matches a prefix.")

    @OptionGroup var options: SearchOptions

    func run() throws { try Self.run(options.values) }

    static func run(_ a: SearchArguments) throws {
        let q = a.query.joined(separator: " ")
        guard !q.trimmingWhitespace().isEmpty else { throw ValidationError("give something to search for") }
        let replica = try GlobalOptions.openReplica(home: a.home)
        let tty = !a.json && Output.stdoutIsTerminal
        let hits = try replica.search(q, limit: max(1, a.limit), open: tty ? "\u{1B}[1;33m" : "**", close: tty ? "\u{1B}[0m" : "**")
        if a.json { return try Output.json(hits) }
        if hits.isEmpty {
            Output.message("no matches for '\(q)'")
            return
        }
        for h in hits {
            let what = try h.noteId.map { "note \(try replica.shortNoteID($0)) on " } ?? ""
            Output.line(Output.bold(what + Output.short(h.excerptId)) + Output.dim("  " + Output.clip(h.citation, Output.width - 12 - what.count)))
            Output.line(Output.wrap(Output.flat(h.snippet), indent: "    "))
        }
    }
}
