import ArgumentParser
import GlossCLI
import GlossSyncClient

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: RemoteCommandAbstract.sync)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Seconds to wait for the daemon before giving up.") var timeout: Double = 60

    func run() async throws {
        let replica = try global.openReplica()
        let client = try SyncClient.forReplica(replica, timeout: timeout)
        let summary = try await client.sync()
        for message in summary.refused { Output.message("refused: \(message)") }
        for name in summary.dropped { Output.message("access to \(name) ended: its excerpts, links and notes were removed (your own notes stay)") }
        if output.json { return try Output.json(summary) }
        Output.line("pushed \(summary.pushed), pulled \(summary.pulled), conflicts \(summary.conflicts)")
    }
}
