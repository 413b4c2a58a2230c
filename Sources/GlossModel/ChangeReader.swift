#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A fast JSON reader for the sync protocol's hot paths: push bodies on the daemon and pull
/// pages on the replica. It accepts the JSON `Change`'s `Codable` conformance accepts (unknown
/// keys are skipped; nesting is bounded), and fails with a message naming the byte offset.
/// Known differences from Foundation's `JSONDecoder`, none of which a writer of the protocol
/// produces: with a key repeated in one object the last value counts here (the first there);
/// invalid UTF-8 in a string is repaired to U+FFFD here (refused there); an integer field
/// written with a fraction or an exponent (`7.0`, `1e3`) is refused here (read there).
public struct JSONReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

public struct ChangeReader {
    let b: [UInt8]
    var i = 0
    static let maxDepth = 64
    /// Whether what was read since this was last set is byte for byte what `ChangeWriter`
    /// writes for the values read: no whitespace, the writer's keys in the writer's order, its
    /// escapes, valid UTF-8, no `null` where it writes a value (see `pushRequest`). Only
    /// `pushRequest` sets it, before each change; other readers leave it false and skip the checks.
    var canonical = false
    /// The change id `change()` computes, for comparing with the one sent.
    var idScratch: [UInt8] = []

    public init(_ bytes: [UInt8]) { b = bytes }

    // MARK: entry points

    /// `{"changes": [Change, …]}`, with each change's JSON as it was sent (`canonicalJSON`)
    /// when that is exactly what `ChangeWriter` writes for it, as a Gloss client sends it: the
    /// daemon stores those bytes instead of writing them again (writing them was a tenth of its
    /// CPU in a push of excerpts). Anything else the reader accepts (spacing, other key orders,
    /// unknown keys, other escapes, `null` for an absent value, a wrong change id) leaves nil.
    public static func pushRequest(_ bytes: [UInt8]) throws -> PushRequest {
        var r = ChangeReader(bytes)
        r.idScratch.reserveCapacity(128)
        // a repeated "changes" counts as its last value, its kept bytes with it (found in review:
        // bytes kept across both lined another change's bytes up with the last list)
        var read: (changes: [Change], json: [String?])?
        try r.object { key, r in
            if key == "changes" {
                var changes: [Change] = []
                var kept: [String?] = []
                try r.array { r in
                    r.ws()
                    let start = r.i
                    r.canonical = true
                    let change = try r.change()
                    changes.append(change)
                    // the bytes are valid UTF-8: every string in them was checked
                    let json = r.canonical ? String(decoding: r.b[start..<r.i], as: UTF8.self) : nil
                    // bytes, not String ==, which holds canonically equivalent Unicode equal
                    assert(json == nil || json!.utf8.elementsEqual(ChangeWriter.json(change).utf8), "bytes taken as canonical differ from ChangeWriter's")
                    kept.append(json)
                }
                read = (changes, kept)
            } else {
                try r.skipValue(depth: 1)
            }
        }
        try r.end()
        guard let read else { throw r.error("missing field 'changes'") }
        var request = PushRequest(changes: read.changes)
        request.canonicalJSON = read.json
        return request
    }

    /// A push's answer: `{"acknowledged": [id, …], "conflicts", "serverStamp", "logged": [[first, last], …] | null}`
    /// (a client reads one per batch: 5,000 ids through `JSONDecoder` were 4 % of a push's CPU).
    public static func pushResponse(_ bytes: [UInt8]) throws -> PushResponse {
        var r = ChangeReader(bytes)
        var acknowledged: [String]?
        var conflicts: Int64?
        var serverStamp: Stamp?
        var logged: [[Int64]]?
        try r.object { key, r in
            switch key {
            case "acknowledged": acknowledged = try r.stringArray()
            case "conflicts": conflicts = try r.int()
            case "serverStamp": serverStamp = try r.stamp()
            case "logged":
                if try r.isNull() { break }
                var runs: [[Int64]] = []
                try r.array { r in
                    var run: [Int64] = []
                    try r.array { r in run.append(try r.int()) }
                    runs.append(run)
                }
                logged = runs
            default: try r.skipValue(depth: 1)
            }
        }
        try r.end()
        guard let acknowledged, let conflicts, let serverStamp else {
            throw r.error("a push answer needs 'acknowledged', 'conflicts' and 'serverStamp'")
        }
        return PushResponse(acknowledged: acknowledged, conflicts: Int(conflicts), serverStamp: serverStamp, logged: logged)
    }

    /// A pull page: `{"changes": [{"seq", "change", "via"}], "cursor", "more", "serverStamp", "user", "collections"}`.
    public static func pullResponse(_ bytes: [UInt8]) throws -> PullResponse {
        var r = ChangeReader(bytes)
        var changes: [SequencedChange] = []
        var cursor: Int64?
        var more: Bool?
        var serverStamp: Stamp?
        var user: String?
        var collections: [CollectionInfo]?
        try r.object { key, r in
            switch key {
            case "changes":
                try r.array { r in
                    var seq: Int64?
                    var change: Change?
                    var via: String?
                    try r.object { k, r in
                        switch k {
                        case "seq": seq = try r.int()
                        case "change": change = try r.change()
                        case "via": via = try r.optionalString()
                        default: try r.skipValue(depth: 3)
                        }
                    }
                    guard let seq, let change else { throw r.error("a pulled change needs 'seq' and 'change'") }
                    changes.append(SequencedChange(seq: seq, change: change, via: via))
                }
            case "cursor": cursor = try r.int()
            case "more": more = try r.bool()
            case "serverStamp": serverStamp = try r.stamp()
            case "user": user = try r.optionalString()
            case "collections":
                var list: [CollectionInfo] = []
                try r.array { r in
                    var tag = "", owner = "", role = ""
                    var members: [CollectionInfo.Member] = []
                    try r.object { k, r in
                        switch k {
                        case "tag": tag = try r.string()
                        case "owner": owner = try r.string()
                        case "role": role = try r.string()
                        case "members":
                            try r.array { r in
                                var user = "", role = ""
                                try r.object { k, r in
                                    switch k {
                                    case "user": user = try r.string()
                                    case "role": role = try r.string()
                                    default: try r.skipValue(depth: 5)
                                    }
                                }
                                members.append(.init(user: user, role: role))
                            }
                        default: try r.skipValue(depth: 3)
                        }
                    }
                    list.append(CollectionInfo(tag: tag, owner: owner, role: role, members: members))
                }
                collections = list
            default: try r.skipValue(depth: 1)
            }
        }
        try r.end()
        guard let cursor, let more, let serverStamp else { throw r.error("a pull page needs 'cursor', 'more' and 'serverStamp'") }
        return PullResponse(changes: changes, cursor: cursor, more: more, serverStamp: serverStamp, user: user, collections: collections)
    }

    /// One change object.
    public mutating func change() throws -> Change {
        var kind: JSONKey?
        var kindAt = 0
        var stamp: Stamp?
        var base: Stamp?
        var excerpt: Excerpt?
        var note: NoteHeader?
        var body: String?
        var deleted: Bool?
        var excerptId: String?
        var tag: String?
        var present: Bool?
        var id: Range<Int>?, escapedID: String?
        var order = KeyOrder()
        let start = i
        try object { key, r in
            switch key {
            case "id":
                order.add(1)
                if let range = try r.plainString() { id = range } else { escapedID = try r.string() }
            case "kind":
                order.add(2)
                kindAt = r.i
                kind = try r.key()
            case "excerpt": order.add(3); excerpt = try r.excerpt()
            case "note": order.add(4); note = try r.noteHeader()
            case "body": order.add(5); body = try r.string()
            case "deleted": order.add(6); deleted = try r.bool()
            case "excerptId": order.add(7); excerptId = try r.string()
            case "tag": order.add(8); tag = try r.string()
            case "present": order.add(9); present = try r.bool()
            case "stamp": order.add(10); stamp = try r.stamp()
            case "base":
                order.add(11)
                base = try r.optionalStamp()
                if base == nil { r.canonical = false }  // the writer leaves out an absent base
            default: order.add(15); try r.skipValue(depth: 2)
            }
        }
        func need<T>(_ v: T?, _ name: String) throws -> T {
            guard let v else { throw JSONReadError(message: "missing field '\(name)' in a change", offset: start) }
            return v
        }
        let change: Change
        let expected: UInt64
        switch try need(kind, "kind") {
        case "excerpt":
            change = .excerpt(try need(excerpt, "excerpt"))
            expected = KeyOrder.excerptChange
            if base != nil { canonical = false }  // the writer writes no base for an excerpt
        case "noteBody":
            change = .noteBody(try need(note, "note"), body: try need(body, "body"), stamp: try need(stamp, "stamp"), base: base)
            expected = KeyOrder.noteBodyChange
        case "noteDeleted":
            change = .noteDeleted(try need(note, "note"), deleted: try need(deleted, "deleted"), stamp: try need(stamp, "stamp"), base: base)
            expected = KeyOrder.noteDeletedChange
        case "tag":
            change = .tag(
                excerptId: try need(excerptId, "excerptId"), name: try need(tag, "tag"), present: try need(present, "present"),
                stamp: try need(stamp, "stamp"), base: base)
            expected = KeyOrder.tagChange
        default:
            var again = self
            again.i = kindAt
            throw JSONReadError(message: "unknown change kind '\((try? again.string())?.prefix(40) ?? "")'", offset: start)
        }
        if canonical {
            // the writer writes the id the change has (readers work it out and ignore the sent one)
            idScratch.removeAll(keepingCapacity: true)
            change.writeID(into: &idScratch)
            let sentID = id.map { bytes($0, equal: idScratch) } ?? escapedID.map { $0.utf8.elementsEqual(idScratch) } ?? false
            canonical = sentID && order.matches(base == nil ? expected : expected << 4 | 11)
        }
        return change
    }

    mutating func excerpt() throws -> Excerpt {
        var id: String?, text: String?, citation: Citation?, compilation = ""
        var order = KeyOrder()
        let start = i
        try object { key, r in
            switch key {
            case "id": order.add(1); id = try r.string()
            case "text": order.add(2); text = try r.string()
            case "compilation": order.add(3); compilation = try r.writtenString() ?? ""
            case "citation": order.add(4); citation = try r.citation()
            default: order.add(15); try r.skipValue(depth: 3)
            }
        }
        if !order.matches(KeyOrder.excerpt) { canonical = false }
        guard let id, let text, let citation else { throw JSONReadError(message: "an excerpt needs 'id', 'text' and 'citation'", offset: start) }
        return Excerpt(id: id, text: text, citation: citation, compilation: compilation)
    }

    mutating func citation() throws -> Citation {
        var c = Citation(raw: "")
        var raw: String?
        var order = KeyOrder()
        let start = i
        try object { key, r in
            switch key {
            case "raw": order.add(1); raw = try r.string()
            case "authors": order.add(2); c.authors = try r.stringArray()
            case "title": order.add(3); c.title = try r.writtenString() ?? ""
            case "place": order.add(4); c.place = try r.writtenString() ?? ""
            case "publisher": order.add(5); c.publisher = try r.writtenString() ?? ""
            case "year": order.add(6); c.year = try r.optionalInt().map { Int($0) }  // the writer writes null
            case "pages": order.add(7); c.pages = try r.writtenString() ?? ""
            case "remarks": order.add(8); c.remarks = try r.stringArray()
            default: order.add(15); try r.skipValue(depth: 4)
            }
        }
        if !order.matches(KeyOrder.citation) { canonical = false }
        guard let raw else { throw JSONReadError(message: "a citation needs 'raw'", offset: start) }
        c.raw = raw
        return c
    }

    mutating func noteHeader() throws -> NoteHeader {
        var id: String?, excerptId: String?, createdAt: Int64?, collection: String?
        var order = KeyOrder()
        let start = i
        try object { key, r in
            switch key {
            case "id": order.add(1); id = try r.string()
            case "excerptId": order.add(2); excerptId = try r.string()
            case "createdAt": order.add(3); createdAt = try r.int()
            case "collection": order.add(4); collection = try r.writtenString()
            default: order.add(15); try r.skipValue(depth: 3)
            }
        }
        if !order.matches(collection == nil ? KeyOrder.note : KeyOrder.note << 4 | 4) { canonical = false }
        guard let id, let excerptId, let createdAt else { throw JSONReadError(message: "a note needs 'id', 'excerptId' and 'createdAt'", offset: start) }
        return NoteHeader(id: id, excerptId: excerptId, createdAt: createdAt, collection: collection)
    }

    // MARK: values

    func error(_ message: String) -> JSONReadError { JSONReadError(message: message, offset: i) }

    mutating func ws() {
        guard i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 else { return }
        canonical = false  // the writer writes none
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func end() throws {
        ws()
        if i != b.count { throw error("unexpected text after the JSON value") }
    }

    mutating func peek() throws -> UInt8 {
        ws()
        guard i < b.count else { throw error("unexpected end of JSON") }
        return b[i]
    }

    mutating func expect(_ c: UInt8) throws {
        guard try peek() == c else { throw error("expected '\(Character(UnicodeScalar(c)))'") }
        i += 1
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let matched = word.withUTF8Buffer { w in i + w.count <= b.count && w.indices.allSatisfy { b[i + $0] == w[$0] } }
        if matched { i += word.utf8CodeUnitCount }
        return matched
    }

    mutating func object(_ member: (JSONKey, inout ChangeReader) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            let key = try self.key()
            try expect(UInt8(ascii: ":"))
            try member(key, &self)
            let c = try peek()
            i += 1
            if c == UInt8(ascii: "}") { return }
            if c != UInt8(ascii: ",") { throw JSONReadError(message: "expected ',' or '}'", offset: i - 1) }
        }
    }

    mutating func array(_ element: (inout ChangeReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if try peek() == UInt8(ascii: "]") {
            i += 1
            return
        }
        while true {
            try element(&self)
            let c = try peek()
            i += 1
            if c == UInt8(ascii: "]") { return }
            if c != UInt8(ascii: ",") { throw JSONReadError(message: "expected ',' or ']'", offset: i - 1) }
        }
    }

    /// An object's key, or a short string value compared with literals (a change's kind), read
    /// without making a String when it has no escapes.
    mutating func key() throws -> JSONKey {
        if let r = try plainString() { return b.withUnsafeBufferPointer { JSONKey(UnsafeBufferPointer(rebasing: $0[r])) } }
        var text = try string()
        canonical = false  // the writer's keys need no escapes
        return text.withUTF8 { JSONKey($0) }
    }

    /// The bytes of a string that holds no escapes, read up to its closing quote; nil, with
    /// nothing read, when it has escapes or no end (`string()` then reads it or says what is wrong).
    @inline(__always)
    mutating func plainString() throws -> Range<Int>? {
        guard try peek() == UInt8(ascii: "\"") else { throw error("expected '\"'") }
        let start = i + 1
        let end = b.withUnsafeBufferPointer { JSONScan.plainRunEnd($0, from: start) }
        guard end < b.count, b[end] == UInt8(ascii: "\"") else { return nil }
        i = end + 1
        return start..<end
    }

    mutating func bool() throws -> Bool {
        _ = try peek()
        if literal("true") { return true }
        if literal("false") { return false }
        throw error("expected true or false")
    }

    mutating func isNull() throws -> Bool {
        _ = try peek()
        return literal("null")
    }

    mutating func int() throws -> Int64 {
        _ = try peek()
        let start = i
        let negative = i < b.count && b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        // accumulated negatively, so that Int64.min reads too
        var v: Int64 = 0
        var overflow = false
        let digits = i
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
            let (times10, o1) = v.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(Int64(b[i] - 0x30))
            overflow = overflow || o1 || o2
            v = next
            i += 1
        }
        if !negative && !overflow { (v, overflow) = (0 as Int64).subtractingReportingOverflow(v) }
        if negative && v == 0 { canonical = false }  // "-0": the writer writes 0
        // JSON has no leading zeros ("0" itself aside)
        guard i > digits, i - start <= 20, !overflow, b[digits] != 0x30 || i == digits + 1 else {
            throw JSONReadError(message: "expected an integer", offset: start)
        }
        if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            throw JSONReadError(message: "expected an integer", offset: start)
        }
        return v
    }

    mutating func optionalInt() throws -> Int64? { try isNull() ? nil : try int() }
    mutating func optionalString() throws -> String? { try isNull() ? nil : try string() }
    /// A string the writer always writes (as "" when empty): `null` is read as nil, and is not
    /// what the writer writes.
    mutating func writtenString() throws -> String? {
        if try isNull() {
            canonical = false
            return nil
        }
        return try string()
    }
    mutating func optionalStamp() throws -> Stamp? { try isNull() ? nil : try stamp() }

    mutating func stamp() throws -> Stamp {
        let start = i
        let stamp: Stamp?
        if let r = try plainString() {
            stamp = Stamp(utf8: b[r])
            // the writer's hex digits are lowercase; the node is written as it is
            if canonical, stamp != nil, b[r.lowerBound..<(r.lowerBound + 21)].contains(where: { (0x41...0x46).contains($0) }) { canonical = false }
        } else {
            stamp = Stamp(try string())
            canonical = false
        }
        guard let stamp else { throw JSONReadError(message: "malformed stamp", offset: start) }
        return stamp
    }

    public mutating func stringArray() throws -> [String] {
        var out: [String] = []
        try array { r in out.append(try r.string()) }
        return out
    }

    mutating func string() throws -> String {
        if let r = try plainString() { return text(b[r]) }
        try expect(UInt8(ascii: "\""))
        let start = i
        i = b.withUnsafeBufferPointer { JSONScan.plainRunEnd($0, from: start) }
        guard i < b.count else { throw error("unterminated string") }
        var out = Array(b[start..<i])
        while true {
            guard i < b.count else { throw error("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return text(out[...])
            }
            if c < 0x20 { throw error("control character in a string") }
            if c != UInt8(ascii: "\\") {
                let end = b.withUnsafeBufferPointer { JSONScan.plainRunEnd($0, from: i + 1) }
                out.append(contentsOf: b[i..<end])
                i = end
                continue
            }
            i += 1
            guard i < b.count else { throw error("unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F); canonical = false
            case UInt8(ascii: "b"): out.append(0x08); canonical = false
            case UInt8(ascii: "f"): out.append(0x0C); canonical = false
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                // the writer writes \u00xx (lowercase) for the control characters it has no
                // short escape for, and nothing else as \u
                let written = i + 4 <= b.count && b[i] == 0x30 && b[i + 1] == 0x30 && (b[i + 2] == 0x30 || b[i + 2] == 0x31)
                    && !(0x41...0x46).contains(b[i + 3])
                var scalar = try hex4()
                if !written || scalar == 0x0A || scalar == 0x0D || scalar == 0x09 { canonical = false }
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { throw error("lone surrogate") }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("lone surrogate")
                }
                out += Array(String(Character(UnicodeScalar(scalar)!)).utf8)
            default: throw error("invalid escape")
            }
        }
    }

    /// Whether the input's bytes in `range` are `other`'s.
    func bytes(_ range: Range<Int>, equal other: [UInt8]) -> Bool {
        b.withUnsafeBufferPointer { whole in other.withUnsafeBufferPointer { Self.same(UnsafeBufferPointer(rebasing: whole[range]), $0) } }
    }

    /// Byte equality by `memcmp` (`elementsEqual` on an array slice went byte by byte, about 20
    /// instructions a byte: 2 % of glossd's CPU taking a push).
    static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// A string's text; invalid UTF-8 is repaired to U+FFFD (and is not what the writer writes).
    @inline(__always)
    mutating func text(_ bytes: ArraySlice<UInt8>) -> String {
        var s = String(decoding: bytes, as: UTF8.self)
        // a repair changes the bytes, not always their number (String(validating:) was twice
        // as slow as decoding and comparing)
        if canonical, !s.withUTF8({ u in bytes.withUnsafeBufferPointer { Self.same(u, $0) } }) {
            canonical = false
        }
        return s
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = b[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | d
        }
        i += 4
        return v
    }

    /// Skips any JSON value, refusing nesting deeper than `maxDepth`.
    mutating func skipValue(depth: Int) throws {
        canonical = false  // a key the writer does not write
        guard depth < Self.maxDepth else { throw error("JSON nested too deeply") }
        switch try peek() {
        case UInt8(ascii: "{"): try object { _, r in try r.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): try array { r in try r.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try key()  // checked as a string is, kept only when short
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): guard literal("null") else { throw error("invalid literal") }
        default:
            let start = i
            while i < b.count, "+-0123456789.eE".utf8.contains(b[i]) { i += 1 }
            if i == start { throw error("unexpected character") }
        }
    }
}

/// The keys of one object in the order they came, as 4-bit codes (1–14 for the keys a reader
/// knows, 15 for any other), compared with the writer's order.
struct KeyOrder {
    var bits: UInt64 = 0
    var count = 0

    mutating func add(_ code: UInt64) {
        bits = bits << 4 | code
        count += 1
    }

    /// Whether the keys came exactly in the order `expected` packs (no code is 0, so the
    /// packing of at most 16 keys is unambiguous).
    func matches(_ expected: UInt64) -> Bool { count <= 16 && bits == expected }

    static func packed(_ codes: UInt64...) -> UInt64 { codes.reduce(0) { $0 << 4 | $1 } }
    // ChangeWriter's orders (a change's base and a note's collection follow when present)
    static let excerptChange = packed(1, 2, 3)  // id, kind, excerpt
    static let noteBodyChange = packed(1, 2, 4, 5, 10)  // id, kind, note, body, stamp
    static let noteDeletedChange = packed(1, 2, 4, 6, 10)  // id, kind, note, deleted, stamp
    static let tagChange = packed(1, 2, 7, 8, 9, 10)  // id, kind, excerptId, tag, present, stamp
    static let excerpt = packed(1, 2, 3, 4)  // id, text, compilation, citation
    static let citation = packed(1, 2, 3, 4, 5, 6, 7, 8)  // raw, authors, title, place, publisher, year, pages, remarks
    static let note = packed(1, 2, 3)  // id, excerptId, createdAt
}

/// An object key as the reader saw it: its UTF-8 bytes, up to 16, packed in two words (a longer
/// key matches none a `switch` names, and the reader names none that long). A `switch` over keys
/// compares these words with the words of each literal instead of making a String per key and
/// comparing Strings: key Strings were a fifth of the time a replica took to read a pull page.
public struct JSONKey: Equatable, ExpressibleByStringLiteral, Sendable {
    let low: UInt64
    let high: UInt64
    let count: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        var words: (UInt64, UInt64) = (0, 0)
        if bytes.count <= 16 {
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
        }
        (low, high, count) = (words.0, words.1, bytes.count <= 16 ? bytes.count : -1)
    }

    public init(stringLiteral literal: StaticString) {
        // withUTF8Buffer, not utf8Start: a one-character literal may be stored as a scalar
        self = literal.withUTF8Buffer { bytes in
            precondition(bytes.count <= 16, "a key literal is at most 16 bytes")
            return JSONKey(bytes)
        }
    }
}
