import Foundation
import GlossModel

/// One excerpt as `gloss show --json` and `gloss export --format json` write it.
public struct ExcerptRecord: Sendable, Codable, Hashable {
    public var id: String
    public var text: String
    public var citation: Citation
    public var compilation: String
    public var tags: [String]
    public var notes: [NoteRecord]

    public init(excerpt: Excerpt, tags: [String], notes: [NoteRecord]) {
        id = excerpt.id
        text = excerpt.text
        citation = excerpt.citation
        compilation = excerpt.compilation
        self.tags = tags
        self.notes = notes
    }

    public var excerpt: Excerpt { Excerpt(id: id, text: text, citation: citation, compilation: compilation) }

    enum CodingKeys: String, CodingKey { case id, text, citation, compilation, tags, notes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        text = try c.decode(String.self, forKey: .text)
        citation = try c.decode(Citation.self, forKey: .citation)
        compilation = try c.decodeIfPresent(String.self, forKey: .compilation) ?? ""
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        notes = try c.decodeIfPresent([NoteRecord].self, forKey: .notes) ?? []
    }
}

/// A note in JSON: `{"id", "excerptId", "body", "createdAt", "updatedAt"}` (ISO 8601 times).
public struct NoteRecord: Sendable, Codable, Hashable {
    public var id: String
    public var excerptId: String
    public var body: String
    public var createdAt: String
    public var updatedAt: String
    public var collection: String?

    public init(_ note: Note) {
        id = note.id
        excerptId = note.excerptId
        body = note.body
        createdAt = ISOTime.format(note.createdAt)
        updatedAt = ISOTime.format(note.updatedAt)
        collection = note.collection
    }
}

/// `gloss export --format json`: `{"excerpts": [...], "exportedAt", "count"}`; `gloss import` reads it.
public struct ExportDocument: Sendable, Codable {
    public var format: String
    public var exportedAt: String
    public var count: Int
    public var excerpts: [ExcerptRecord]

    public init(excerpts: [ExcerptRecord], exportedAt: Int64) {
        format = "gloss-export-1"
        self.exportedAt = ISOTime.format(exportedAt)
        count = excerpts.count
        self.excerpts = excerpts
    }

    enum CodingKeys: String, CodingKey { case format, exportedAt, count, excerpts }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? "gloss-export-1"
        exportedAt = try c.decodeIfPresent(String.self, forKey: .exportedAt) ?? ""
        excerpts = try c.decode([ExcerptRecord].self, forKey: .excerpts)
        count = excerpts.count
    }
}

public enum ISOTime {
    /// `2026-11-25T01:02:03.456Z` (UTC).
    public static func format(_ ms: Int64) -> String {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        let millis = Int32(((ms % 1000) + 1000) % 1000)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
    }

    /// Milliseconds since 1970 from an ISO 8601 date and time: the form `format` writes is read
    /// directly; other forms (an offset instead of `Z`, no fraction) through Foundation.
    public static func parse(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        if hasUTCShape(b) { return parseUTC(b) }
        // a formatter costs ~0.3 ms to create (ICU): importing 50k notes made it most of the import
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        return nil
    }

    /// Laid out as `YYYY-MM-DDTHH:MM:SS.mmmZ` or `YYYY-MM-DDTHH:MM:SSZ`.
    static func hasUTCShape(_ b: [UInt8]) -> Bool {
        (b.count == 20 || b.count == 24) && b[4] == UInt8(ascii: "-") && b[7] == UInt8(ascii: "-") && b[10] == UInt8(ascii: "T")
            && b[13] == UInt8(ascii: ":") && b[16] == UInt8(ascii: ":") && b[b.count - 1] == UInt8(ascii: "Z")
    }

    /// A time laid out as `hasUTCShape` says; nil if a field is not digits or the date does not
    /// exist (February 30th: Foundation's formatter would read it as March 2nd).
    static func parseUTC(_ b: [UInt8]) -> Int64? {
        func number(_ range: Range<Int>) -> Int32? {
            var v: Int32 = 0
            for i in range {
                let digit = b[i] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                v = v * 10 + Int32(digit)
            }
            return v
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var millis: Int64 = 0
        if b.count == 24 {
            guard b[19] == UInt8(ascii: "."), let m = number(20..<23) else { return nil }
            millis = Int64(m)
        }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        if second == 60 { millis = 999 }  // a leap second: the last moment of the minute
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = min(second, 59)
        let seconds = timegm(&parts)
        // timegm rolls an impossible day over into the next month
        guard parts.tm_mday == day, parts.tm_mon == month - 1 else { return nil }
        return Int64(seconds) * 1000 + millis
    }
}
