import GlossModel

/// What to do with bytes that are not valid UTF-8.
public enum InvalidUTF8Policy: Sendable {
    /// Stop with an error naming the byte offset.
    case fail
    /// Replace each invalid sequence with U+FFFD and report it as a warning.
    case replace
}

public enum CorpusError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidUTF8(offset: Int)
    case noExcerpts

    public var description: String {
        switch self {
        case .invalidUTF8(let offset):
            "invalid UTF-8 at byte offset \(offset); fix the file or import with --replace-invalid to substitute U+FFFD"
        case .noExcerpts:
            "no excerpts found: an excerpt is one or more lines of text closed by a citation line ending in 'p. N'"
        }
    }
}

/// A compilation read from a file: its title, its excerpts in file order and what could not be read.
public struct ParsedCorpus: Sendable {
    public var title: String
    public var excerpts: [Excerpt]
    public var warnings: [String]
    /// Number of distinct sources (citations without their page part).
    public var sourceCount: Int
}

/// Parses the compilation text format (DESIGN.md): a title line, then excerpts, each one or more
/// lines of quoted text closed by one citation line. Blank lines carry no meaning.
///
/// Works on bytes: line ends (LF, CRLF, CR), a BOM, tabs, no-break spaces and runs of spaces are
/// normalised before anything is hashed, so ids do not depend on them.
public struct CompilationParser: Sendable {
    public init() {}

    public func parse(_ input: [UInt8], invalidUTF8: InvalidUTF8Policy = .fail) throws -> ParsedCorpus {
        var warnings: [String] = []
        var bytes = input
        if let bad = UTF8Validation.firstInvalidOffset(bytes) {
            switch invalidUTF8 {
            case .fail: throw CorpusError.invalidUTF8(offset: bad)
            case .replace:
                let count = UTF8Validation.invalidSequenceCount(bytes)
                warnings.append("replaced \(count) invalid UTF-8 sequence(s) with U+FFFD, the first at byte offset \(bad)")
                bytes = Array(String(decoding: bytes, as: UTF8.self).utf8)
            }
        }
        var title: String?
        var paragraphs: [String] = []
        var firstTextLine = 0
        var excerpts: [Excerpt] = []
        excerpts.reserveCapacity(bytes.count / 400)
        var sources: [String: ParsedSource] = [:]
        var seen = Set<String>()
        var line = [UInt8]()
        line.reserveCapacity(4096)

        bytes.withUnsafeBufferPointer { buf in
            var lineNumber = 0
            var start = 0
            let n = buf.count
            if n >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { start = 3 }
            while start < n {
                var end = start
                while end < n, buf[end] != 0x0A, buf[end] != 0x0D { end += 1 }
                lineNumber += 1
                Normalise.line(buf, start, end, into: &line)
                // advance past the line end (CRLF counts once)
                if end < n, buf[end] == 0x0D, end + 1 < n, buf[end + 1] == 0x0A { start = end + 2 } else { start = end + 1 }
                if line.isEmpty { continue }
                if title == nil {
                    title = String(decoding: line, as: UTF8.self)
                    continue
                }
                if let split = CitationLine.split(line) {
                    let raw = String(decoding: line, as: UTF8.self)
                    if paragraphs.isEmpty {
                        warnings.append("line \(lineNumber): citation with no quoted text before it was skipped: \(Self.clip(raw))")
                        continue
                    }
                    let key = String(decoding: line[0..<split.prefixEnd], as: UTF8.self)
                    let source: ParsedSource
                    if let known = sources[key] {
                        source = known
                    } else {
                        source = CitationFields.parse(key)
                        sources[key] = source
                        for w in source.warnings { warnings.append("line \(lineNumber): \(w): \(Self.clip(raw))") }
                    }
                    var remarks = source.remarks
                    if let note = split.remark { remarks.append(note) }
                    let citation = Citation(
                        raw: raw, authors: source.authors, title: source.title, place: source.place,
                        publisher: source.publisher, year: source.year, pages: split.pages, remarks: remarks)
                    let text = paragraphs.joined(separator: "\n")
                    paragraphs.removeAll(keepingCapacity: true)
                    if text.utf8.count > Limits.maxExcerptTextBytes {
                        warnings.append("lines \(firstTextLine)–\(lineNumber): excerpt text is over \(Limits.maxExcerptTextBytes) bytes; skipped")
                        continue
                    }
                    let excerpt = Excerpt(text: text, citation: citation, compilation: title ?? "")
                    if seen.insert(excerpt.id).inserted { excerpts.append(excerpt) }
                } else {
                    if paragraphs.isEmpty { firstTextLine = lineNumber }
                    paragraphs.append(String(decoding: line, as: UTF8.self))
                }
            }
        }
        if !paragraphs.isEmpty {
            warnings.append("line \(firstTextLine) to the end: text with no citation line after it was not imported (\(paragraphs.count) line(s))")
        }
        if excerpts.isEmpty { throw CorpusError.noExcerpts }
        return ParsedCorpus(title: title ?? "", excerpts: excerpts, warnings: warnings, sourceCount: sources.count)
    }

    static func clip(_ s: String) -> String {
        s.count > 70 ? "\"\(s.prefix(67))...\"" : "\"\(s)\""
    }
}

/// White space normalisation of one line, on bytes: tabs, no-break and other Unicode spaces and
/// runs of them become one ASCII space; leading and trailing space is dropped.
enum Normalise {
    @inline(__always)
    static func spaceLength(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        let b = buf[i]
        if b == 0x20 || b == 0x09 || b == 0x0B || b == 0x0C { return 1 }
        if b < 0xC2 { return 0 }
        if b == 0xC2, i + 1 < end, buf[i + 1] == 0xA0 { return 2 }  // U+00A0
        if b == 0xE2, i + 2 < end {
            let b1 = buf[i + 1], b2 = buf[i + 2]
            if b1 == 0x80, (b2 >= 0x80 && b2 <= 0x8A) || b2 == 0xAF { return 3 }  // U+2000–200A, U+202F
            if b1 == 0x81, b2 == 0x9F { return 3 }  // U+205F
        }
        if b == 0xE3, i + 2 < end, buf[i + 1] == 0x80, buf[i + 2] == 0x80 { return 3 }  // U+3000
        if b == 0xEF, i + 2 < end, buf[i + 1] == 0xBB, buf[i + 2] == 0xBF { return 3 }  // stray BOM
        return 0
    }

    static func line(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var i = start
        var pendingSpace = false
        while i < end {
            let b = buf[i]
            if b < 0x80, b != 0x20, b != 0x09, b != 0x0B, b != 0x0C {
                if pendingSpace {
                    if !out.isEmpty { out.append(0x20) }
                    pendingSpace = false
                }
                out.append(b)
                i += 1
                continue
            }
            let s = spaceLength(buf, i, end)
            if s > 0 {
                pendingSpace = true
                i += s
            } else {
                if pendingSpace {
                    if !out.isEmpty { out.append(0x20) }
                    pendingSpace = false
                }
                out.append(b)
                i += 1
            }
        }
    }
}

extension CompilationParser {
    /// The source part of a raw citation line (the line without its page part): excerpts whose
    /// citations share it come from the same source. A line that is not a citation is its own key.
    public static func sourceKey(rawCitation: String) -> String {
        let bytes = Array(rawCitation.utf8)
        guard let split = CitationLine.split(bytes) else { return rawCitation }
        return String(decoding: bytes[0..<split.prefixEnd], as: UTF8.self)
    }
}

/// Recognises a citation line by its end: `, p. N`, `, pp. N--M.`, optionally followed by a
/// bracketed note (`p. 169 [p. 155 on the NET]`).
enum CitationLine {
    struct Split {
        /// End of the source part (the citation without its page part), exclusive.
        var prefixEnd: Int
        var pages: String
        var remark: String?
    }

    static func split(_ b: [UInt8]) -> Split? {
        let n = b.count
        guard n >= 12, n <= Limits.maxCitationBytes else { return nil }
        var i = n
        func skipSpaces() { while i > 0, b[i - 1] == 0x20 { i -= 1 } }
        if b[i - 1] == 0x2E { i -= 1 }  // final period
        var remark: String?
        if i > 0, b[i - 1] == 0x5D {  // ']'
            var j = i - 1
            while j > 0, b[j - 1] != 0x5B { j -= 1 }
            guard j > 0 else { return nil }
            remark = String(decoding: b[j..<(i - 1)], as: UTF8.self)
            i = j - 1
            skipSpaces()
            if i > 0, b[i - 1] == 0x2E { i -= 1 }
        }
        // page numbers: digits and hyphens / en dashes
        let pagesEnd = i
        var sawDigit = false
        while i > 0 {
            let c = b[i - 1]
            if c >= 0x30 && c <= 0x39 {
                sawDigit = true
                i -= 1
            } else if c == 0x2D {
                i -= 1
            } else if c == 0x93, i >= 3, b[i - 2] == 0x80, b[i - 3] == 0xE2 {  // en dash
                i -= 3
            } else {
                break
            }
        }
        guard sawDigit, i < pagesEnd, b[i] >= 0x30, b[i] <= 0x39 else { return nil }
        let pagesStart = i
        skipSpaces()
        // "p." or "pp."
        guard i >= 3, b[i - 1] == 0x2E, b[i - 2] == 0x70 else { return nil }
        i -= 2
        if i > 0, b[i - 1] == 0x70 { i -= 1 }
        guard i > 0, b[i - 1] == 0x20 else { return nil }
        skipSpaces()
        guard i > 0 else { return nil }
        let sep = b[i - 1]
        guard sep == 0x2C || sep == 0x2E else { return nil }
        var prefixEnd = i - 1
        if sep == 0x2E, prefixEnd > 0, !(b[prefixEnd - 1] >= 0x30 && b[prefixEnd - 1] <= 0x39) { prefixEnd = i }
        while prefixEnd > 0, b[prefixEnd - 1] == 0x20 { prefixEnd -= 1 }
        guard prefixEnd >= 8 else { return nil }
        // a source names a place and publisher ("Place: Publisher") or a year
        var hasColon = false
        var digitRun = 0
        var hasYearLike = false
        for k in 0..<prefixEnd {
            let c = b[k]
            if c == 0x3A { hasColon = true }
            if c >= 0x30 && c <= 0x39 {
                digitRun += 1
                if digitRun == 4 { hasYearLike = true }
            } else {
                digitRun = 0
            }
        }
        guard hasColon || hasYearLike else { return nil }
        var pages = [UInt8]()
        var k = pagesStart
        while k < pagesEnd {
            if b[k] == 0x2D || b[k] == 0xE2 {  // "-", "--" and "–" all become "-"
                if pages.last != 0x2D { pages.append(0x2D) }
                k += b[k] == 0xE2 ? 3 : 1
            } else {
                pages.append(b[k])
                k += 1
            }
        }
        return Split(prefixEnd: prefixEnd, pages: String(decoding: pages, as: UTF8.self), remark: remark)
    }
}
