import ArgumentParser
import GlossCLI
import GlossCorpus
import GlossReplica

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one excerpt with its citation, tags and notes.")

    @OptionGroup var options: ShowOptions

    func run() throws { try Self.run(options.values) }

    static func run(_ a: ShowArguments) throws {
        let replica = try GlobalOptions.openReplica(home: a.home)
        let r = try replica.record(excerptID: try replica.resolveExcerpt(a.id))
        if a.json { return try Output.json(r) }
        let c = r.citation
        Output.line(Output.bold("excerpt \(r.id)"))
        Output.line()
        Output.line(Output.wrap(r.text, indent: "  "))
        Output.line()
        Output.line(Output.wrap("— " + c.raw, indent: ""))
        var fields: [String] = []
        if !c.authors.isEmpty { fields.append("authors: " + c.authors.joined(separator: "; ")) }
        if !c.title.isEmpty { fields.append("title: " + c.title) }
        if !c.place.isEmpty { fields.append("place: " + c.place) }
        if !c.publisher.isEmpty { fields.append("publisher: " + c.publisher) }
        if let y = c.year { fields.append("year: \(y)") }
        if !c.pages.isEmpty { fields.append("pages: " + c.pages) }
        for remark in c.remarks { fields.append("remark: " + remark) }
        Output.line(Output.dim(fields.map { "  " + $0 }.joined(separator: "\n")))
        Output.line()
        Output.line("tags: " + (r.tags.isEmpty ? "none" : r.tags.joined(separator: ", ")))
        if r.notes.isEmpty {
            Output.line("notes: none")
        } else {
            Output.line("notes:")
            for n in r.notes {
                let collection = n.collection.map { " in \($0)" } ?? ""
                Output.line("  " + Output.bold(try replica.shortNoteID(n.id)) + Output.dim("  \(n.updatedAt.prefix(16).replacingOccurrences(of: "T", with: " "))\(collection)"))
                Output.line(Output.wrap(n.body, indent: "    "))
            }
        }
    }
}
