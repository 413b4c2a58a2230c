import ArgumentParser
import Foundation
import GlossServer
import Logging

@main
struct Glossd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glossd", abstract: "The Gloss sync daemon.",
        version: "0.1.0",
        subcommands: [ServeCommand.self, UserCommand.self, TokenCommand.self])
}

/// `--database` (or GLOSSD_DATABASE): a SQLite file path.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "SQLite database file (default: $GLOSSD_DATABASE).")
    var database: String?

    func openService() throws -> SyncService {
        guard let location = database ?? ProcessInfo.processInfo.environment["GLOSSD_DATABASE"], !location.isEmpty else {
            throw ValidationError("give --database PATH (or set GLOSSD_DATABASE)")
        }
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            throw CLIError("this glossd has no PostgreSQL store yet; use a SQLite file path")
        }
        let now = Self.now
        return SyncService(store: try SQLiteStore(path: location, now: now()), limits: SyncLimits(), now: now)
    }

    static let now: @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
