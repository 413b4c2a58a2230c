/// The fields of one source: a citation line without its page part.
struct ParsedSource: Sendable {
    var authors: [String] = []
    var title = ""
    var place = ""
    var publisher = ""
    var year: Int?
    var remarks: [String] = []
    /// What could not be read (the field is then left empty).
    var warnings: [String] = []
}

/// Reads the fields of a source in the styles the compilations use:
/// - `Surname, Given I. Title. Place: Publisher, Year`
/// - `A and B. Title. …`, `A & B, Title. …`, `Surname, Given, Title. …`
/// - no author: `Political Archives of the Soviet Union (Vol. 1, No. 2) Commack, New York: …`
/// - footnote style: `E. H. Cookridge, Gehlen: Spy of the Century (New York: Random House, 1972)`
/// A part that cannot be read is left empty with a warning, never guessed.
enum CitationFields {
    static func parse(_ source: String) -> ParsedSource {
        var out = ParsedSource()
        let s = Substring(source)
        if s.hasSuffix(")"), let open = matchingOpen(s), s[open...].contains(":"), open > s.startIndex {
            parseFootnote(s, open: open, into: &out)
        } else {
            parseStandard(s, into: &out)
        }
        stripRole(&out)
        if out.title.isEmpty { out.warnings.append("no title could be read") }
        return out
    }

    // MARK: styles

    private static func parseFootnote(_ s: Substring, open: Substring.Index, into out: inout ParsedSource) {
        let inner = s[s.index(after: open)..<s.index(before: s.endIndex)]
        let outer = trimmed(s[..<open], extra: ",")
        if let comma = outer.range(of: ", ") {
            out.authors = [String(outer[..<comma.lowerBound])]
            out.title = String(outer[comma.upperBound...])
        } else {
            out.title = String(outer)
            out.warnings.append("no author could be read")
        }
        let (rest, year) = takeYear(inner)
        out.year = year
        if year == nil { out.warnings.append("no year could be read") }
        if let colon = rest.range(of: ": ") {
            out.place = String(trimmed(rest[..<colon.lowerBound]))
            out.publisher = String(trimmed(rest[colon.upperBound...], extra: ","))
        } else {
            out.publisher = String(trimmed(rest, extra: ","))
            out.warnings.append("no place could be read")
        }
    }

    private static func parseStandard(_ s: Substring, into out: inout ParsedSource) {
        let (rest, year) = takeYear(s)
        out.year = year
        if year == nil { out.warnings.append("no year could be read") }
        let (authors, afterAuthors) = takeAuthors(rest)
        out.authors = authors
        if authors.isEmpty { out.warnings.append("no author could be read") }
        let head: Substring
        if let colon = lastTopLevel(": ", in: afterAuthors) {
            head = afterAuthors[..<colon.lowerBound]
            out.publisher = String(trimmed(afterAuthors[colon.upperBound...], extra: ","))
        } else {
            head = afterAuthors
            out.warnings.append("no place or publisher could be read")
        }
        let (title, place) = splitTitlePlace(head)
        out.title = String(trimmed(title, extra: ","))
        out.place = String(trimmed(place))
        if place.isEmpty, !out.publisher.isEmpty { out.warnings.append("no place could be read") }
    }

    // MARK: pieces

    /// A trailing year (`, 1941`, `, c1990`, `,1956`, ` 1944`) within 1400–2100.
    static func takeYear(_ s: Substring) -> (Substring, Int?) {
        let t = trimmed(s, extra: ",.")
        let u = Array(t.utf8)
        let n = u.count
        guard n >= 4 else { return (t, nil) }
        let digits = u[(n - 4)...]
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return (t, nil) }
        var k = n - 4
        if k > 0, u[k - 1] == 0x63 { k -= 1 }  // "c1990"
        guard k == 0 || u[k - 1] == 0x20 || u[k - 1] == 0x2C else { return (t, nil) }
        let year = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard (1400...2100).contains(year) else { return (t, nil) }
        let cut = t.utf8.index(t.utf8.startIndex, offsetBy: k)
        return (trimmed(t[..<cut], extra: ","), year)
    }

    /// Authors at the start: `A and B.` / `A & B,` or `Surname, Given [I.]`; nil-empty when the
    /// start does not look like either (the rest is then everything).
    static func takeAuthors(_ s: Substring) -> ([String], Substring) {
        let tokens = s.split(separator: " ", omittingEmptySubsequences: true)
        guard tokens.count >= 3 else { return ([], s) }
        func rest(after index: Int) -> Substring {
            let end = tokens[index].endIndex
            return trimmed(s[end...])
        }
        // A and B. / A & B,
        if isName(tokens[0]), tokens[1] == "and" || tokens[1] == "&" {
            let second = tokens[2]
            if let last = second.last, last == "." || last == ",", isName(second.dropLast()) {
                return ([String(tokens[0]), String(second.dropLast())], rest(after: 2))
            }
        }
        // Surname, Given names and initials
        let first = tokens[0]
        guard first.hasSuffix(","), isName(first.dropLast()) else { return ([], s) }
        var i = 1
        while i < tokens.count, i <= 5 {
            let t = tokens[i]
            if isInitial(t) {
                if i + 1 < tokens.count, isInitial(tokens[i + 1]) { i += 1; continue }
                return ([tokens[0...i].joined(separator: " ")], rest(after: i))
            }
            if t.hasSuffix("."), isName(t.dropLast()) {
                return ([(tokens[0..<i] + [t.dropLast()]).joined(separator: " ")], rest(after: i))
            }
            if t.hasSuffix(","), isName(t.dropLast()) {
                return ([(tokens[0..<i] + [t.dropLast()]).joined(separator: " ")], rest(after: i))
            }
            if isName(t) { i += 1; continue }
            break
        }
        return ([], s)
    }

    /// Splits `Title. Place` at the last top-level `. ` that ends a word (not an initial such as
    /// the `N.` of `N. Y.`), or after a closing parenthesis; failing both, at the last `, `.
    static func splitTitlePlace(_ s: Substring) -> (Substring, Substring) {
        var depth = 0
        var candidate: (title: Substring.Index, place: Substring.Index)?
        var wordLength = 0
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            let next = s.index(after: i)
            switch c {
            case "(", "[": depth += 1
            case ")", "]":
                depth = max(0, depth - 1)
                if depth == 0, next < s.endIndex, s[next] == " " { candidate = (next, s.index(after: next)) }
            case ".":
                if depth == 0, wordLength >= 1, next < s.endIndex, s[next] == " " {
                    // a one-letter word followed by another initial is an abbreviation (N. Y.)
                    let after = s[s.index(after: next)...]
                    let initialFollows = after.count >= 2 && after.first!.isUppercase
                        && after[after.index(after: after.startIndex)] == "."
                    if wordLength >= 2 || !initialFollows { candidate = (i, s.index(after: next)) }
                }
            default: break
            }
            wordLength = c.isLetter || c.isNumber ? wordLength + 1 : 0
            i = next
        }
        if let candidate { return (s[..<candidate.title], s[candidate.place...]) }
        if let comma = lastTopLevel(", ", in: s) { return (s[..<comma.lowerBound], s[comma.upperBound...]) }
        return (s, s[s.endIndex...])
    }

    /// `Trans. and Ed. Secret Documents` → title `Secret Documents`, remark `Trans. and Ed.`
    static func stripRole(_ out: inout ParsedSource) {
        let roles = ["Trans. and Ed. ", "Trans. & Ed. ", "Ed. and Trans. ", "Eds. ", "Ed. ", "Trans. ", "Comp. "]
        for role in roles where out.title.hasPrefix(role) {
            out.remarks.append(String(role.dropLast()))
            out.title = String(out.title.dropFirst(role.count))
            return
        }
    }

    // MARK: helpers

    static func isName(_ t: Substring) -> Bool {
        guard let f = t.first, f.isUppercase, t.count >= 2 else { return false }
        return t.dropFirst().allSatisfy { $0.isLetter || $0 == "-" || $0 == "'" || $0 == "’" }
    }

    static func isInitial(_ t: Substring) -> Bool {
        t.count == 2 && t.first!.isUppercase && t.last == "."
    }

    static func matchingOpen(_ s: Substring) -> Substring.Index? {
        var depth = 0
        var i = s.endIndex
        while i > s.startIndex {
            i = s.index(before: i)
            if s[i] == ")" { depth += 1 } else if s[i] == "(" {
                depth -= 1
                if depth == 0 { return i }
            }
        }
        return nil
    }

    static func lastTopLevel(_ needle: String, in s: Substring) -> Range<Substring.Index>? {
        var depth = 0
        var found: Range<Substring.Index>?
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "(" || c == "[" { depth += 1 } else if c == ")" || c == "]" { depth = max(0, depth - 1) }
            if depth == 0, s[i...].hasPrefix(needle) { found = i..<s.index(i, offsetBy: needle.count) }
            i = s.index(after: i)
        }
        return found
    }

    static func trimmed(_ s: Substring, extra: String = "") -> Substring {
        var t = s
        while let f = t.first, f == " " { t = t.dropFirst() }
        while let l = t.last, l == " " || extra.contains(l) { t = t.dropLast() }
        return t
    }
}

/// UTF-8 validation on bytes (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
enum UTF8Validation {
    /// Length of the valid sequence starting at i, or 0 when invalid.
    @inline(__always)
    static func sequenceLength(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        let n = b.count
        let c = b[i]
        if c < 0x80 { return 1 }
        if c < 0xC2 { return 0 }
        if c < 0xE0 { return i + 1 < n && b[i + 1] & 0xC0 == 0x80 ? 2 : 0 }
        if c < 0xF0 {
            guard i + 2 < n, b[i + 1] & 0xC0 == 0x80, b[i + 2] & 0xC0 == 0x80 else { return 0 }
            if c == 0xE0 && b[i + 1] < 0xA0 { return 0 }
            if c == 0xED && b[i + 1] > 0x9F { return 0 }
            return 3
        }
        if c < 0xF5 {
            guard i + 3 < n, b[i + 1] & 0xC0 == 0x80, b[i + 2] & 0xC0 == 0x80, b[i + 3] & 0xC0 == 0x80 else { return 0 }
            if c == 0xF0 && b[i + 1] < 0x90 { return 0 }
            if c == 0xF4 && b[i + 1] > 0x8F { return 0 }
            return 4
        }
        return 0
    }

    static func firstInvalidOffset(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < b.count {
            if b[i] < 0x80 { i += 1; continue }
            let len = sequenceLength(b, i)
            if len == 0 { return i }
            i += len
        }
        return nil
    }

    static func invalidSequenceCount(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        var i = 0
        var count = 0
        while i < b.count {
            let len = sequenceLength(b, i)
            if len == 0 { count += 1; i += 1 } else { i += len }
        }
        return count
    }
}
