import ArgumentParser
import GlossCLI

/// `gloss-sync`: the commands of `gloss` that talk to glossd. `gloss` runs this binary, found
/// beside its own, for them (README.md in this folder says why).
@main
struct GlossSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gloss",
        abstract: "The commands of gloss that talk to glossd; gloss runs them here.",
        version: "0.1.0",
        subcommands: [SyncCommand.self, ShareCommand.self, UnshareCommand.self, CollectionsCommand.self, VerifyCommand.self])

    /// `sync` with its usual arguments runs without ArgumentParser's parse (`SyncArguments`
    /// says why); anything else, help and mistakes included, goes through the parser.
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "sync", let quick = SyncArguments(quick: arguments.dropFirst()) {
            do { try await SyncCommand.sync(quick) } catch { exit(withError: error) }
            return
        }
        await main(nil)
    }
}
