import ArgumentParser
import GlossCorpus

struct NoteAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a note to an excerpt.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Excerpt id or unique prefix.") var id: String
    @Argument(help: "The note's text.") var text: String

    func run() throws {
        let replica = try global.openReplica()
        let note = try replica.addNote(excerptID: try replica.resolveExcerpt(id), body: text)
        if output.json { return try Output.json(NoteRecord(note)) }
        Output.line("added note \(note.id) to excerpt \(Output.short(note.excerptId))")
    }
}
