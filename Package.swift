// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "gloss",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gloss", targets: ["gloss"]),
        .executable(name: "gloss-sync", targets: ["gloss-sync"]),
        .executable(name: "glossd", targets: ["glossd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // libsqlite3 from the system (Debian: libsqlite3-dev).
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // gzip bodies for the sync protocol (client and daemon).
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        // glibc's malloc_trim: glossd gives freed memory back once it is idle.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "GlossCompression", dependencies: ["CZlib", "CDeflate"], path: "Sources/GlossCompression", swiftSettings: strict),
        // Shared model: excerpts, citations, notes, tags, HLC, changes, merge, wire types. No I/O.
        .target(
            name: "GlossModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/GlossModel", swiftSettings: strict),
        // Corpus import: compilation text format and Gloss JSON export.
        .target(
            name: "GlossCorpus", dependencies: ["GlossModel"],
            path: "Sources/GlossCorpus", swiftSettings: strict),
        // Plain SQL migrations, embedded into the binaries.
        .target(
            name: "GlossMigrations", path: "migrations",
            exclude: ["README.md"],
            resources: [
                .embedInCode("replica/0001_replica.sql"),
                .embedInCode("replica/0002_excerpt_outbox.sql"),
                .embedInCode("replica/0003_note_index_at_commit.sql"),
                .embedInCode("replica/0004_fts_hashsize.sql"),
                .embedInCode("server/0001_server.sql"),
                .embedInCode("server/0002_change_log_by_stamp.sql"),
                .embedInCode("server/0003_user_numbers.sql"),
                .embedInCode("postgres/0001_postgres.sql"),
            ],
            swiftSettings: strict),
        // The sample corpus, embedded so `gloss import --sample` works from any folder.
        .target(
            name: "GlossSampleCorpus", path: "corpus",
            exclude: ["README.md"],
            resources: [.embedInCode("military-purges.txt")],
            swiftSettings: strict),
        // A thin, fast wrapper over libsqlite3 plus the migration runner.
        // gloss_bm25: FTS5's bm25 with the row's size joined in by the query (search ranking).
        .target(name: "CGlossRank", dependencies: ["CSQLite"], path: "Sources/CGlossRank"),
        .target(
            name: "GlossSQLite", dependencies: ["CSQLite", "CGlossRank", "GlossMigrations"],
            path: "Sources/GlossSQLite", swiftSettings: strict),
        // The client's local replica.
        .target(
            name: "GlossReplica",
            dependencies: ["GlossModel", "GlossCorpus", "GlossSQLite", "GlossSampleCorpus"],
            path: "Sources/GlossReplica", swiftSettings: strict),
        // Sync client over URLSession (libcurl on Linux).
        .target(
            name: "GlossSyncClient",
            dependencies: ["GlossModel", "GlossReplica", "GlossCompression"],
            path: "Sources/GlossSyncClient", swiftSettings: strict),
        // The CLI: `gloss` works offline and does not link the HTTP client; the commands that talk
        // to glossd are `gloss-sync`, which `gloss` runs for them (client/sync/README.md).
        .target(
            name: "GlossCLI",
            dependencies: ["GlossModel", "GlossCorpus", "GlossReplica", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "client/common", swiftSettings: strict),
        .executableTarget(
            name: "gloss",
            dependencies: [
                "GlossModel", "GlossCorpus", "GlossReplica", "GlossCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "client", exclude: ["common", "sync"], swiftSettings: strict),
        .executableTarget(
            name: "gloss-sync",
            dependencies: [
                "GlossModel", "GlossReplica", "GlossSyncClient", "GlossCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "client/sync", exclude: ["README.md"], swiftSettings: strict),
        // The sync daemon: storage protocol + stores, merge, HTTP API.
        .target(
            name: "GlossServer",
            dependencies: [
                "GlossModel", "GlossSQLite", "GlossCompression", "CMalloc",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "server/GlossServer", swiftSettings: strict),
        .executableTarget(
            name: "glossd",
            dependencies: [
                "GlossServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "server/glossd", swiftSettings: strict),
        .executableTarget(
            name: "gloss-bench", dependencies: ["GlossModel", "GlossCorpus", "GlossReplica", "GlossSyncClient", "GlossSQLite", "GlossMigrations"],
            path: "bench/Sources/gloss-bench", swiftSettings: strict),
        .testTarget(
            name: "GlossTests",
            dependencies: [
                "GlossModel", "GlossCorpus", "GlossSQLite", "GlossReplica", "GlossServer",
                "GlossSyncClient", "GlossCompression", "GlossCLI",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/GlossTests",
            swiftSettings: strict),
    ]
)
