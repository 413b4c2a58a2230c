import ArgumentParser
import GlossCLI

struct NoteRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Delete a note (a tombstone that syncs; its text stays in 'gloss history').")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Note id or unique prefix.") var noteID: String

    func run() throws {
        let replica = try global.openReplica()
        let id = try replica.resolveNote(noteID)
        try replica.removeNote(id: id)
        Output.line("deleted note \(id)")
    }
}
