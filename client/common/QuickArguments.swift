/// The plain forms of a command's arguments, read without ArgumentParser.
///
/// ArgumentParser's parse reflects over every command's properties, and in a new process each of
/// its first type checks is a scan of all the binary's protocol conformances: about two thirds of
/// the instructions of `gloss list` (callgrind, docs/PERFORMANCE.md). The commands run most often
/// — `list`, `show`, `search` and `gloss sync` — read their arguments here first. Only the plain
/// forms are read: `--NAME VALUE`, `--NAME=VALUE`, flags, and words that do not start with `-`,
/// each option at most once, options before, between or after the words (as ArgumentParser
/// reads known options anywhere, also around an argument that takes the rest of the line). Anything else — help, `--version`, a short option, a typo, an empty
/// value or one that starts with `-`, a repeated option, `--` — makes `read` give up, and
/// ArgumentParser parses the command as always, errors and help included. Tests check that what
/// each command reads here is what its parser reads.
public struct QuickArguments {
    /// Options given with a value, by name (`--home`).
    public var values: [String: String] = [:]
    public var flags: Set<String> = []
    /// The words that are not options or their values, in order.
    public var words: [String] = []

    /// - Parameters:
    ///   - options: the names of options that take a value.
    ///   - flags: the names of flags.
    public init?(_ arguments: some Collection<String>, options: Set<String>, flags: Set<String>) {
        var rest = arguments[...]
        var seen: Set<String> = []
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("-") else {
                guard !argument.isEmpty else { return nil }
                words.append(argument)
                continue
            }
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard seen.insert(name).inserted else { return nil }
            if flags.contains(name) {
                guard value == nil else { return nil }
                self.flags.insert(name)
            } else if options.contains(name) {
                if value == nil { value = rest.popFirst() }
                guard let value, !value.isEmpty, !value.hasPrefix("-") else { return nil }
                values[name] = value
            } else {
                return nil
            }
        }
    }
}
