import ArgumentParser

/// `gloss-sync`: the commands of `gloss` that talk to glossd. `gloss` runs this binary, found
/// beside its own, for them (README.md in this folder says why).
@main
struct GlossSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gloss",
        abstract: "The commands of gloss that talk to glossd; gloss runs them here.",
        version: "0.1.0",
        subcommands: [SyncCommand.self, ShareCommand.self, UnshareCommand.self, CollectionsCommand.self, VerifyCommand.self])
}
