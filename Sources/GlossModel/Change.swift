extension Change {
    /// The change's kind as stores record it in their log's `kind` column.
    public var kindName: String {
        switch self {
        case .excerpt: "excerpt"
        case .noteBody: "noteBody"
        case .noteDeleted: "noteDeleted"
        case .tag: "tag"
        }
    }
}

/// What a note's field changes carry about the note itself (immutable once created).
public struct NoteHeader: Sendable, Hashable, Codable {
    public var id: String
    public var excerptId: String
    /// Milliseconds since 1970.
    public var createdAt: Int64
    /// `OWNER/TAG` for a note in a shared collection; nil for a personal note.
    public var collection: String?

    public init(id: String, excerptId: String, createdAt: Int64, collection: String? = nil) {
        self.id = id
        self.excerptId = excerptId
        self.createdAt = createdAt
        self.collection = collection
    }
}

/// The key of one mergeable field: the unit of last-writer-wins.
public enum FieldKey: Sendable, Hashable, CustomStringConvertible {
    case noteBody(noteId: String)
    case noteDeleted(noteId: String)
    case tag(excerptId: String, name: String)

    /// Text form used as a key in stores: `note.body:ID`, `note.deleted:ID`, `tag:EXCERPT:NAME`.
    public var description: String {
        switch self {
        case .noteBody(let id): "note.body:" + id
        case .noteDeleted(let id): "note.deleted:" + id
        case .tag(let excerpt, let name): "tag:" + excerpt + ":" + name
        }
    }
}

/// Every change a replica records and sync ships. Closed: adding a case is a protocol change.
///
/// - `excerpt`: an excerpt exists (insert-if-absent; excerpts are immutable).
/// - `noteBody`: a note's body was written (creating the note if it did not exist).
/// - `noteDeleted`: a note's tombstone field was set (true) or cleared (false).
/// - `tag`: one tag on one excerpt is present or absent.
///
/// Field changes carry `base`: the stamp of the value the writer saw (and replaced) when it wrote,
/// nil when the field was empty. A merge that supersedes a value the writer had not seen is a
/// conflict (concurrent edits); one that supersedes exactly `base` is an ordinary later edit.
public enum Change: Sendable, Hashable {
    indirect case excerpt(Excerpt)
    case noteBody(NoteHeader, body: String, stamp: Stamp, base: Stamp?)
    case noteDeleted(NoteHeader, deleted: Bool, stamp: Stamp, base: Stamp?)
    case tag(excerptId: String, name: String, present: Bool, stamp: Stamp, base: Stamp?)

    /// A stable id: the same change always has the same id, so repeated pushes are harmless.
    public var id: String {
        // built as bytes in one buffer: String concatenation made ids 10 % of a daemon's push
        var out = [UInt8]()
        out.reserveCapacity(112)
        writeID(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the id of the change that carries the excerpt with id `excerptID` to `out`.
    public static func writeExcerptID(_ excerptID: some Sequence<UInt8>, into out: inout [UInt8]) {
        out.append(contentsOf: "e:".utf8)
        out.append(contentsOf: excerptID)
    }

    /// Appends the id's bytes to `out`.
    public func writeID(into out: inout [UInt8]) {
        switch self {
        case .excerpt(let e):
            Change.writeExcerptID(e.id.utf8, into: &out)
        case .noteBody(let n, _, let s, _):
            out.append(contentsOf: "nb:".utf8)
            out.append(contentsOf: n.id.utf8)
            out.append(UInt8(ascii: "@"))
            s.write(into: &out)
        case .noteDeleted(let n, _, let s, _):
            out.append(contentsOf: "nd:".utf8)
            out.append(contentsOf: n.id.utf8)
            out.append(UInt8(ascii: "@"))
            s.write(into: &out)
        case .tag(let e, let name, _, let s, _):
            out.append(contentsOf: "t:".utf8)
            out.append(contentsOf: e.utf8)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: name.utf8)
            out.append(UInt8(ascii: "@"))
            s.write(into: &out)
        }
    }

    public var stamp: Stamp? {
        switch self {
        case .excerpt: nil
        case .noteBody(_, _, let s, _), .noteDeleted(_, _, let s, _), .tag(_, _, _, let s, _): s
        }
    }

    /// The stamp of the value the writer replaced (nil for excerpts and first writes).
    public var base: Stamp? {
        switch self {
        case .excerpt: nil
        case .noteBody(_, _, _, let b), .noteDeleted(_, _, _, let b), .tag(_, _, _, _, let b): b
        }
    }

    /// The field this change writes (nil for excerpts, which are not fields).
    public var field: FieldKey? {
        switch self {
        case .excerpt: nil
        case .noteBody(let n, _, _, _): .noteBody(noteId: n.id)
        case .noteDeleted(let n, _, _, _): .noteDeleted(noteId: n.id)
        case .tag(let e, let name, _, _, _): .tag(excerptId: e, name: name)
        }
    }

    /// The excerpt this change is about.
    public var excerptId: String {
        switch self {
        case .excerpt(let e): e.id
        case .noteBody(let n, _, _, _), .noteDeleted(let n, _, _, _): n.excerptId
        case .tag(let e, _, _, _, _): e
        }
    }

    /// The written value in text form (for history and superseded values).
    public var valueText: String {
        switch self {
        case .excerpt: ""
        case .noteBody(_, let body, _, _): body
        case .noteDeleted(_, let deleted, _, _): deleted ? "deleted" : "restored"
        case .tag(_, _, let present, _, _): present ? "present" : "absent"
        }
    }

    /// Checks what a peer could get wrong; returns a message naming the problem, or nil.
    public func validationError() -> String? {
        func checkNote(_ n: NoteHeader) -> String? {
            if n.id.isEmpty || n.id.utf8.count > 64 { return "note id must be 1–64 characters" }
            if !Excerpt.isValidID(n.excerptId) { return "excerptId must be 32 lowercase hex digits" }
            if let c = n.collection, let problem = Limits.validateCollectionName(c) { return problem }
            return nil
        }
        switch self {
        case .excerpt(let e):
            if e.text.utf8.count > Limits.maxExcerptTextBytes { return "excerpt text is over \(Limits.maxExcerptTextBytes) bytes" }
            if e.citation.raw.utf8.count > Limits.maxCitationBytes { return "citation is over \(Limits.maxCitationBytes) bytes" }
            if !e.hasConsistentID { return "excerpt id \(e.id.prefix(40)) does not match its text and citation" }
            return nil
        case .noteBody(let n, let body, _, _):
            return checkNote(n) ?? Limits.validateNoteBody(body)
        case .noteDeleted(let n, _, _, _):
            return checkNote(n)
        case .tag(let e, let name, _, _, _):
            if !Excerpt.isValidID(e) { return "excerptId must be 32 lowercase hex digits" }
            return Limits.validateTagLink(name)
        }
    }
}

extension Change: Codable {
    enum Kind: String, Codable { case excerpt, noteBody, noteDeleted, tag }
    enum CodingKeys: String, CodingKey { case id, kind, stamp, base, excerpt, note, body, deleted, excerptId, tag, present }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Kind.self, forKey: .kind) {
        case .excerpt:
            self = .excerpt(try c.decode(Excerpt.self, forKey: .excerpt))
        case .noteBody:
            self = .noteBody(
                try c.decode(NoteHeader.self, forKey: .note), body: try c.decode(String.self, forKey: .body),
                stamp: try c.decode(Stamp.self, forKey: .stamp), base: try c.decodeIfPresent(Stamp.self, forKey: .base))
        case .noteDeleted:
            self = .noteDeleted(
                try c.decode(NoteHeader.self, forKey: .note), deleted: try c.decode(Bool.self, forKey: .deleted),
                stamp: try c.decode(Stamp.self, forKey: .stamp), base: try c.decodeIfPresent(Stamp.self, forKey: .base))
        case .tag:
            self = .tag(
                excerptId: try c.decode(String.self, forKey: .excerptId), name: try c.decode(String.self, forKey: .tag),
                present: try c.decode(Bool.self, forKey: .present), stamp: try c.decode(Stamp.self, forKey: .stamp),
                base: try c.decodeIfPresent(Stamp.self, forKey: .base))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        switch self {
        case .excerpt(let e):
            try c.encode(Kind.excerpt, forKey: .kind)
            try c.encode(e, forKey: .excerpt)
        case .noteBody(let n, let body, let s, let b):
            try c.encode(Kind.noteBody, forKey: .kind)
            try c.encode(n, forKey: .note)
            try c.encode(body, forKey: .body)
            try c.encode(s, forKey: .stamp)
            try c.encodeIfPresent(b, forKey: .base)
        case .noteDeleted(let n, let deleted, let s, let b):
            try c.encode(Kind.noteDeleted, forKey: .kind)
            try c.encode(n, forKey: .note)
            try c.encode(deleted, forKey: .deleted)
            try c.encode(s, forKey: .stamp)
            try c.encodeIfPresent(b, forKey: .base)
        case .tag(let e, let name, let present, let s, let b):
            try c.encode(Kind.tag, forKey: .kind)
            try c.encode(e, forKey: .excerptId)
            try c.encode(name, forKey: .tag)
            try c.encode(present, forKey: .present)
            try c.encode(s, forKey: .stamp)
            try c.encodeIfPresent(b, forKey: .base)
        }
    }
}
