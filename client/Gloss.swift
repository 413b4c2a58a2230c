import ArgumentParser
import GlossCLI

@main
struct Gloss: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gloss",
        abstract: "Read, search and annotate excerpts offline; sync notes and tags with glossd.",
        discussion: "The replica lives in --home (or $GLOSS_HOME, default $XDG_DATA_HOME/gloss). Every read command takes --json.",
        version: "0.1.0",
        subcommands: [
            ImportCommand.self, ListCommand.self, ShowCommand.self, SearchCommand.self, NoteCommand.self,
            TagCommand.self, SourcesCommand.self, ExportCommand.self, HistoryCommand.self, StatusCommand.self,
            RemoteCommand.self, CollectionCommand.self,
        ] + remoteCommands)

    /// A command that runs in gloss-sync goes there before anything is parsed: `gloss sync` is
    /// what a scheduled or scripted sync runs, and parsing the whole command tree first cost
    /// every sync the time it took (`perf stat`, docs/PERFORMANCE.md). Everything else, and
    /// `gloss --help` listing those commands, goes through the parser as usual.
    ///
    /// `list`, `show` and `search` in their plain forms run without the parser too
    /// (`QuickArguments`): its parse was about two thirds of `gloss list`'s instructions.
    static func main() {
        let arguments = CommandLine.arguments
        if arguments.count > 1, let command = remoteCommands.first(where: { $0.configuration.commandName == arguments[1] }) {
            do { try GlossSyncBinary.exec(arguments[1], Array(arguments.dropFirst(2))) } catch { command.exit(withError: error) }
        }
        if arguments.count > 1 {
            let rest = arguments.dropFirst(2)
            do {
                switch arguments[1] {
                case "list": if let a = ListArguments(quick: rest) { return try ListCommand.run(a) }
                case "show": if let a = ShowArguments(quick: rest) { return try ShowCommand.run(a) }
                case "search": if let a = SearchArguments(quick: rest) { return try SearchCommand.run(a) }
                default: break
                }
            } catch {
                exit(withError: error)  // as the parser's path reports an error of a command's run
            }
        }
        main(nil)
    }

    /// The subcommands that run in gloss-sync (each declared a `PassedToGlossSync`, whose `run`
    /// passes it on; `main` passes them on before parsing anyway). Listed by type, not
    /// found among the subcommands by a cast: every failed `as?` on a type is a scan of all the
    /// binary's protocol conformances, half a millisecond of every command's start (`perf
    /// record`, docs/PERFORMANCE.md). Typed as the subcommands are: an array of
    /// `PassedToGlossSync` types joined to them was cast element by element, with such a
    /// lookup for each.
    static let remoteCommands: [any ParsableCommand.Type] = [
        SyncCommand.self, ShareCommand.self, UnshareCommand.self, CollectionsCommand.self, VerifyCommand.self,
    ]
}
