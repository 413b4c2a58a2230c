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

    public static func parse(_ s: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        return nil
    }
}
