import ArgumentParser
import GlossCLI

struct TagListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tags with how many excerpts carry each.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let counts = try global.openReplica().tagCounts()
        if output.json { return try Output.json(counts) }
        if counts.isEmpty { return Output.message("no tags") }
        let w = counts.map(\.name.count).max() ?? 0
        for t in counts { Output.line(t.name.padding(toLength: max(w, 4), withPad: " ", startingAt: 0) + "  \(t.count)") }
    }
}
