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
    case lineTooLong(line: Int)

    public var description: String {
        switch self {
        case .invalidUTF8(let offset):
            "invalid UTF-8 at byte offset \(offset); fix the file or import with --replace-invalid to substitute U+FFFD"
        case .noExcerpts:
            "no excerpts found: an excerpt is one or more lines of text closed by a citation line ending in 'p. N'"
        case .lineTooLong(let line):
            "line \(line) is longer than \(CompilationStream.maxLineBytes >> 20) MiB: a compilation is lines of text; is this the right file?"
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

    /// The whole file at once, excerpts in file order without repeats. For large files use
    /// `CompilationStream`, which keeps only the current excerpt in memory.
    public func parse(_ input: [UInt8], invalidUTF8: InvalidUTF8Policy = .fail) throws -> ParsedCorpus {
        var stream = CompilationStream(invalidUTF8: invalidUTF8)
        var excerpts: [Excerpt] = []
        excerpts.reserveCapacity(input.count / 400)
        var seen = Set<String>()
        func keep(_ e: Excerpt) { if seen.insert(e.id).inserted { excerpts.append(e) } }
        try input.withUnsafeBufferPointer { try stream.feed($0, emit: keep) }
        let summary = try stream.finish(emit: keep)
        return ParsedCorpus(title: summary.title, excerpts: excerpts, warnings: summary.warnings, sourceCount: summary.sourceCount)
    }

    static func clip(_ s: String) -> String {
        s.count > 70 ? "\"\(s.prefix(67))...\"" : "\"\(s)\""
    }
}

/// What a streamed parse found besides its excerpts.
public struct CorpusSummary: Sendable {
    public var title: String
    public var warnings: [String]
    /// Number of distinct sources (citations without their page part).
    public var sourceCount: Int
    /// Excerpts handed out, repeats included.
    public var excerptCount: Int
}

/// The compilation parser fed chunk by chunk (of any size, split anywhere): each excerpt is handed
/// to `emit` as soon as its citation line is read, so memory holds one excerpt and the table of
/// sources, not the file. A line may be up to `maxLineBytes` long (far above any excerpt; longer
/// is an error, wherever the chunks fall), so what is imported never depends on the chunking.
///
/// Errors (invalid UTF-8 under `.fail`, an over-long line) are thrown when the bad line is
/// reached, after earlier excerpts were emitted: a caller that must not keep half a file emits
/// into a transaction.
public struct CompilationStream {
    public static let maxLineBytes = 16 << 20
    private let invalidUTF8: InvalidUTF8Policy
    private var title: String?
    private var paragraphs: [String] = []
    private var firstTextLine = 0
    private var lineNumber = 0
    private var sources: [String: ParsedSource] = [:]
    private var warnings: [String] = []
    private var excerptCount = 0
    private var replaced = 0
    private var firstReplacedOffset = 0
    /// Bytes before the current chunk.
    private var consumed = 0
    /// An unfinished line carried over from the previous chunk, and where it started.
    private var partial: [UInt8] = []
    private var partialStart = 0
    /// The previous chunk ended in CR: an LF at the start of this one belongs to it.
    private var skipLF = false
    private var line: [UInt8] = []

    public init(invalidUTF8: InvalidUTF8Policy = .fail) {
        self.invalidUTF8 = invalidUTF8
        line.reserveCapacity(4096)
    }

    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Excerpt) throws -> Void) throws {
        let n = chunk.count
        var start = 0
        if skipLF, n > 0 {
            skipLF = false
            if chunk[0] == 0x0A { start = 1 }
        }
        while start < n {
            var end = start
            while end < n, chunk[end] != 0x0A, chunk[end] != 0x0D { end += 1 }
            if end == n {
                try carry(UnsafeBufferPointer(rebasing: chunk[start..<n]), at: consumed + start)
                break
            }
            if partial.isEmpty {
                guard end - start <= Self.maxLineBytes else { throw CorpusError.lineTooLong(line: lineNumber + 1) }
                try take(UnsafeBufferPointer(rebasing: chunk[start..<end]), at: consumed + start, emit: emit)
            } else {
                try carry(UnsafeBufferPointer(rebasing: chunk[start..<end]), at: consumed + start)
                try takePartial(emit: emit)
            }
            // past the line end; CRLF counts once, also when split between chunks
            if chunk[end] == 0x0D {
                if end + 1 < n {
                    start = chunk[end + 1] == 0x0A ? end + 2 : end + 1
                } else {
                    skipLF = true
                    start = n
                }
            } else {
                start = end + 1
            }
        }
        consumed += n
    }

    /// Ends the input: a last line without a line end is read, then the summary is returned.
    public mutating func finish(emit: (Excerpt) throws -> Void) throws -> CorpusSummary {
        if !partial.isEmpty { try takePartial(emit: emit) }
        if !paragraphs.isEmpty {
            warnings.append("line \(firstTextLine) to the end: text with no citation line after it was not imported (\(paragraphs.count) line(s))")
        }
        if replaced > 0 {
            warnings.insert("replaced \(replaced) invalid UTF-8 sequence(s) with U+FFFD, the first at byte offset \(firstReplacedOffset)", at: 0)
        }
        if excerptCount == 0 { throw CorpusError.noExcerpts }
        return CorpusSummary(title: title ?? "", warnings: warnings, sourceCount: sources.count, excerptCount: excerptCount)
    }

    /// Keeps an unfinished line until its end arrives.
    private mutating func carry(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) throws {
        if partial.isEmpty { partialStart = offset }
        guard partial.count + bytes.count <= Self.maxLineBytes else { throw CorpusError.lineTooLong(line: lineNumber + 1) }
        partial.append(contentsOf: bytes)
    }

    private mutating func takePartial(emit: (Excerpt) throws -> Void) throws {
        var carried = partial
        partial = []
        try carried.withUnsafeBufferPointer { try take($0, at: partialStart, emit: emit) }
        carried.removeAll(keepingCapacity: true)
        partial = carried
    }

    /// One raw line (without its line end) that starts at byte `offset` of the input.
    private mutating func take(_ raw: UnsafeBufferPointer<UInt8>, at offset: Int, emit: (Excerpt) throws -> Void) throws {
        lineNumber += 1
        // Line ends never fall inside a UTF-8 sequence, so checking line by line is checking the file.
        if let bad = UTF8Validation.firstInvalidOffset(raw) {
            switch invalidUTF8 {
            case .fail: throw CorpusError.invalidUTF8(offset: offset + bad)
            case .replace:
                if replaced == 0 { firstReplacedOffset = offset + bad }
                replaced += UTF8Validation.invalidSequenceCount(raw)
                let fixed = Array(String(decoding: raw, as: UTF8.self).utf8)
                try fixed.withUnsafeBufferPointer { try process($0, emit: emit) }
                return
            }
        }
        try process(raw, emit: emit)
    }

    private mutating func process(_ raw: UnsafeBufferPointer<UInt8>, emit: (Excerpt) throws -> Void) throws {
        // a BOM is white space to Normalise, so a leading one disappears here
        Normalise.line(raw, 0, raw.count, into: &line)
        if line.isEmpty { return }
        if title == nil {
            title = String(decoding: line, as: UTF8.self)
            return
        }
        if let split = CitationLine.split(line) {
            try citation(split, emit: emit)
            return
        }
        if paragraphs.isEmpty { firstTextLine = lineNumber }
        paragraphs.append(String(decoding: line, as: UTF8.self))
    }

    private mutating func citation(_ split: CitationLine.Split, emit: (Excerpt) throws -> Void) throws {
        let raw = String(decoding: line, as: UTF8.self)
        if paragraphs.isEmpty {
            warnings.append("line \(lineNumber): citation with no quoted text before it was skipped: \(CompilationParser.clip(raw))")
            return
        }
        let key = String(decoding: line[0..<split.prefixEnd], as: UTF8.self)
        let source: ParsedSource
        if let known = sources[key] {
            source = known
        } else {
            source = CitationFields.parse(key)
            sources[key] = source
            for w in source.warnings { warnings.append("line \(lineNumber): \(w): \(CompilationParser.clip(raw))") }
        }
        let text = paragraphs.joined(separator: "\n")
        paragraphs.removeAll(keepingCapacity: true)
        if text.utf8.count > Limits.maxExcerptTextBytes {
            warnings.append("lines \(firstTextLine)–\(lineNumber): excerpt text is over \(Limits.maxExcerptTextBytes) bytes; skipped")
            return
        }
        var remarks = source.remarks
        if let note = split.remark { remarks.append(note) }
        let citation = Citation(
            raw: raw, authors: source.authors, title: source.title, place: source.place,
            publisher: source.publisher, year: source.year, pages: split.pages, remarks: remarks)
        excerptCount += 1
        try emit(Excerpt(text: text, citation: citation, compilation: title ?? ""))
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
