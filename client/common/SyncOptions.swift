import ArgumentParser

/// `gloss sync`'s options (the command itself is in gloss-sync, which links the HTTP client).
public struct SyncOptions: ParsableArguments {
    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var output: OutputOptions
    @Option(help: "Seconds to wait for the daemon before giving up.") public var timeout: Double = 60

    public init() {}

    /// The options as plain values.
    public var values: SyncArguments { SyncArguments(home: global.home, json: output.json, timeout: timeout) }
}

/// What `gloss sync` was asked, and the plain forms of its arguments read without
/// ArgumentParser (`QuickArguments`).
///
/// `gloss sync` is what a scheduler or a script runs, often: the parse was 5.6 ms of a 37 ms
/// no-op sync (`perf record`, docs/PERFORMANCE.md). `init?(quick:)` reads `--home PATH`,
/// `--json` and `--timeout SECONDS` (also as `--NAME=VALUE`) and gives up on anything else.
public struct SyncArguments: Equatable, Sendable {
    public var home: String?
    public var json = false
    public var timeout: Double = 60

    public init(home: String?, json: Bool, timeout: Double) {
        (self.home, self.json, self.timeout) = (home, json, timeout)
    }

    public init?(quick arguments: some Collection<String>) {
        guard let q = QuickArguments(arguments, options: ["--home", "--timeout"], flags: ["--json"]), q.words.isEmpty else { return nil }
        home = q.values["--home"]
        json = q.flags.contains("--json")
        if let text = q.values["--timeout"] {
            guard let seconds = Double(text) else { return nil }
            timeout = seconds
        }
    }
}
