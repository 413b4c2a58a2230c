import ArgumentParser
import GlossCLI

struct CollectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collection", abstract: "Add excerpts to or remove them from a collection (owner or editor).",
        subcommands: [CollectionAddCommand.self, CollectionRemoveCommand.self])
}

struct CollectionAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add excerpts to a collection.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "OWNER/TAG") var collection: String
    @Argument(help: "Excerpt ids or unique prefixes.") var ids: [String]

    func run() throws { try CollectionEdit.apply(global: global, collection: collection, ids: ids, present: true) }
}

struct CollectionRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove excerpts from a collection.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "OWNER/TAG") var collection: String
    @Argument(help: "Excerpt ids or unique prefixes.") var ids: [String]

    func run() throws { try CollectionEdit.apply(global: global, collection: collection, ids: ids, present: false) }
}

enum CollectionEdit {
    static func apply(global: GlobalOptions, collection: String, ids: [String], present: Bool) throws {
        if ids.isEmpty { throw ValidationError("give at least one excerpt id") }
        let replica = try global.openReplica()
        try replica.checkCanEdit(collection: collection)
        let tag = try replica.tagName(forCollection: collection)
        for id in ids {
            let excerptID = try replica.resolveExcerpt(id)
            let changed = try replica.setTags(excerptID: excerptID, tags: [tag], present: present)
            Output.line(changed.isEmpty ? "no change for \(Output.short(excerptID))" : "\(present ? "added" : "removed") \(Output.short(excerptID)) \(present ? "to" : "from") \(collection)")
        }
    }
}
