/// A fast JSON writer for changes: the same JSON as `Change`'s `Codable` conformance (which
/// reads it back), built directly as bytes. Sync writes hundreds of thousands of changes; going
/// through `JSONEncoder` for each cost more than everything else in a push.
public enum ChangeWriter {
    public static func json(_ change: Change) -> String {
        var out = [UInt8]()
        out.reserveCapacity(256)
        write(change, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `{"changes":[…]}` for a push body.
    public static func pushBody(_ changes: [Change]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(changes.count * 300)
        out.append(contentsOf: "{\"changes\":[".utf8)
        for (i, c) in changes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            write(c, into: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// A push answer: `{"acknowledged": [...], "conflicts": N, "serverStamp": "..."}` (a push of
    /// thousands of changes acknowledges thousands of ids).
    public static func pushResponse(_ r: PushResponse) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(r.acknowledged.count * 40 + 100)
        out.append(contentsOf: "{\"acknowledged\":".utf8)
        strings(r.acknowledged, &out)
        out += Array(",\"conflicts\":\(r.conflicts),\"serverStamp\":".utf8)
        string(r.serverStamp.description, &out)
        if let logged = r.logged {
            out += Array(",\"logged\":[".utf8)
            for (i, range) in logged.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += Array("[\(range[0]),\(range[1])]".utf8)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    public static func write(_ change: Change, into out: inout [UInt8]) {
        // one scratch buffer for the id and the stamps, written without making Strings
        var scratch = [UInt8]()
        scratch.reserveCapacity(112)
        change.writeID(into: &scratch)
        out.append(contentsOf: "{\"id\":".utf8)
        quoted(scratch, &out)
        switch change {
        case .excerpt(let e):
            out.append(contentsOf: ",\"kind\":\"excerpt\",\"excerpt\":".utf8)
            excerpt(e, &out)
        case .noteBody(let h, let body, let s, let b):
            out.append(contentsOf: ",\"kind\":\"noteBody\",\"note\":".utf8)
            note(h, &out)
            key("body", &out)
            string(body, &out)
            stamps(s, b, &scratch, &out)
        case .noteDeleted(let h, let deleted, let s, let b):
            out.append(contentsOf: ",\"kind\":\"noteDeleted\",\"note\":".utf8)
            note(h, &out)
            out.append(contentsOf: (deleted ? ",\"deleted\":true" : ",\"deleted\":false").utf8)
            stamps(s, b, &scratch, &out)
        case .tag(let e, let name, let present, let s, let b):
            out.append(contentsOf: ",\"kind\":\"tag\"".utf8)
            key("excerptId", &out)
            string(e, &out)
            key("tag", &out)
            string(name, &out)
            out.append(contentsOf: (present ? ",\"present\":true" : ",\"present\":false").utf8)
            stamps(s, b, &scratch, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `,"k":` for a key that needs no escaping.
    static func key(_ k: StaticString, _ out: inout [UInt8]) {
        // byte by byte around the name: appending a two-byte array literal cost ~90 instructions
        // each time, a single byte ~10
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    static func stamps(_ s: Stamp, _ b: Stamp?, _ scratch: inout [UInt8], _ out: inout [UInt8]) {
        key("stamp", &out)
        scratch.removeAll(keepingCapacity: true)
        s.write(into: &scratch)
        quoted(scratch, &out)
        if let b {
            key("base", &out)
            scratch.removeAll(keepingCapacity: true)
            b.write(into: &scratch)
            quoted(scratch, &out)
        }
    }

    public static func integer(_ v: Int64, _ out: inout [UInt8]) {
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            if v == .min {
                out.append(contentsOf: "9223372036854775808".utf8)
                return
            }
        }
        var m = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - n] = 0x30 + UInt8(m % 10)
                m /= 10
                n += 1
            } while m > 0
            out.append(contentsOf: d[(20 - n)...])
        }
    }

    static func note(_ h: NoteHeader, _ out: inout [UInt8]) {
        out.append(contentsOf: "{\"id\":".utf8)
        string(h.id, &out)
        key("excerptId", &out)
        string(h.excerptId, &out)
        key("createdAt", &out)
        integer(h.createdAt, &out)
        if let c = h.collection {
            key("collection", &out)
            string(c, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// An excerpt object, from an `Excerpt`'s Strings or a replica's column bytes (one layout
    /// for both, so the two cannot drift apart).
    static func excerpt<E: ExcerptFields>(_ e: E, _ out: inout [UInt8]) {
        out.append(contentsOf: "{\"id\":".utf8)
        e.write(.id, &out)
        key("text", &out)
        e.write(.text, &out)
        key("compilation", &out)
        e.write(.compilation, &out)
        key("citation", &out)
        out.append(contentsOf: "{\"raw\":".utf8)
        e.write(.raw, &out)
        key("authors", &out)
        strings(e.authors, &out)
        key("title", &out)
        e.write(.title, &out)
        key("place", &out)
        e.write(.place, &out)
        key("publisher", &out)
        e.write(.publisher, &out)
        key("year", &out)
        if let year = e.year { integer(year, &out) } else { out.append(contentsOf: "null".utf8) }
        key("pages", &out)
        e.write(.pages, &out)
        key("remarks", &out)
        strings(e.remarks, &out)
        out.append(contentsOf: "}}".utf8)
    }

    /// An excerpt change (`write(.excerpt(e), into:)`'s JSON, byte for byte) written from its
    /// fields' bytes as a replica stores them, without making a String of each: reading each
    /// excerpt of a push into an `Excerpt` first (eleven Strings, each checked as UTF-8, copied
    /// and freed) was a third of what the client spent on it. Returns the change's id.
    /// Bytes that are not valid UTF-8 (a replica edited by hand: Gloss only stores Strings) go
    /// out as they are, where an `Excerpt` would have repaired them; the daemon's reader repairs
    /// them the same way, so it checks (and refuses or stores) the same change as before.
    public static func writeExcerptChange(_ e: ExcerptFieldBytes, into out: inout [UInt8]) -> String {
        var id = [UInt8]()
        id.reserveCapacity(e.id.count + 2)
        Change.writeExcerptID(e.id, into: &id)
        out.append(contentsOf: "{\"id\":".utf8)
        quoted(id, &out)
        out.append(contentsOf: ",\"kind\":\"excerpt\",\"excerpt\":".utf8)
        excerpt(e, &out)
        out.append(UInt8(ascii: "}"))
        return String(decoding: id, as: UTF8.self)
    }

    static func strings(_ values: [String], _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            string(v, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped; everything else
    /// (UTF-8 included) as is.
    public static func string(_ s: String, _ out: inout [UInt8]) {
        var s = s
        s.withUTF8 { quoted($0, &out) }
    }

    static func quoted(_ bytes: [UInt8], _ out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { quoted($0, &out) }
    }

    static func quoted(_ buf: UnsafeBufferPointer<UInt8>, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // copy runs of bytes that need no escaping in one go
        var run = 0
        while true {
            let i = JSONScan.plainRunEnd(buf, from: run)
            if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[run..<i])) }
            if i == buf.count { break }
            let b = buf[i]
            run = i + 1
            out.append(0x5C)
            switch b {
            case 0x22, 0x5C: out.append(b)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                let hex = UInt8(ascii: "a") &- 10
                out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, 0x30 &+ (b >> 4), (b & 0xF) < 10 ? 0x30 &+ (b & 0xF) : hex &+ (b & 0xF)])
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// The string fields of an excerpt, as `ChangeWriter.excerpt` names them.
enum ExcerptField { case id, text, compilation, raw, title, place, publisher, pages }

/// What `ChangeWriter.excerpt` writes an excerpt from.
protocol ExcerptFields {
    /// Appends the field as a JSON string literal.
    func write(_ field: ExcerptField, _ out: inout [UInt8])
    var authors: [String] { get }
    var remarks: [String] { get }
    var year: Int64? { get }
}

extension Excerpt: ExcerptFields {
    func write(_ field: ExcerptField, _ out: inout [UInt8]) {
        switch field {
        case .id: ChangeWriter.string(id, &out)
        case .text: ChangeWriter.string(text, &out)
        case .compilation: ChangeWriter.string(compilation, &out)
        case .raw: ChangeWriter.string(citation.raw, &out)
        case .title: ChangeWriter.string(citation.title, &out)
        case .place: ChangeWriter.string(citation.place, &out)
        case .publisher: ChangeWriter.string(citation.publisher, &out)
        case .pages: ChangeWriter.string(citation.pages, &out)
        }
    }
    var authors: [String] { citation.authors }
    var remarks: [String] { citation.remarks }
    var year: Int64? { citation.year.map { Int64($0) } }
}

/// An excerpt's fields as UTF-8 bytes borrowed from where they are stored (a replica's columns),
/// for `ChangeWriter.writeExcerptChange`; the buffers must stay valid while it writes.
public struct ExcerptFieldBytes: ExcerptFields {
    public var id, text, compilation, raw, title, place, publisher, pages: UnsafeBufferPointer<UInt8>
    public var authors, remarks: [String]
    public var year: Int64?

    public init(
        id: UnsafeBufferPointer<UInt8>, text: UnsafeBufferPointer<UInt8>, compilation: UnsafeBufferPointer<UInt8>,
        raw: UnsafeBufferPointer<UInt8>, authors: [String], title: UnsafeBufferPointer<UInt8>, place: UnsafeBufferPointer<UInt8>,
        publisher: UnsafeBufferPointer<UInt8>, year: Int64?, pages: UnsafeBufferPointer<UInt8>, remarks: [String]
    ) {
        (self.id, self.text, self.compilation, self.raw, self.authors) = (id, text, compilation, raw, authors)
        (self.title, self.place, self.publisher, self.year, self.pages, self.remarks) = (title, place, publisher, year, pages, remarks)
    }

    func write(_ field: ExcerptField, _ out: inout [UInt8]) {
        let bytes: UnsafeBufferPointer<UInt8>
        switch field {
        case .id: bytes = id
        case .text: bytes = text
        case .compilation: bytes = compilation
        case .raw: bytes = raw
        case .title: bytes = title
        case .place: bytes = place
        case .publisher: bytes = publisher
        case .pages: bytes = pages
        }
        ChangeWriter.quoted(bytes, &out)
    }
}
