import Crypto

/// A structured bibliographic citation. Fields that could not be read are empty (`year` nil), never
/// guessed; `raw` always keeps the line as written.
public struct Citation: Sendable, Hashable, Codable {
    public var raw: String
    public var authors: [String]
    public var title: String
    public var place: String
    public var publisher: String
    public var year: Int?
    public var pages: String
    /// Editorial remarks found in the line that belong to no field ("Trans. and Ed.",
    /// "p. 155 on the NET").
    public var remarks: [String]

    public init(
        raw: String, authors: [String] = [], title: String = "", place: String = "",
        publisher: String = "", year: Int? = nil, pages: String = "", remarks: [String] = []
    ) {
        self.raw = raw
        self.authors = authors
        self.title = title
        self.place = place
        self.publisher = publisher
        self.year = year
        self.pages = pages
        self.remarks = remarks
    }

    enum CodingKeys: String, CodingKey { case raw, authors, title, place, publisher, year, pages, remarks }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        raw = try c.decode(String.self, forKey: .raw)
        authors = try c.decodeIfPresent([String].self, forKey: .authors) ?? []
        title = try c.decodeIfPresent(String.self, forKey: .title) ?? ""
        place = try c.decodeIfPresent(String.self, forKey: .place) ?? ""
        publisher = try c.decodeIfPresent(String.self, forKey: .publisher) ?? ""
        year = try c.decodeIfPresent(Int.self, forKey: .year)
        pages = try c.decodeIfPresent(String.self, forKey: .pages) ?? ""
        remarks = try c.decodeIfPresent([String].self, forKey: .remarks) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(raw, forKey: .raw)
        try c.encode(authors, forKey: .authors)
        try c.encode(title, forKey: .title)
        try c.encode(place, forKey: .place)
        try c.encode(publisher, forKey: .publisher)
        try c.encode(year, forKey: .year)  // null when unknown
        try c.encode(pages, forKey: .pages)
        try c.encode(remarks, forKey: .remarks)
    }
}

/// A quoted passage with its citation. Immutable: its id is derived from its content.
public struct Excerpt: Sendable, Hashable, Codable {
    public var id: String
    public var text: String
    public var citation: Citation
    /// Title of the compilation it was imported from ("" when unknown).
    public var compilation: String

    public init(text: String, citation: Citation, compilation: String = "") {
        self.id = Excerpt.id(text: text, rawCitation: citation.raw)
        self.text = text
        self.citation = citation
        self.compilation = compilation
    }

    public init(id: String, text: String, citation: Citation, compilation: String) {
        self.id = id
        self.text = text
        self.citation = citation
        self.compilation = compilation
    }

    enum CodingKeys: String, CodingKey { case id, text, citation, compilation }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        text = try c.decode(String.self, forKey: .text)
        citation = try c.decode(Citation.self, forKey: .citation)
        compilation = try c.decodeIfPresent(String.self, forKey: .compilation) ?? ""
    }

    /// The content-derived id: the first 128 bits of SHA-256 over the normalised text and the raw
    /// citation, as 32 hex digits. Callers pass text and citation already normalised (the parser
    /// does), so the same passage gets the same id on every machine.
    public static func id(text: String, rawCitation: String) -> String {
        // hashed where the strings' UTF-8 already lies (copying each into an array first was a
        // third of this function's time in a daemon checking pushed excerpts)
        var hasher = SHA256()
        hash(text, into: &hasher)
        withUnsafeBytes(of: UInt8(0x1E)) { hasher.update(bufferPointer: $0) }  // record separator: text and citation never run together
        hash(rawCitation, into: &hasher)
        let digest = hasher.finalize()
        return String(unsafeUninitializedCapacity: 32) { out in
            var i = 0
            for byte in digest.prefix(16) {
                out[i] = hexDigit(byte >> 4)
                out[i + 1] = hexDigit(byte & 0xF)
                i += 2
            }
            return 32
        }
    }

    private static func hash(_ s: String, into hasher: inout SHA256) {
        var s = s
        s.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }

    /// True when `id` has the shape of an excerpt id (32 lowercase hex digits).
    public static func isValidID(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { bytes in bytes.count == 32 && bytes.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) } }
    }

    /// Checks that the id matches the content (a peer could send anything).
    public var hasConsistentID: Bool { id == Excerpt.id(text: text, rawCitation: citation.raw) }
}

/// A note on an excerpt. `collection` is `OWNER/TAG` for a note written into a shared collection,
/// nil for a personal note.
public struct Note: Sendable, Hashable, Codable {
    public var id: String
    public var excerptId: String
    public var body: String
    /// Milliseconds since 1970.
    public var createdAt: Int64
    public var updatedAt: Int64
    public var collection: String?

    public init(id: String, excerptId: String, body: String, createdAt: Int64, updatedAt: Int64, collection: String? = nil) {
        self.id = id
        self.excerptId = excerptId
        self.body = body
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.collection = collection
    }
}

/// Validation rules shared by the CLI, the replica and the daemon.
public enum Limits {
    public static let maxNoteBytes = 64 * 1024
    public static let maxTagBytes = 64
    public static let maxExcerptTextBytes = 256 * 1024
    public static let maxCitationBytes = 4 * 1024

    /// Tags are 1–64 bytes of letters, digits and `-_.+#`; no spaces, `/` or `:` (those separate
    /// `OWNER/TAG` and field keys).
    public static func validateTag(_ tag: String) -> String? {
        if tag.isEmpty { return "a tag cannot be empty" }
        if tag.utf8.count > maxTagBytes { return "tag '\(tag.prefix(20))…' is longer than \(maxTagBytes) bytes" }
        for scalar in tag.unicodeScalars {
            let ok: Bool
            switch scalar.value {
            // ASCII answered without Unicode's property tables (~300 instructions a lookup, 1 % of
            // glossd's CPU taking a push of notes and tags): its only Alphabetic scalars are A–Z and
            // a–z, its only ones with a Numeric_Type 0–9
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: ok = true
            case 0..<0x80: ok = "-_.+#".unicodeScalars.contains(scalar)
            default: ok = scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            }
            if !ok {
                return "tag '\(tag)' may contain only letters, digits and - _ . + # (found '\(scalar)')"
            }
        }
        return nil
    }

    /// User names: 1–64 letters, digits, `-`, `_` or `.`.
    public static func validateUserName(_ name: String) -> String? {
        let ok = !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
        return ok ? nil : "a user name is 1–64 letters, digits, '-', '_' or '.'"
    }

    /// A shared collection's name: `OWNER/TAG`.
    public static func validateCollectionName(_ name: String) -> String? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "a collection is named OWNER/TAG (got '\(name.prefix(80))')" }
        return validateUserName(String(parts[0])) ?? validateTag(String(parts[1]))
    }

    /// A tag link's name: a personal tag, or `OWNER/TAG` for the link of someone's shared
    /// collection.
    public static func validateTagLink(_ name: String) -> String? {
        name.utf8.contains(UInt8(ascii: "/")) ? validateCollectionName(name) : validateTag(name)
    }

    public static func validateNoteBody(_ body: String) -> String? {
        if body.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) { return "a note cannot be empty" }
        if body.utf8.count > maxNoteBytes { return "note is \(body.utf8.count) bytes; the limit is \(maxNoteBytes)" }
        return nil
    }
}

extension StringProtocol {
    /// The string without leading and trailing white space (including no-break spaces).
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
