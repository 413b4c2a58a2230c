import Foundation
import GlossModel
import Testing

/// The fast reader agrees with `Codable` on every change the writer (or JSONEncoder) produces,
/// and fails cleanly — never crashes — on mutated and hostile input.
@Suite struct ChangeReaderTests {
    static func randomChange(_ rng: inout SeededRandom) -> Change {
        let alphabet = Array("aé\"\\\n\t\u{1}漢🙂 /{}[],:0")
        func text() -> String { String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }) }
        let s = Stamp(wall: Int64.random(in: 0...2_000_000_000_000, using: &rng), counter: UInt32.random(in: 0...99, using: &rng), node: "n\(Int.random(in: 0...9, using: &rng))")
        let base: Stamp? = Bool.random(using: &rng) ? s : nil
        let excerpt = Excerpt(text: text(), citation: Citation(raw: text(), authors: [text()], title: text(), year: Bool.random(using: &rng) ? 1999 : nil, pages: text(), remarks: [text()]), compilation: text())
        let h = NoteHeader(id: text() + "id", excerptId: excerpt.id, createdAt: Int64.random(in: -5...5_000_000, using: &rng), collection: Bool.random(using: &rng) ? "o/t" : nil)
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return .excerpt(excerpt)
        case 1: return .noteBody(h, body: text(), stamp: s, base: base)
        case 2: return .noteDeleted(h, deleted: Bool.random(using: &rng), stamp: s, base: base)
        default: return .tag(excerptId: excerpt.id, name: text(), present: Bool.random(using: &rng), stamp: s, base: base)
        }
    }

    @Test func agreesWithCodableOnRandomChanges() throws {
        var rng = SeededRandom(seed: 99)
        let changes = (0..<500).map { _ in Self.randomChange(&rng) }
        let fromWriter = try ChangeReader.pushRequest(ChangeWriter.pushBody(changes)).changes
        #expect(fromWriter == changes)
        // and what the writer produces is JSON any decoder reads the same way
        #expect(try JSONDecoder().decode(PushRequest.self, from: Data(ChangeWriter.pushBody(changes))).changes == changes)
        let fromEncoder = try ChangeReader.pushRequest(Array(try JSONEncoder().encode(PushRequest(changes: changes)))).changes
        #expect(fromEncoder == changes)
        // unknown keys and whitespace are fine, as with Codable
        let padded = "{ \"extra\": [1, {\"x\": null}], \"changes\" : [ \(ChangeWriter.json(changes[0])) ] , \"z\": true }"
        #expect(try ChangeReader.pushRequest(Array(padded.utf8)).changes == [changes[0]])
    }

    @Test func everyOffsetOfAnEscapeRoundTrips() throws {
        // strings are scanned eight bytes at a time: each character that needs escaping, at every
        // offset of a word, among plain ASCII, multi-byte UTF-8 and bytes next to the special ones
        let specials = ["\"", "\\", "\n", "\u{1}", "\u{1F}", "\t"]
        let fillers = ["a", "é", "漢", "\u{7F}", " ", "!", "]", "🙂"]
        for special in specials {
            for filler in fillers {
                for at in 0..<20 {
                    let body = String(repeating: filler, count: at) + special + String(repeating: filler, count: 19 - at) + special
                    let c = Change.noteBody(NoteHeader(id: "n", excerptId: "e", createdAt: 1), body: body, stamp: Stamp(wall: 1, counter: 0, node: "a"), base: nil)
                    let json = ChangeWriter.json(c)
                    #expect(try JSONDecoder().decode(Change.self, from: Data(json.utf8)) == c)
                    #expect(try ChangeReader.pushRequest(Array("{\"changes\":[\(json)]}".utf8)).changes == [c])
                }
            }
        }
        // a raw control character inside a string is refused wherever it stands
        for at in 0..<20 {
            let body = Array("{\"changes\":[{\"kind\":\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: at) + [0x01] + Array("\"}]}".utf8)
            #expect { _ = try ChangeReader.pushRequest(body) } throws: { "\($0)".contains("control character") }
        }
    }

    /// Ids and numbers are written as bytes, not through String: they must come out as the
    /// plain string forms would.
    @Test func idsAndNumbersMatchTheirStringForms() throws {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<300 {
            let c = Self.randomChange(&rng)
            let expected: String
            switch c {
            case .excerpt(let e): expected = "e:" + e.id
            case .noteBody(let n, _, let s, _): expected = "nb:" + n.id + "@" + s.description
            case .noteDeleted(let n, _, let s, _): expected = "nd:" + n.id + "@" + s.description
            case .tag(let e, let name, _, let s, _): expected = "t:" + e + ":" + name + "@" + s.description
            }
            #expect(c.id == expected)
            let object = try JSONSerialization.jsonObject(with: Data(ChangeWriter.json(c).utf8)) as? [String: Any]
            #expect(object?["id"] as? String == expected)
        }
        for createdAt in [Int64.min, -1, 0, 7, 10, 1_764_000_000_123, Int64.max] {
            let c = Change.noteDeleted(NoteHeader(id: "n", excerptId: "e", createdAt: createdAt), deleted: true, stamp: Stamp(wall: 1, counter: 0, node: "a"), base: nil)
            #expect(ChangeWriter.json(c).contains("\"createdAt\":\(createdAt)}"))
            #expect(try JSONDecoder().decode(Change.self, from: Data(ChangeWriter.json(c).utf8)) == c)
        }
    }

    /// Keys are matched on their bytes, integers and stamps read without a String: where that
    /// takes a shortcut (escaped keys and stamps, keys over 16 bytes, integers at and past the
    /// edges of Int64, leading zeros), the reader still decides as `Codable` does. One known
    /// difference: an integer in exponent form (1e3), which Codable reads and no writer sends,
    /// is refused.
    @Test func keysIntegersAndStampsAgreeWithCodableAtTheEdges() throws {
        let note = #""note":{"id":"n","excerptId":"e","createdAt":CREATED}"#
        let stamp = #""stamp":"000000000001.00000000.a""#
        let texts = [
            #"{"changes":[{"kind":"noteDeleted",\#(note),"deleted":true,\#(stamp),"base":null}]}"#,
            #"{"changes":[{"\u006bind":"noteDeleted",\#(note),"dele\u0074ed":true,\#(stamp)}]}"#,
            #"{"changes":[{"kind":"noteDeleted",\#(note),"deleted":true,"stamp":"\u0030\u0030000000000f.00000000.a"}]}"#,
            #"{"changes":[{"kind":"noteDeleted",\#(note),"deleted":true,"stamp":"000000000001.00000000.a\u0021"}]}"#,
            #"{"changes":[{"kind":"noteDeleted",\#(note),"deleted":true,\#(stamp),"kindAndMoreThanSixteen":"x","deletedxxxxxxxxxxxxxx":false}]}"#,
            #"{"changes":[{"kind":"noteDeleted",\#(note),"deleted":true,\#(stamp),"":1}]}"#,
            #"{"changes":[{"kind":"note\u0042ody",\#(note),"body":"b",\#(stamp)}]}"#,
            #"{"changes":[{"kind":"noteDeleted",\#(note),"deleted":true,\#(stamp),"\u0064eletedAndMoreThan16":false}]}"#,
            #"{"changes":[{"kind":"noteDeleted",\#(note),"deleted":true,"stamp":"000000000001.00000000.\u0061"}]}"#,
            #"{"changes":[{"kin":"noteDeleted",\#(note),"deleted":true,\#(stamp)}]}"#,
        ]
        let created = ["0", "-0", "7", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
                       "00000000000000000007", "07", "-07", "-", "1.5", "99999999999999999999999"]
        #expect(texts.filter { $0.contains("\\u00") }.count == 6)  // JSON escapes, not Swift's
        var accepted = 0
        for text in texts {
            for c in created {
                let json = Array(text.replacingOccurrences(of: "CREATED", with: c).utf8)
                let reference = try? JSONDecoder().decode(PushRequest.self, from: Data(json)).changes
                let fast = try? ChangeReader.pushRequest(json).changes
                #expect(fast == reference, "\(String(decoding: json, as: UTF8.self))")
                if fast != nil { accepted += 1 }
            }
        }
        #expect(accepted >= 20)
        let exponent = Array(texts[0].replacingOccurrences(of: "CREATED", with: "1e3").utf8)
        #expect(throws: JSONReadError.self) { try ChangeReader.pushRequest(exponent) }
    }

    /// The daemon stores a pushed change's bytes as they came only when they are exactly what
    /// the writer writes for the change the reader made of them; any other spelling of the same
    /// change is read the same and written again.
    @Test func onlyTheWritersOwnBytesAreKeptAsSent() throws {
        var rng = SeededRandom(seed: 42)
        let changes = (0..<500).map { _ in Self.randomChange(&rng) }
        let request = try ChangeReader.pushRequest(ChangeWriter.pushBody(changes))
        #expect(Self.bytes(request.canonicalJSON) == changes.map { Array(ChangeWriter.json($0).utf8) })
        // JSONEncoder's key order and escapes are its own: taken only where they equal the writer's
        let encoded = try ChangeReader.pushRequest(Array(try JSONEncoder().encode(PushRequest(changes: changes))))
        #expect(encoded.changes == changes)
        #expect(zip(encoded.canonicalJSON ?? [], changes).allSatisfy { $0 == nil || $0!.utf8.elementsEqual(ChangeWriter.json($1).utf8) })
        #expect(encoded.canonicalJSON?.count == changes.count)

        let stamp = Stamp(wall: 0xabcdef, counter: 0x1f, node: "node-1")
        let header = NoteHeader(id: "n1", excerptId: "e1", createdAt: 0)
        let excerpt = Excerpt(text: "a/b", citation: Citation(raw: "R", authors: ["A"], title: "", year: nil, pages: "", remarks: []), compilation: "")
        let tag = Change.tag(excerptId: "e1", name: "t", present: true, stamp: stamp, base: nil)
        let note = Change.noteBody(header, body: "line\nnext\u{8}\u{1f}/", stamp: stamp, base: stamp)
        // spacing around the change's object is not part of it
        let spaced = try ChangeReader.pushRequest(Array("{\"changes\":[ \(ChangeWriter.json(tag))\n]}".utf8))
        #expect(Self.bytes(spaced.canonicalJSON) == [Array(ChangeWriter.json(tag).utf8)])
        // each spelling reads as the change and is not the writer's
        let spellings: [(Change, (String) -> String)] = [
            (tag, { String($0.dropLast()) + " }" }),
            (tag, { $0.replacingOccurrences(of: "{\"id\":", with: "{ \"id\":") }),
            (tag, { $0.replacingOccurrences(of: ":true", with: ": true") }),
            (tag, { String($0.dropLast()) + ",\"extra\":1}" }),
            (tag, { String($0.dropLast()) + ",\"base\":null}" }),
            (tag, { $0.replacingOccurrences(of: "t:e1:t@", with: "t:e1:x@") }),  // an id not the change's
            (tag, { "{" + $0[$0.range(of: #""kind""#)!.lowerBound...] }),  // no id
            (tag, { $0.replacingOccurrences(of: "abcdef", with: "ABCDEF") }),
            (tag, { $0.replacingOccurrences(of: #""excerptId":"e1","tag":"t""#, with: #""tag":"t","excerptId":"e1""#) }),
            (tag, { $0.replacingOccurrences(of: #""tag":"t""#, with: #""tag":"\u0074""#) }),
            (tag, { $0.replacingOccurrences(of: #""kind""#, with: #""\u006bind""#) }),
            (.excerpt(excerpt), { $0.replacingOccurrences(of: #""compilation":"""#, with: #""compilation":null"#) }),
            (.excerpt(excerpt), { $0.replacingOccurrences(of: #""title":"""#, with: #""title":null"#) }),
            (.excerpt(excerpt), { $0.replacingOccurrences(of: #"a/b"#, with: #"a\/b"#) }),
            (.excerpt(excerpt), { $0.replacingOccurrences(of: #""remarks":[]"#, with: #""remarks":[],"more":{}"#) }),
            (.excerpt(excerpt), { String($0.dropLast()) + #","base":"\#(stamp)"}"# }),
            (note, { $0.replacingOccurrences(of: #"\n"#, with: #"\u000a"#) }),
            (note, { $0.replacingOccurrences(of: #"\u0008"#, with: #"\b"#) }),
            (note, { $0.replacingOccurrences(of: #"\u001f"#, with: #"\u001F"#) }),
            (note, { $0.replacingOccurrences(of: #""createdAt":0"#, with: #""createdAt":-0"#) }),
            (note, { $0.replacingOccurrences(of: #""createdAt":0"#, with: #""createdAt":0,"collection":null"#) }),
            (note, { $0.replacingOccurrences(of: #","base":"#, with: #" ,"base":"#) }),
        ]
        for (i, (change, respell)) in spellings.enumerated() {
            let json = ChangeWriter.json(change)
            let other = respell(json)
            #expect(other != json, "spelling \(i) changed nothing")
            let read = try ChangeReader.pushRequest(Array("{\"changes\":[\(other)]}".utf8))
            #expect(read.changes == [change], "spelling \(i): \(other)")
            #expect(read.canonicalJSON == [nil], "spelling \(i): \(other)")
            // the writer's own spelling of the same change is kept
            #expect(Self.bytes(try ChangeReader.pushRequest(Array("{\"changes\":[\(json)]}".utf8)).canonicalJSON) == [Array(json.utf8)])
        }
        // invalid UTF-8 is repaired, and the repaired text is written again
        var broken = Array(ChangeWriter.json(tag).utf8)
        broken.insert(0xFF, at: broken.firstRange(of: Array(#""tag":"t"#.utf8))!.upperBound)
        let repaired = try ChangeReader.pushRequest(Array(#"{"changes":["#.utf8) + broken + Array("]}".utf8))
        #expect(repaired.canonicalJSON == [nil])
        #expect(repaired.changes == [.tag(excerptId: "e1", name: "t\u{FFFD}", present: true, stamp: stamp, base: nil)])
        for bad: [UInt8] in [[0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98]] {  // overlong, surrogate, above U+10FFFF, cut short
            var json = Array(ChangeWriter.json(tag).utf8)
            json.insert(contentsOf: bad, at: json.firstRange(of: Array(#""tag":"t"#.utf8))!.upperBound)
            #expect(try ChangeReader.pushRequest(Array(#"{"changes":["#.utf8) + json + Array("]}".utf8)).canonicalJSON == [nil], "\(bad)")
        }

        // what the writer writes for the rarer characters is kept; other spellings of them are not
        let rare = Change.tag(excerptId: "e1", name: "\u{0}\u{1F}\u{7F}\u{1F600}\\\"", present: false, stamp: stamp, base: nil)
        let rareJSON = ChangeWriter.json(rare)
        #expect(rareJSON.contains(#"\u0000\u001f"#) && rareJSON.contains("\u{7F}") && rareJSON.contains("\u{1F600}"))
        #expect(Self.bytes(try ChangeReader.pushRequest(Array("{\"changes\":[\(rareJSON)]}".utf8)).canonicalJSON) == [Array(rareJSON.utf8)])
        for other in [rareJSON.replacingOccurrences(of: "\u{7F}", with: #"\u007f"#), rareJSON.replacingOccurrences(of: "\u{1F600}", with: #"\ud83d\ude00"#),
                      rareJSON.replacingOccurrences(of: #"\u001f"#, with: #"\u001F"#)] {
            let read = try ChangeReader.pushRequest(Array("{\"changes\":[\(other)]}".utf8))
            #expect(read.changes == [rare])
            #expect(other != rareJSON)
            #expect(read.canonicalJSON == [nil], "\(other)")
        }
        // the change id of this tag holds escapes: compared once unescaped, and kept
        #expect(rareJSON.hasPrefix(#"{"id":"t:e1:\u0000"#))

        // more keys than the order holds: not the writer's
        let many = String(ChangeWriter.json(tag).dropLast()) + (0..<20).map { #","k\#($0)":0"# }.joined() + "}"
        #expect(try ChangeReader.pushRequest(Array("{\"changes\":[\(many)]}".utf8)).canonicalJSON == [nil])

        // "changes" twice: the last list counts, and so do its bytes, one per change
        let other = Change.tag(excerptId: "e1", name: "u", present: false, stamp: stamp, base: nil)
        let twice = try ChangeReader.pushRequest(Array("{\"changes\":[\(ChangeWriter.json(tag))],\"changes\":[\(ChangeWriter.json(other))]}".utf8))
        #expect(twice.changes == [other])
        #expect(Self.bytes(twice.canonicalJSON) == [Array(ChangeWriter.json(other).utf8)])
    }

    /// Kept bytes as bytes: `String ==` holds canonically equivalent Unicode equal.
    static func bytes(_ json: [String?]?) -> [[UInt8]?]? { json?.map { $0.map { Array($0.utf8) } } }

    @Test func pullPagesRoundTrip() throws {
        var rng = SeededRandom(seed: 7)
        let page = PullResponse(
            changes: (0..<50).map { SequencedChange(seq: Int64($0), change: Self.randomChange(&rng), via: $0 % 3 == 0 ? "o/t" : nil) },
            cursor: 49, more: true, serverStamp: Stamp(wall: 1, counter: 2, node: "glossd"), user: "alice",
            collections: [CollectionInfo(tag: "t", owner: "o", role: "reader", members: [.init(user: "alice", role: "reader")])])
        let decoded = try ChangeReader.pullResponse(Array(try JSONEncoder().encode(page)))
        #expect(decoded.changes == page.changes)
        #expect(decoded.cursor == 49 && decoded.more && decoded.user == "alice" && decoded.collections == page.collections)
    }

    @Test func mutatedAndHostileInputFailsCleanly() throws {
        var rng = SeededRandom(seed: 1234)
        let body = ChangeWriter.pushBody((0..<20).map { _ in Self.randomChange(&rng) })
        var failures = 0
        for _ in 0..<3000 {
            var m = body
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: m[Int.random(in: 0..<m.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: m.removeSubrange(Int.random(in: 0..<m.count, using: &rng)...)
                default: m.insert(Array("{[\"\\,:".utf8).randomElement(using: &rng)!, at: Int.random(in: 0..<m.count, using: &rng))
                }
                if m.isEmpty { break }
            }
            do { _ = try ChangeReader.pushRequest(m) } catch { failures += 1 }
        }
        #expect(failures > 2000)
        for hostile in [String(repeating: "[", count: 100_000), "{\"changes\":" + String(repeating: "[", count: 50_000),
                        "{\"x\":" + String(repeating: "{\"a\":", count: 10_000), "", "null", "{\"changes\": [{\"kind\": \"nope\"}]}",
                        "{\"changes\": [{\"kind\": \"tag\", \"excerptId\": 5}]}", "{\"changes\": [\"\\ud800\"]}"] {
            #expect(throws: JSONReadError.self) { try ChangeReader.pushRequest(Array(hostile.utf8)) }
        }
    }
}
