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
        out += Array("{\"changes\":[".utf8)
        for (i, c) in changes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            write(c, into: &out)
        }
        out += Array("]}".utf8)
        return out
    }

    public static func write(_ change: Change, into out: inout [UInt8]) {
        out += Array("{\"id\":".utf8)
        string(change.id, &out)
        switch change {
        case .excerpt(let e):
            key("kind", &out)
            string("excerpt", &out)
            key("excerpt", &out)
            excerpt(e, &out)
        case .noteBody(let h, let body, let s, let b):
            key("kind", &out)
            string("noteBody", &out)
            key("note", &out)
            note(h, &out)
            key("body", &out)
            string(body, &out)
            stamps(s, b, &out)
        case .noteDeleted(let h, let deleted, let s, let b):
            key("kind", &out)
            string("noteDeleted", &out)
            key("note", &out)
            note(h, &out)
            key("deleted", &out)
            out += Array((deleted ? "true" : "false").utf8)
            stamps(s, b, &out)
        case .tag(let e, let name, let present, let s, let b):
            key("kind", &out)
            string("tag", &out)
            key("excerptId", &out)
            string(e, &out)
            key("tag", &out)
            string(name, &out)
            key("present", &out)
            out += Array((present ? "true" : "false").utf8)
            stamps(s, b, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func key(_ k: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        string(k, &out)
        out.append(UInt8(ascii: ":"))
    }

    static func stamps(_ s: Stamp, _ b: Stamp?, _ out: inout [UInt8]) {
        key("stamp", &out)
        string(s.description, &out)
        if let b {
            key("base", &out)
            string(b.description, &out)
        }
    }

    static func note(_ h: NoteHeader, _ out: inout [UInt8]) {
        out += Array("{\"id\":".utf8)
        string(h.id, &out)
        key("excerptId", &out)
        string(h.excerptId, &out)
        key("createdAt", &out)
        out += Array(String(h.createdAt).utf8)
        if let c = h.collection {
            key("collection", &out)
            string(c, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func excerpt(_ e: Excerpt, _ out: inout [UInt8]) {
        out += Array("{\"id\":".utf8)
        string(e.id, &out)
        key("text", &out)
        string(e.text, &out)
        key("compilation", &out)
        string(e.compilation, &out)
        key("citation", &out)
        let c = e.citation
        out += Array("{\"raw\":".utf8)
        string(c.raw, &out)
        key("authors", &out)
        strings(c.authors, &out)
        key("title", &out)
        string(c.title, &out)
        key("place", &out)
        string(c.place, &out)
        key("publisher", &out)
        string(c.publisher, &out)
        key("year", &out)
        out += Array((c.year.map(String.init) ?? "null").utf8)
        key("pages", &out)
        string(c.pages, &out)
        key("remarks", &out)
        strings(c.remarks, &out)
        out += Array("}}".utf8)
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
        out.append(UInt8(ascii: "\""))
        let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
        var s = s
        s.withUTF8 { buf in
            for b in buf {
                switch b {
                case UInt8(ascii: "\""): out += [0x5C, 0x22]
                case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
                case 0x0A: out += [0x5C, UInt8(ascii: "n")]
                case 0x0D: out += [0x5C, UInt8(ascii: "r")]
                case 0x09: out += [0x5C, UInt8(ascii: "t")]
                case 0..<0x20: out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(b >> 4)], hexDigits[Int(b & 0xF)]]
                default: out.append(b)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
