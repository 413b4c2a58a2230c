import ArgumentParser
import GlossCLI

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Pending changes, remote and last sync.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let s = try global.openReplica().status()
        if output.json { return try Output.json(s) }
        Output.line("replica   \(global.resolvedHome) (id \(s.replicaId))")
        Output.line("excerpts  \(s.excerpts), notes \(s.notes)")
        Output.line("pending   \(s.pending) change(s) not yet synced")
        Output.line("remote    \(s.remote ?? "none (gloss remote set URL --token TOKEN)")")
        Output.line("last sync \(s.lastSync ?? "never")")
    }
}
