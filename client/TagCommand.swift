import ArgumentParser
import GlossCLI

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag", abstract: "Add, remove and list tags.",
        subcommands: [TagAddCommand.self, TagRemoveCommand.self, TagListCommand.self])
}
