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

/// What `gloss sync` was asked, and the common forms of its arguments read without
/// ArgumentParser.
///
/// `gloss sync` is what a scheduler or a script runs, often; ArgumentParser's parse reflects
/// over every command's properties, and in a fresh process each of its first type checks is a
/// scan of all the binary's protocol conformances: 5.6 ms of a 37 ms no-op sync (`perf record`,
/// docs/PERFORMANCE.md). `init?(quick:)` reads `--home PATH`, `--home=PATH`, `--json`,
/// `--timeout SECONDS` and `--timeout=SECONDS` (each at most once) and gives up on anything
/// else — help, `--version`, a typo, an empty value or one that starts with `-`, a repeated
/// option — which ArgumentParser then parses as always, errors and help included. Tests check
/// that what it reads is what `SyncOptions.parse` reads.
public struct SyncArguments: Equatable, Sendable {
    public var home: String?
    public var json = false
    public var timeout: Double = 60

    public init(home: String?, json: Bool, timeout: Double) {
        (self.home, self.json, self.timeout) = (home, json, timeout)
    }

    public init?(quick arguments: some Collection<String>) {
        var seen: Set<String> = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "--json":
                guard value == nil else { return nil }
                json = true
            case "--home", "--timeout":
                if value == nil { value = rest.popFirst() }
                guard let value, !value.isEmpty, !value.hasPrefix("-") else { return nil }
                if name == "--home" {
                    home = value
                } else {
                    guard let seconds = Double(value) else { return nil }
                    timeout = seconds
                }
            default:
                return nil
            }
        }
    }
}
