import ArgumentParser
import GlossCLI

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Every value a note has had, oldest first, with the stamp of each write.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Note id or unique prefix.") var noteID: String

    func run() throws {
        let replica = try global.openReplica()
        let entries = try replica.history(noteID: try replica.resolveNote(noteID))
        if output.json { return try Output.json(entries) }
        for e in entries {
            let when = e.writtenAt.prefix(19).replacingOccurrences(of: "T", with: " ")
            let state = e.current ? "current" : "superseded"
            Output.line(Output.bold("\(when)  \(e.field)  \(state)") + Output.dim("  stamp \(e.stamp)"))
            Output.line(Output.wrap(e.value, indent: "    "))
        }
    }
}
