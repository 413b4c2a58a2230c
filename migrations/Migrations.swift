/// One SQL migration file, embedded at build time.
public struct MigrationFile: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
}

/// The migrations of each database, in order. Append-only, like the files themselves.
public enum Migrations {
    public static let replica: [MigrationFile] = [
        MigrationFile(version: 1, name: "replica/0001_replica.sql", sql: text(PackageResources._001_replica_sql)),
        MigrationFile(version: 2, name: "replica/0002_excerpt_outbox.sql", sql: text(PackageResources._002_excerpt_outbox_sql)),
        MigrationFile(version: 3, name: "replica/0003_note_index_at_commit.sql", sql: text(PackageResources._003_note_index_at_commit_sql)),
        MigrationFile(version: 4, name: "replica/0004_fts_hashsize.sql", sql: text(PackageResources._004_fts_hashsize_sql)),
    ]

    public static let server: [MigrationFile] = [
        MigrationFile(version: 1, name: "server/0001_server.sql", sql: text(PackageResources._001_server_sql)),
        MigrationFile(version: 2, name: "server/0002_change_log_by_stamp.sql", sql: text(PackageResources._002_change_log_by_stamp_sql)),
        MigrationFile(version: 3, name: "server/0003_user_numbers.sql", sql: text(PackageResources._003_user_numbers_sql)),
    ]

    public static let postgres: [MigrationFile] = [
        MigrationFile(version: 1, name: "postgres/0001_postgres.sql", sql: text(PackageResources._001_postgres_sql)),
    ]

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
