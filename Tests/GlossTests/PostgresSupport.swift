import Foundation
import GlossServer
import Logging
import PostgresNIO
import Testing

/// PostgreSQL for the tests: `GLOSS_TEST_POSTGRES_URL` names a server (.ci/run starts a
/// throwaway cluster). Without it the PostgreSQL tests are skipped locally, and fail under CI.
enum TestPostgres {
    static var url: String? {
        let u = ProcessInfo.processInfo.environment["GLOSS_TEST_POSTGRES_URL"]
        return (u?.isEmpty ?? true) ? nil : u
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Records a failure when CI should have provided a database.
    static func requireInCI() {
        if url == nil && isCI { Issue.record("CI must set GLOSS_TEST_POSTGRES_URL (.ci/run starts PostgreSQL)") }
    }

    /// A new empty database on the test server; returns its URL.
    static func freshDatabase() async throws -> String {
        guard let url else { throw CLIFailure("no GLOSS_TEST_POSTGRES_URL") }
        let name = "gloss_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let admin = PostgresClient(configuration: try PostgresStore.configuration(url: url), backgroundLogger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
            group.cancelAll()
        }
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }

    /// A migrated store on a fresh database; its client runs until the test process ends.
    static func freshStore(analyzeAfterRows: Int = 10_000) async throws -> PostgresStore {
        let url = try await freshDatabase()
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error
        let client = PostgresClient(configuration: try PostgresStore.configuration(url: url), backgroundLogger: logger)
        Task.detached { await client.run() }
        let store = PostgresStore(client: client, logger: logger, analyzeAfterRows: analyzeAfterRows)
        try await store.migrate(now: 0)
        return store
    }
}
