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

    /// A push answer: `{"acknowledged": [...], "conflicts": N, "serverStamp": "..."}` (a push of
    /// thousands of changes acknowledges thousands of ids).
    public static func pushResponse(_ r: PushResponse) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(r.acknowledged.count * 40 + 100)
        out += Array("{\"acknowledged\":".utf8)
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
        var s = s
        s.withUTF8 { buf in
            // copy runs of bytes that need no escaping in one go
            var run = 0
            for (i, b) in buf.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[run..<i])) }
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
            if run < buf.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[run...])) }
        }
        out.append(UInt8(ascii: "\""))
    }
}
