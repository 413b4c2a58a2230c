import ArgumentParser

// The options of the read commands run most often, and the same as plain values that
// `init?(quick:)` reads without ArgumentParser (`QuickArguments`); `gloss` tries that first.

/// `gloss list`'s options.
public struct ListOptions: ParsableArguments {
    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var output: OutputOptions
    @Option(help: "Only excerpts with this tag.") public var tag: String?
    @Option(help: "Only excerpts whose citation contains this text (case-insensitive).") public var source: String?
    @Option(help: "Only excerpts of a shared collection (OWNER/TAG).") public var collection: String?
    @Option(help: "At most this many excerpts.") public var limit: Int?

    public init() {}

    public var values: ListArguments {
        ListArguments(home: global.home, json: output.json, tag: tag, source: source, collection: collection, limit: limit)
    }
}

public struct ListArguments: Equatable, Sendable {
    public var home: String?
    public var json = false
    public var tag: String?
    public var source: String?
    public var collection: String?
    public var limit: Int?

    public init(home: String?, json: Bool, tag: String?, source: String?, collection: String?, limit: Int?) {
        (self.home, self.json, self.tag, self.source, self.collection, self.limit) = (home, json, tag, source, collection, limit)
    }

    public init?(quick arguments: some Collection<String>) {
        guard let q = QuickArguments(arguments, options: ["--home", "--tag", "--source", "--collection", "--limit"], flags: ["--json"]),
            q.words.isEmpty
        else { return nil }
        (home, json, tag, source, collection) = (q.values["--home"], q.flags.contains("--json"), q.values["--tag"], q.values["--source"], q.values["--collection"])
        if let text = q.values["--limit"] {
            guard let n = Int(text) else { return nil }
            limit = n
        }
    }
}

/// `gloss show`'s options.
public struct ShowOptions: ParsableArguments {
    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var output: OutputOptions
    @Argument(help: "Excerpt id or a unique prefix of it (4+ characters).") public var id: String

    public init() {}

    public var values: ShowArguments { ShowArguments(home: global.home, json: output.json, id: id) }
}

public struct ShowArguments: Equatable, Sendable {
    public var home: String?
    public var json = false
    public var id: String

    public init(home: String?, json: Bool, id: String) {
        (self.home, self.json, self.id) = (home, json, id)
    }

    public init?(quick arguments: some Collection<String>) {
        guard let q = QuickArguments(arguments, options: ["--home"], flags: ["--json"]), q.words.count == 1 else { return nil }
        (home, json, id) = (q.values["--home"], q.flags.contains("--json"), q.words[0])
    }
}

/// `gloss search`'s options.
public struct SearchOptions: ParsableArguments {
    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var output: OutputOptions
    @Argument(parsing: .remaining, help: "What to search for.") public var query: [String]
    @Option(help: "At most this many results.") public var limit = 20

    public init() {}

    public var values: SearchArguments { SearchArguments(home: global.home, json: output.json, query: query, limit: limit) }
}

public struct SearchArguments: Equatable, Sendable {
    public var home: String?
    public var json = false
    public var query: [String]
    public var limit = 20

    public init(home: String?, json: Bool, query: [String], limit: Int) {
        (self.home, self.json, self.query, self.limit) = (home, json, query, limit)
    }

    /// The words with the known options anywhere among them, as the parser's `.remaining`
    /// reads them (it takes only unknown dash-prefixed inputs as words: those go to the parser).
    public init?(quick arguments: some Collection<String>) {
        guard let q = QuickArguments(arguments, options: ["--home", "--limit"], flags: ["--json"]), !q.words.isEmpty
        else { return nil }
        (home, json, query) = (q.values["--home"], q.flags.contains("--json"), q.words)
        if let text = q.values["--limit"] {
            guard let n = Int(text) else { return nil }
            limit = n
        }
    }
}
