import ArgumentParser
import GlossCLI
import GlossCorpus

struct NoteAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a note to an excerpt.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Excerpt id or unique prefix.") var id: String
    @Argument(help: "The note's text.") var text: String
    @Option(name: .customLong("in"), help: "Write it into a shared collection (OWNER/TAG) instead of as a personal note.")
    var collection: String?

    func run() throws {
        let replica = try global.openReplica()
        if let collection { try replica.checkCanEdit(collection: collection) }
        let note = try replica.addNote(excerptID: try replica.resolveExcerpt(id), body: text, collection: collection)
        if output.json { return try Output.json(NoteRecord(note)) }
        Output.line("added note \(note.id) to excerpt \(Output.short(note.excerptId))\(collection.map { " in \($0)" } ?? "")")
    }
}
