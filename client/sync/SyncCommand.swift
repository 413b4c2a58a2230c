import ArgumentParser
import GlossCLI
import GlossReplica
import GlossSyncClient

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: RemoteCommandAbstract.sync)

    @OptionGroup var options: SyncOptions

    func run() async throws { try await Self.sync(options.values) }

    static func sync(_ arguments: SyncArguments) async throws {
        let replica = try GlobalOptions.openReplica(home: arguments.home)
        let client = try SyncClient.forReplica(replica, timeout: arguments.timeout)
        let summary = try await client.sync()
        for message in summary.refused { Output.message("refused: \(message)") }
        for name in summary.dropped { Output.message("access to \(name) ended: its excerpts, links and notes were removed (your own notes stay)") }
        if arguments.json { return try Output.json(summary) }
        Output.line("pushed \(summary.pushed), pulled \(summary.pulled), conflicts \(summary.conflicts)")
    }
}
