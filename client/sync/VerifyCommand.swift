import ArgumentParser
import GlossCLI
import GlossSyncClient

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: RemoteCommandAbstract.verify,
        discussion: "With --repair, refetch what is missing or damaged here and re-send what the daemon lacks, without deleting the replica.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Fix the differences found.") var repair = false

    func run() async throws {
        let replica = try global.openReplica()
        let report = try await SyncClient.forReplica(replica).verify(repair: repair)
        if output.json {
            try Output.json(report)
        } else {
            for d in report.differences {
                Output.line("\(d.kind): \(d.item)" + (d.here.map { "\n    here:   \($0)" } ?? "") + (d.daemon.map { "\n    daemon: \($0)" } ?? ""))
            }
            let state = "\(report.excerpts) excerpts, \(report.fields) fields"
            Output.line(report.consistent
                ? "consistent with the daemon (\(state))\(report.repaired ? " after repair" : "")"
                : "\(report.differences.count) difference(s) with the daemon (\(state))\(report.repaired ? " remain after repair" : "; run 'gloss verify --repair'")")
        }
        if !report.consistent { throw ExitCode(2) }
    }
}
