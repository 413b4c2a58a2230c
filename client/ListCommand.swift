import ArgumentParser
import GlossCLI
import GlossCorpus
import GlossReplica

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List excerpts in import order.")

    @OptionGroup var options: ListOptions

    func run() throws { try Self.run(options.values) }

    static func run(_ a: ListArguments) throws {
        let (tag, source, collection, limit) = (a.tag, a.source, a.collection, a.limit)
        let replica = try GlobalOptions.openReplica(home: a.home)
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        if tag != nil && collection != nil { throw ValidationError("give --tag or --collection, not both") }
        let tagName = try collection.map { try replica.tagName(forCollection: $0) } ?? tag
        let records = try replica.list(tag: tagName, source: source, limit: limit)
        if a.json { return try Output.json(records) }
        if records.isEmpty {
            Output.message("no excerpts\(tag.map { " tagged '\($0)'" } ?? "")\(source.map { " from sources matching '\($0)'" } ?? "")")
            return
        }
        ExcerptPrinter.printList(records)
    }
}

enum ExcerptPrinter {
    static func printList(_ records: [ExcerptRecord]) {
        let width = Output.width
        for r in records {
            Output.line(Output.bold(Output.short(r.id)) + "  " + Output.clip(r.text, width - 10))
            var meta = "          " + Output.clip(Output.shortCitation(r), width - 10)
            if !r.tags.isEmpty { meta += "\n          " + r.tags.map { "#" + $0 }.joined(separator: " ") }
            if !r.notes.isEmpty { meta += "  (\(r.notes.count) note\(r.notes.count == 1 ? "" : "s"))" }
            Output.line(Output.dim(meta))
        }
    }
}
