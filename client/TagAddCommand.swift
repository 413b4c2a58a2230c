import ArgumentParser
import GlossCLI

struct TagAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Tag an excerpt.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Excerpt id or unique prefix.") var id: String
    @Argument(help: "One or more tags.") var tags: [String]

    func validate() throws {
        if tags.isEmpty { throw ValidationError("give at least one tag") }
        if let shared = tags.first(where: { $0.contains("/") }) {
            throw ValidationError("'\(shared)' names a collection: use 'gloss collection add \(shared) ID'")
        }
    }

    func run() throws {
        let replica = try global.openReplica()
        let excerptID = try replica.resolveExcerpt(id)
        let changed = try replica.setTags(excerptID: excerptID, tags: tags, present: true)
        Output.line(changed.isEmpty ? "no change: already tagged" : "tagged \(Output.short(excerptID)) with \(changed.joined(separator: ", "))")
    }
}
