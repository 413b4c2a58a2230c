import ArgumentParser
import GlossCLI
import GlossCorpus

struct NoteListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List notes, of one excerpt or of all.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Excerpt id or unique prefix (default: all excerpts).") var id: String?

    func run() throws {
        let replica = try global.openReplica()
        let excerptID = try id.map { try replica.resolveExcerpt($0) }
        let notes = try replica.notes(excerptID: excerptID)
        if output.json { return try Output.json(notes.map(NoteRecord.init)) }
        if notes.isEmpty { return Output.message("no notes") }
        for n in notes {
            let collection = n.collection.map { " in \($0)" } ?? ""
            Output.line(Output.bold(try replica.shortNoteID(n.id)) + Output.dim("  on \(Output.short(n.excerptId))  \(Output.date(n.updatedAt))\(collection)"))
            Output.line(Output.wrap(n.body, indent: "    "))
        }
    }
}
