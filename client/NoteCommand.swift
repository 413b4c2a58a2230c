import ArgumentParser
import GlossCLI

struct NoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "note", abstract: "Write, edit, remove and list notes.",
        subcommands: [NoteAddCommand.self, NoteEditCommand.self, NoteRemoveCommand.self, NoteListCommand.self])
}
