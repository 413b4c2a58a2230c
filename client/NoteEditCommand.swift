import ArgumentParser
import GlossCLI
import GlossCorpus

struct NoteEditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit", abstract: "Replace a note's text (the old text stays in 'gloss history').")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Note id or unique prefix.") var noteID: String
    @Argument(help: "The new text.") var text: String

    func run() throws {
        let replica = try global.openReplica()
        let note = try replica.editNote(id: try replica.resolveNote(noteID), body: text)
        if output.json { return try Output.json(NoteRecord(note)) }
        Output.line("edited note \(note.id)")
    }
}
