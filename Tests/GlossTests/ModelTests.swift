import Foundation
import GlossModel
import PropertyBased
import Testing

@Suite struct StampTests {
    @Test func textFormRoundTripsAndSortsLikeStamps() throws {
        let stamps = [
            Stamp(wall: 0, counter: 0, node: "a"), Stamp(wall: 1, counter: 0, node: "a"),
            Stamp(wall: 1, counter: 1, node: "a"), Stamp(wall: 1, counter: 1, node: "b"),
            Stamp(wall: 1_764_000_000_000, counter: 0, node: "a"), Stamp(wall: 1_764_000_000_000, counter: 255, node: "z"),
        ]
        for (a, b) in zip(stamps, stamps.dropFirst()) {
            #expect(a < b)
            #expect(a.description < b.description)
            #expect(Stamp(a.description) == a)
        }
        #expect(Stamp(wall: 0x1A2B, counter: 3, node: "n-1").description == "000000001a2b.00000003.n-1")
        #expect(Stamp(wall: 0xFFFF_FFFF_FFFF, counter: .max, node: "z").description == "ffffffffffff.ffffffff.z")
        // a wall past twelve hex digits takes as many as it needs; the longest node is copied whole
        let long = String(repeating: "n", count: 64)
        #expect(Stamp(wall: 0x1_0000_0000_00AB, counter: 0, node: long).description == "10000000000ab.00000000." + long)
        // write(into:) appends the same text after what the buffer holds
        var bytes = Array("id@".utf8)
        Stamp(wall: 0x1A2B, counter: 3, node: "n-1").write(into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "id@000000001a2b.00000003.n-1")
        #expect(Stamp("000000001A2B.00000003.n-1") == Stamp(wall: 0x1A2B, counter: 3, node: "n-1"))
        #expect(Stamp("00000000xa2b.00000003.n") == nil)
        #expect(Stamp("000000001a2b-00000003.n") == nil)
        #expect(Stamp("garbage") == nil)
        #expect(Stamp("000000000001.00000000.") == nil)
        #expect(Stamp("000000000001.00000000.bad node") == nil)
    }

    @Test func tickIsMonotonicEvenWhenTheWallClockGoesBack() {
        let times = TimeSource([1000, 1000, 900, 2000, 1500])
        var clock = HybridClock(node: "r1", now: times.next)
        let stamps = (0..<5).map { _ in clock.tick() }
        #expect(stamps == stamps.sorted())
        #expect(Set(stamps).count == 5)
        #expect(stamps[0] == Stamp(wall: 1000, counter: 0, node: "r1"))
        #expect(stamps[1] == Stamp(wall: 1000, counter: 1, node: "r1"))
        #expect(stamps[2] == Stamp(wall: 1000, counter: 2, node: "r1"))
        #expect(stamps[3] == Stamp(wall: 2000, counter: 0, node: "r1"))
        #expect(stamps[4] == Stamp(wall: 2000, counter: 1, node: "r1"))
    }

    @Test(arguments: [
        // (local wall now, last local, remote) -> the next tick must exceed remote and last
        (Int64(1000), Stamp(wall: 500, counter: 0, node: "me"), Stamp(wall: 3_600_000, counter: 7, node: "other")),
        (Int64(5000), Stamp(wall: 4000, counter: 3, node: "me"), Stamp(wall: 4000, counter: 9, node: "other")),
        (Int64(100), Stamp(wall: 9000, counter: 2, node: "me"), Stamp(wall: 10, counter: 0, node: "other")),
        (Int64(100), Stamp(wall: 100, counter: 2, node: "me"), Stamp(wall: 100, counter: 2, node: "zzz")),
    ])
    func receiveMovesTheClockPastRemoteStamps(now: Int64, last: Stamp, remote: Stamp) {
        var clock = HybridClock(node: "me", last: last, now: { now })
        clock.receive(remote)
        let next = clock.tick()
        #expect(next > remote)
        #expect(next > last)
    }

    @Test func aMachineOneHourBehindStillOrdersItsNextEditAfterWhatItSynced() {
        let hour: Int64 = 3_600_000
        var fast = HybridClock(node: "fast", now: { 10 * hour })
        var slow = HybridClock(node: "slow", now: { 9 * hour })
        let synced = fast.tick()
        slow.receive(synced)
        #expect(slow.tick() > synced)
    }
}

final class TimeSource: @unchecked Sendable {
    private var values: [Int64]
    init(_ values: [Int64]) { self.values = values }
    var next: @Sendable () -> Int64 { { [self] in values.isEmpty ? 0 : values.removeFirst() } }
}

@Suite struct MergeTests {
    static let s1 = Stamp(wall: 10, counter: 0, node: "a")
    static let s2 = Stamp(wall: 10, counter: 0, node: "b")
    static let s3 = Stamp(wall: 10, counter: 1, node: "a")
    static let s4 = Stamp(wall: 11, counter: 0, node: "a")

    @Test(arguments: [
        // current, incoming, expected winner value
        (Versioned("old", stamp: s1), Versioned("new", stamp: s4), "new"),  // later wall wins
        (Versioned("new", stamp: s4), Versioned("old", stamp: s1), "new"),  // earlier loses
        (Versioned("x", stamp: s1), Versioned("y", stamp: s3), "y"),  // counter breaks equal wall
        (Versioned("from-a", stamp: s1), Versioned("from-b", stamp: s2), "from-b"),  // replica id breaks full tie
        (Versioned("from-b", stamp: s2), Versioned("from-a", stamp: s1), "from-b"),
        (Versioned("same", stamp: s1), Versioned("same", stamp: s1), "same"),  // duplicate
    ])
    func higherStampWins(current: Versioned<String>, incoming: Versioned<String>, winner: String) {
        #expect(LastWriterWins.winner(current, incoming).value == winner)
        #expect(LastWriterWins.winner(incoming, current).value == winner)
    }

    @Test func outcomesSayWhatToKeep() {
        let a = Versioned("a", stamp: Self.s1), b = Versioned("b", stamp: Self.s4)
        #expect(LastWriterWins.merge(current: nil, incoming: a) == .inserted)
        #expect(LastWriterWins.merge(current: a, incoming: b) == .replaced(superseded: a))
        #expect(LastWriterWins.merge(current: b, incoming: a) == .rejected)
        #expect(LastWriterWins.merge(current: a, incoming: a) == .duplicate)
        // conflict: only when the writer had not seen what it replaced
        #expect(LastWriterWins.isConflict(MergeOutcome<String>.replaced(superseded: a), base: Self.s1) == false)
        #expect(LastWriterWins.isConflict(MergeOutcome<String>.replaced(superseded: a), base: nil) == true)
        #expect(LastWriterWins.isConflict(MergeOutcome<String>.rejected, base: nil) == true)
    }

    @Test func deletionIsAFieldLikeAnyOther() {
        let edit = Versioned(false, stamp: Self.s1)
        let delete = Versioned(true, stamp: Self.s4)
        #expect(LastWriterWins.winner(edit, delete).value == true)
        #expect(LastWriterWins.winner(delete, edit).value == true)
    }

    @Sendable static func version(_ n: [Int]) -> Versioned<String> {
        Versioned(["α", "β", "γ", "δ", "ε"][n[3]], stamp: Stamp(wall: Int64(n[0]), counter: UInt32(n[1]), node: ["r1", "r2", "r3", "r4", "r5"][n[2]]))
    }

    @Test func mergeIsCommutative() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...4).array(of: 4).map(Self.version), Gen.int(in: 0...4).array(of: 4).map(Self.version)) { a, b in
            #expect(LastWriterWins.winner(a, b) == LastWriterWins.winner(b, a))
        }
    }

    @Test func mergeIsAssociative() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...4).array(of: 4).map(Self.version), Gen.int(in: 0...4).array(of: 4).map(Self.version), Gen.int(in: 0...4).array(of: 4).map(Self.version)) { a, b, c in
            let left = LastWriterWins.winner(LastWriterWins.winner(a, b), c)
            let right = LastWriterWins.winner(a, LastWriterWins.winner(b, c))
            #expect(left == right)
        }
    }

    @Test func mergeIsIdempotent() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...4).array(of: 4).map(Self.version), Gen.int(in: 0...4).array(of: 4).map(Self.version)) { a, b in
            #expect(LastWriterWins.winner(a, a) == a)
            let once = LastWriterWins.winner(a, b)
            #expect(LastWriterWins.winner(once, b) == once)
        }
    }

    @Test func anyOrderOfAnyRepeatedDeliveriesResolvesToTheMaximum() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...4).array(of: 4).map(Self.version).array(of: 1...12)) { versions in
            let expected = LastWriterWins.resolve(versions)!
            var shuffled = versions + versions.prefix(3)
            shuffled.shuffle()
            #expect(LastWriterWins.resolve(shuffled) == expected)
            // folding with merge outcomes, as stores do, ends on the same value
            var current: Versioned<String>?
            for v in shuffled {
                switch LastWriterWins.merge(current: current, incoming: v) {
                case .inserted, .replaced: current = v
                case .rejected, .duplicate: break
                }
            }
            #expect(current == expected)
        }
    }
}

@Suite struct ChangeCodingTests {
    @Test func changesRoundTripThroughJSONWithStableIDs() throws {
        let excerpt = Excerpt(text: "A quoted passage.", citation: Citation(raw: "Author, A. Title. Place: Pub, 2000, p. 1"))
        let note = NoteHeader(id: "n1", excerptId: excerpt.id, createdAt: 5)
        let s = Stamp(wall: 42, counter: 1, node: "abc")
        let changes: [Change] = [
            .excerpt(excerpt),
            .noteBody(note, body: "hello", stamp: s, base: nil),
            .noteDeleted(note, deleted: true, stamp: s, base: s),
            .tag(excerptId: excerpt.id, name: "purge", present: false, stamp: s, base: nil),
        ]
        for c in changes {
            let data = try JSONEncoder().encode(c)
            let back = try JSONDecoder().decode(Change.self, from: data)
            #expect(back == c)
            #expect(back.id == c.id)
            #expect(c.validationError() == nil)
        }
        #expect(Set(changes.map(\.id)).count == changes.count)
    }

    @Test func theFastWriterProducesJSONThatDecodesToTheSameChange() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é ü 漢字 🙂 </script>"
        let citation = Citation(raw: tricky, authors: ["A, B.", tricky], title: "T", place: "", publisher: "P", year: nil, pages: "1-2", remarks: [tricky])
        let excerpt = Excerpt(text: tricky, citation: citation, compilation: tricky)
        let s = Stamp(wall: 1_764_000_000_000, counter: 3, node: "node_1-x")
        let h = NoteHeader(id: "n-1", excerptId: excerpt.id, createdAt: -5, collection: "alice/purge-trials")
        let changes: [Change] = [
            .excerpt(excerpt), .excerpt(Excerpt(text: "x", citation: Citation(raw: "y", year: 1990))),
            .noteBody(h, body: tricky, stamp: s, base: nil), .noteBody(NoteHeader(id: "n2", excerptId: excerpt.id, createdAt: 0), body: "b", stamp: s, base: s),
            .noteDeleted(h, deleted: true, stamp: s, base: s), .noteDeleted(h, deleted: false, stamp: s, base: nil),
            .tag(excerptId: excerpt.id, name: "alice/t", present: true, stamp: s, base: nil),
        ]
        for c in changes {
            let fast = ChangeWriter.json(c)
            #expect(try JSONDecoder().decode(Change.self, from: Data(fast.utf8)) == c, "\(fast)")
        }
        let body = ChangeWriter.pushBody(changes)
        #expect(try JSONDecoder().decode(PushRequest.self, from: Data(body)).changes == changes)
    }

    @Test func anExcerptsIDIsTheFirstHalfOfTheSHA256OfItsTextAndCitation() {
        // computed outside Swift: printf 'TEXT\x1eCITATION' | sha256sum | cut -c1-32
        let e = Excerpt(text: "Trial of the army — é", citation: Citation(raw: "Conquest, R. The Great Terror. 1968."))
        #expect(e.id == "ebde9decab6cdff7da3d2c19dedc8b31")
        #expect(e.hasConsistentID)
        #expect(Change.excerpt(e).validationError() == nil)
    }

    @Test func validationRejectsWhatAPeerCouldGetWrong() {
        let s = Stamp(wall: 1, counter: 0, node: "n")
        let forged = Excerpt(id: String(repeating: "a", count: 32), text: "x", citation: Citation(raw: "y"), compilation: "")
        #expect(Change.excerpt(forged).validationError() != nil)
        #expect(Change.tag(excerptId: "nothex", name: "t", present: true, stamp: s, base: nil).validationError() != nil)
        #expect(Change.tag(excerptId: forged.id, name: "has space", present: true, stamp: s, base: nil).validationError() != nil)
        #expect(Change.tag(excerptId: forged.id, name: String(repeating: "t", count: 65), present: true, stamp: s, base: nil).validationError() != nil)
        let note = NoteHeader(id: "n", excerptId: forged.id, createdAt: 0)
        #expect(Change.noteBody(note, body: "   ", stamp: s, base: nil).validationError() != nil)
        #expect(Change.noteBody(note, body: String(repeating: "x", count: Limits.maxNoteBytes + 1), stamp: s, base: nil).validationError() != nil)
    }

    @Test func aTagTakesLettersDigitsAndFiveMarksByUnicodesPropertiesASCIIIncluded() {
        // validateTag answers ASCII without the property tables: it must agree with them
        func byProperties(_ c: Unicode.Scalar) -> Bool {
            c.properties.isAlphabetic || c.properties.numericType != nil || "-_.+#".unicodeScalars.contains(c)
        }
        let others: [Unicode.Scalar] = ["é", "ж", "中", "٣", "½", "Ⅻ", "€", "—", "\u{00A0}", "\u{0301}", "🙂", "ß", "ª"]
        for c in (0..<0x80).compactMap(Unicode.Scalar.init) + others {
            #expect((Limits.validateTag("a" + String(c)) == nil) == byProperties(c), "U+\(String(c.value, radix: 16))")
        }
        #expect(Limits.validateTag("Terror-1937_v2.x+#") == nil)
        #expect(Limits.validateTag("трибунал½") == nil)
    }
}

@Suite struct WireTests {
    @Test func aPullRequestWrittenByHandIsWhatJSONDecoderReads() throws {
        let requests = [
            PullRequest(after: 0), PullRequest(after: 116, limit: 2_000), PullRequest(after: Int64.max, limit: 1, skip: []),
            PullRequest(after: 7, limit: 2_000, skip: [[8, 8], [10, 4_000_000_000_000], [Int64.max - 1, Int64.max]]),
        ]
        for request in requests {
            let read = try JSONDecoder().decode(PullRequest.self, from: Data(request.json))
            #expect(read.after == request.after && read.limit == request.limit && read.skip == request.skip, "\(String(decoding: request.json, as: UTF8.self))")
        }
    }

    @Test func aPushAnswerIsReadByTheFastReaderAsJSONDecoderReadsIt() throws {
        let stamp = Stamp(wall: 1_764_000_000_123, counter: 7, node: "d-1")
        let answers = [
            PushResponse(acknowledged: [], conflicts: 0, serverStamp: stamp),
            PushResponse(acknowledged: ["e:0123", "nb:\u{1F600}\"q\"@1", "t:x\\y"], conflicts: 2, serverStamp: stamp, logged: []),
            PushResponse(acknowledged: ["a"], conflicts: 1, serverStamp: stamp, logged: [[1, 1], [3, 4_000_000_000_000]]),
        ]
        for answer in answers {
            let bytes = ChangeWriter.pushResponse(answer)
            let fast = try ChangeReader.pushResponse(bytes)
            let foundation = try JSONDecoder().decode(PushResponse.self, from: Data(bytes))
            for read in [fast, foundation] {
                #expect(read.acknowledged == answer.acknowledged && read.conflicts == answer.conflicts, "\(String(decoding: bytes, as: UTF8.self))")
                #expect(read.serverStamp == answer.serverStamp && read.logged == answer.logged)
            }
        }
        // written by another daemon: spaces, a null, an unknown key, keys in another order
        let other = Array(#"{ "serverStamp": "\#(stamp)", "future": {"a": [1]}, "logged": null, "conflicts": 0, "acknowledged": ["x"] }"#.utf8)
        let read = try ChangeReader.pushResponse(other)
        #expect(read.acknowledged == ["x"] && read.logged == nil && read.serverStamp == stamp)
        #expect(throws: JSONReadError.self) { try ChangeReader.pushResponse(Array(#"{"acknowledged": ["x"], "conflicts": 0}"#.utf8)) }
        #expect(throws: JSONReadError.self) { try ChangeReader.pushResponse(Array(#"{"acknowledged": ["x"], "conflicts": 0, "serverStamp": "\#(stamp)""#.utf8)) }
    }
}

@Suite struct NoteIDTests {
    @Test func noteIDsAreVersion7UUIDsThatSortByTime() throws {
        var previous = ""
        for ms: Int64 in [0, 1, 255, 256, 1_764_000_000_000, 1_764_000_000_001, 0xFFFF_FFFF_FFFF] {
            let id = NoteID.make(milliseconds: ms)
            let uuid = try #require(UUID(uuidString: id), "\(id) is a UUID")
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 7 && bytes[8] >> 6 == 0b10, "version 7, variant 10")
            #expect(bytes[0..<6].reduce(0) { $0 << 8 | Int64($1) } == ms)
            #expect(id > previous, "a later millisecond sorts later as text")
            previous = id
        }
        // the other 74 bits are random
        let same = (0..<100).map { _ in NoteID.make(milliseconds: 1_764_000_000_000) }
        #expect(Set(same).count == 100)
    }
}
