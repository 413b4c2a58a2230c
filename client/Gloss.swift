import ArgumentParser

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
            RemoteCommand.self, SyncCommand.self, ShareCommand.self, UnshareCommand.self, CollectionsCommand.self,
            CollectionCommand.self, VerifyCommand.self,
        ])
}
