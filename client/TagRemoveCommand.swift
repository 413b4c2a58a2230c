import ArgumentParser
import GlossCLI

struct TagRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove tags from an excerpt.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Excerpt id or unique prefix.") var id: String
    @Argument(help: "One or more tags.") var tags: [String]

    func validate() throws { if tags.isEmpty { throw ValidationError("give at least one tag") } }

    func run() throws {
        let replica = try global.openReplica()
        let excerptID = try replica.resolveExcerpt(id)
        let changed = try replica.setTags(excerptID: excerptID, tags: tags, present: false)
        Output.line(changed.isEmpty ? "no change: not tagged" : "removed \(changed.joined(separator: ", ")) from \(Output.short(excerptID))")
    }
}
