import ArgumentParser
import GlossCLI

struct SourcesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sources", abstract: "List sources with their excerpt counts.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let sources = try global.openReplica().sources()
        if output.json { return try Output.json(sources) }
        for s in sources {
            Output.line(String(s.excerpts).leftPad(4) + "  " + Output.clip(s.source, Output.width - 6))
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
