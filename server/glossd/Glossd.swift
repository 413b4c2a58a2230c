import ArgumentParser
import Foundation
import GlossServer
import Logging
import PostgresNIO

@main
struct Glossd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glossd", abstract: "The Gloss sync daemon.",
        version: "0.1.0",
        subcommands: [ServeCommand.self, UserCommand.self, TokenCommand.self])
}

/// `--database` (or GLOSSD_DATABASE): a SQLite file path, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "SQLite database file, or postgres://USER[:PASSWORD]@HOST[:PORT]/DB (default: $GLOSSD_DATABASE).")
    var database: String?

    var location: String {
        get throws {
            guard let location = database ?? ProcessInfo.processInfo.environment["GLOSSD_DATABASE"], !location.isEmpty else {
                throw ValidationError("give --database PATH or postgres://… (or set GLOSSD_DATABASE)")
            }
            return location
        }
    }

    /// Opens the store (migrating it), runs `body`, closes it.
    /// `serving`: the daemon itself, which empties the WAL when it stops (see `SQLiteStore.close`).
    func withService<T: Sendable>(limits: SyncLimits = SyncLimits(), serving: Bool = false, _ body: @escaping @Sendable (SyncService) async throws -> T) async throws -> T {
        let location = try location
        let now = Self.now
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            var logger = Logger(label: "glossd.postgres")
            // errors only: the pool warns when it is asked for a connection a moment before run()
            logger.logLevel = .error
            let client = PostgresClient(configuration: try PostgresStore.configuration(url: location), backgroundLogger: logger)
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    await client.run()
                    return nil
                }
                defer { group.cancelAll() }
                let store = PostgresStore(client: client, logger: logger)
                try await store.migrate(now: now())
                return try await body(SyncService(store: store, limits: limits, now: now))
            }
        }
        let store = try SQLiteStore(path: location, now: now())
        let result: Result<T, any Error>
        do { result = .success(try await body(SyncService(store: store, limits: limits, now: now))) } catch { result = .failure(error) }
        await store.close(truncating: serving)
        return try result.get()
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
