import Foundation
import GlossCorpus
import GlossModel
import Testing

@Suite struct SampleCorpusTests {
    static let parsed: ParsedCorpus = try! CompilationParser().parse(try! TestSupport.sampleCorpus())

    func citation(startingWith prefix: String, pages: String? = nil) throws -> Citation {
        let matches = Self.parsed.excerpts.map(\.citation).filter { $0.raw.hasPrefix(prefix) && (pages == nil || $0.pages == pages) }
        return try #require(matches.first, "no citation starting with \(prefix) p. \(pages ?? "*")")
    }

    @Test func splitsEveryExcerptAndSource() {
        #expect(Self.parsed.title == "The Real Stalin Series: Military Purges")
        #expect(Self.parsed.excerpts.count == 116)
        #expect(Self.parsed.sourceCount == 46)
        #expect(Set(Self.parsed.excerpts.map(\.id)).count == 116)
        for e in Self.parsed.excerpts {
            #expect(!e.text.isEmpty)
            #expect(!e.citation.pages.isEmpty, "no pages in \(e.citation.raw)")
            #expect(!e.text.contains("\u{A0}"), "no-break spaces are normalised")
        }
    }

    @Test func excerptBoundariesFollowCitationLines() throws {
        let first = Self.parsed.excerpts[0]
        #expect(first.text.hasPrefix("The Moscow press announced"))
        #expect(first.citation.raw == "Strong, Anna L. The Soviets Expected It. New York, New York: The Dial press, 1941, p. 134")
        // a dialogue excerpt keeps every paragraph, in order
        let dialogue = try #require(Self.parsed.excerpts.first { $0.citation.raw.hasSuffix("p. 280") && $0.citation.raw.hasPrefix("Chuev") })
        #expect(dialogue.text.hasPrefix("CHUEV: He [Tukhachevsky] was accused of being a German agent.\nMOLOTOV: He hurried"))
        #expect(dialogue.text.split(separator: "\n").count == 5)
        // indented (no-break space) paragraphs lose their indentation
        let indented = try #require(Self.parsed.excerpts.first { $0.text.hasPrefix("In view of the character of the accused") })
        #expect(indented.text.contains("\n(Footnote: The Bukharin trial six months later"))
        #expect(indented.text.contains("\nIt is generally accepted by members of the Diplomatic Corps"))
        #expect(indented.text.split(separator: "\n").count == 4)
        let last = try #require(Self.parsed.excerpts.last)
        #expect(last.citation.raw.hasSuffix("1990, p. 237"))
    }

    @Test func strongWithMiddleInitial() throws {
        let c = try citation(startingWith: "Strong, Anna L.")
        #expect(c.authors == ["Strong, Anna L."])
        #expect(c.title == "The Soviets Expected It")
        #expect(c.place == "New York, New York")
        #expect(c.publisher == "The Dial press")
        #expect(c.year == 1941)
        #expect(c.pages == "134")
    }

    @Test func cookridgeFootnoteStyle() throws {
        let c = try citation(startingWith: "E. H. Cookridge")
        #expect(c.authors == ["E. H. Cookridge"])
        #expect(c.title == "Gehlen: Spy of the Century")
        #expect(c.place == "New York")
        #expect(c.publisher == "Random House")
        #expect(c.year == 1972)
        #expect(c.pages == "57-58")
    }

    @Test func gettyAmpersandNaumovWithComma() throws {
        let c = try citation(startingWith: "Getty & Naumov")
        #expect(c.authors == ["Getty", "Naumov"])
        #expect(c.title == "The Road to Terror")
        #expect(c.place == "New Haven, Conn.")
        #expect(c.publisher == "Yale Univ. Press")
        #expect(c.year == 1999)
        #expect(c.pages == "521-522")
    }

    @Test func gettyAndManning() throws {
        let c = try citation(startingWith: "Getty and Manning", pages: "205")
        #expect(c.authors == ["Getty", "Manning"])
        #expect(c.title == "Stalinist Terror")
        #expect(c.place == "Cambridge, NY")
        #expect(c.publisher == "Cambridge University Press")
        #expect(c.year == 1993)
    }

    @Test func trotskyWithCommaBeforeTitle() throws {
        let c = try citation(startingWith: "Trotsky, Leon, Stalin.")
        #expect(c.authors == ["Trotsky, Leon"])
        #expect(c.title == "Stalin")
        #expect(c.place == "New York")
        #expect(c.publisher == "Harper and Brothers Publishers")
        #expect(c.year == 1941)
        #expect(c.pages == "269")
    }

    @Test func politicalArchivesHasNoAuthor() throws {
        let c = try citation(startingWith: "Political Archives", pages: "227")
        #expect(c.authors == [])
        #expect(c.title == "Political Archives of the Soviet Union (Vol. 1, No. 2)")
        #expect(c.place == "Commack, New York")
        #expect(c.publisher == "Nova Science Publishers")
        #expect(c.year == 1990)
        #expect(Self.parsed.warnings.contains { $0.contains("no author") && $0.contains("Political Archives") })
        #expect(Self.parsed.excerpts.filter { $0.citation.raw.hasPrefix("Political Archives") }.count == 18)
    }

    @Test func martensHasNoYearAndABracketPageNote() throws {
        let c = try citation(startingWith: "Martens, Ludo")
        #expect(c.authors == ["Martens, Ludo"])
        #expect(c.title == "Another View of Stalin")
        #expect(c.place == "Antwerp, Belgium")
        #expect(c.year == nil, "2600 is a postal code, not a year: left empty, not guessed")
        #expect(c.pages == "169")
        #expect(c.remarks == ["p. 155 on the NET"])
        #expect(Self.parsed.warnings.contains { $0.contains("no year") && $0.contains("Martens") })
    }

    @Test func tokaevPublisherWithoutSpaceBeforeYear() throws {
        let c = try citation(startingWith: "Tokaev, Grigori", pages: "42")
        #expect(c.authors == ["Tokaev, Grigori"])
        #expect(c.title == "Comrade X")
        #expect(c.place == "London")
        #expect(c.publisher == "Harvill Press")
        #expect(c.year == 1956)
    }

    @Test func durantyPublisherAndYearWithoutComma() throws {
        let c = try citation(startingWith: "Duranty, Walter. Story of Soviet Russia")
        #expect(c.title == "Story of Soviet Russia")
        #expect(c.place == "Philadelphia, N. Y.")
        #expect(c.publisher == "JB Lippincott Co.")
        #expect(c.year == 1944)
        #expect(c.pages == "220")
    }

    @Test func krivitskyTitleClosedByComma() throws {
        let c = try citation(startingWith: "Krivitsky")
        #expect(c.authors == ["Krivitsky, Walter G."])
        #expect(c.title == "I was Stalin's Agent")
        #expect(c.place == "London")
        #expect(c.publisher == "H. Hamilton")
        #expect(c.year == 1939)
    }

    @Test func sudoplatovCopyrightYear() throws {
        let c = try citation(startingWith: "Sudoplatov")
        #expect(c.year == 1993)
        #expect(c.publisher == "Little, Brown")
        #expect(c.title == "Special Tasks")
        #expect(c.place == "Boston")
    }

    @Test func lucasAndUkasEditorialRole() throws {
        let c = try citation(startingWith: "Lucas and Ukas", pages: "110-112")
        #expect(c.authors == ["Lucas", "Ukas"])
        #expect(c.title == "Secret Documents")
        #expect(c.remarks == ["Trans. and Ed."])
        #expect(c.place == "Toronto, Canada")
        #expect(c.publisher == "Northstar Compass")
        #expect(c.year == 1996)
    }

    @Test func titlesWithColonsSemicolonsAndCommas() throws {
        let rogovin = try citation(startingWith: "Rogovin")
        #expect(rogovin.title == "1937: Year of Terror")
        #expect(rogovin.place == "Oak Park, Michigan")
        let cole = try citation(startingWith: "Cole, David M.")
        #expect(cole.authors == ["Cole, David M."])
        #expect(cole.title == "Josef Stalin; Man of Steel")
        #expect(cole.place == "London, New York")
        let thurston = try citation(startingWith: "Thurston", pages: "50-53")
        #expect(thurston.title == "Life and Terror in Stalin's Russia, 1934-1941")
        #expect(thurston.place == "New Haven")
        #expect(thurston.year == 1996)
        let laqueur = try citation(startingWith: "Laqueur", pages: "87")
        #expect(laqueur.title == "Stalin: The Glasnost Revelations")
        #expect(laqueur.publisher == "Scribner's")
        #expect(laqueur.year == 1990)
    }

    @Test func initialsAndAbbreviatedPlaces() throws {
        let overy = try citation(startingWith: "Overy")
        #expect(overy.authors == ["Overy, R. J."])
        #expect(overy.title == "Russia's War: Blood Upon the Snow")
        let getty = try citation(startingWith: "Getty, A.", pages: "167")
        #expect(getty.authors == ["Getty, A."])
        #expect(getty.title == "Origins of the Great Purges")
        #expect(getty.place == "Cambridge, N. Y.")
        #expect(getty.publisher == "Cambridge Univ. Press")
        let service = try citation(startingWith: "Service, Robert")
        #expect(service.title == "Stalin")
        #expect(service.place == "Cambridge, Mass.")
        #expect(service.publisher == "Belknap Press of Harvard Univ. Press")
        #expect(service.pages == "279-280")
        let litvinov = try citation(startingWith: "Litvinov")
        #expect(litvinov.authors == ["Litvinov, Maksim Maksimovich"])
        let campbell = try citation(startingWith: "Campbell, J. R.")
        #expect(campbell.publisher == "V. Gollancz, ltd.")
        #expect(campbell.year == 1939)
    }

    @Test func onlyUnreadableFieldsWarn() {
        // Martens (year) and the Political Archives (author): nothing else is missing
        #expect(Self.parsed.warnings.count == 2, "\(Self.parsed.warnings)")
    }
}

@Suite struct CorpusRobustnessTests {
    let parser = CompilationParser()

    func ids(_ bytes: [UInt8]) throws -> [String] { try parser.parse(bytes).excerpts.map(\.id) }

    @Test func idsDoNotDependOnLineEndsBOMTabsOrTrailingSpace() throws {
        let original = try TestSupport.sampleCorpus()
        let text = String(decoding: original, as: UTF8.self)
        let expected = try ids(original)
        var variants: [String: String] = [
            "CRLF": text.replacingOccurrences(of: "\n", with: "\r\n"),
            "CR": text.replacingOccurrences(of: "\n", with: "\r"),
            "BOM": "\u{FEFF}" + text,
            "trailing spaces": text.replacingOccurrences(of: "\n", with: "  \t\n"),
            "tabs for indentation": text.replacingOccurrences(of: "\u{A0}", with: "\t"),
            "with or without a final newline": text.hasSuffix("\n") ? String(text.dropLast()) : text + "\n",
            "blank lines between everything": text.replacingOccurrences(of: "\n", with: "\n\n"),
        ]
        variants["all at once"] = "\u{FEFF}" + text.replacingOccurrences(of: "\n", with: " \r\n")
        for (name, variant) in variants {
            #expect(try ids(Array(variant.utf8)) == expected, "variant: \(name)")
        }
    }

    @Test func invalidUTF8IsAnErrorNamingTheOffset() throws {
        var bytes = Array("Title\nSome text here.\n".utf8)
        let offset = bytes.count
        bytes += [0x66, 0xFF, 0x67, 0x0A]
        bytes += Array("Author, A. A Book. Place: Pub, 1990, p. 3\n".utf8)
        #expect(throws: CorpusError.invalidUTF8(offset: offset + 1)) { try parser.parse(bytes) }
        let replaced = try parser.parse(bytes, invalidUTF8: .replace)
        #expect(replaced.excerpts.count == 1)
        #expect(replaced.excerpts[0].text.contains("\u{FFFD}"))
        #expect(replaced.warnings.contains { $0.contains("offset \(offset + 1)") })
        // overlong encodings and surrogates are invalid too
        #expect(throws: CorpusError.invalidUTF8(offset: 6)) { try parser.parse(Array("Title\n".utf8) + [0xC0, 0xAF]) }
        #expect(throws: CorpusError.invalidUTF8(offset: 6)) { try parser.parse(Array("Title\n".utf8) + [0xED, 0xA0, 0x80]) }
    }

    /// Feeds `bytes` in chunks of `size` (the last one shorter) and collects what the stream emits.
    func streamed(_ bytes: [UInt8], chunk size: Int, invalidUTF8: InvalidUTF8Policy = .fail) throws -> (ids: [String], summary: CorpusSummary) {
        var stream = CompilationStream(invalidUTF8: invalidUTF8)
        var ids: [String] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            try bytes[start..<end].withUnsafeBufferPointer { try stream.feed($0) { ids.append($0.id) } }
            start = end
        }
        let summary = try stream.finish { ids.append($0.id) }
        return (ids, summary)
    }

    @Test func chunkBoundariesChangeNothing() throws {
        let sample = try TestSupport.sampleCorpus()
        let whole = try parser.parse(sample)
        // CRLF line ends put some CR and LF pairs on either side of a boundary
        let crlf = Array(String(decoding: sample, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        for (name, bytes) in [("LF", sample), ("CRLF", crlf)] {
            for size in [1, 2, 3, 7, 64, 4093, 1 << 20] {
                let (ids, summary) = try streamed(bytes, chunk: size)
                #expect(ids == whole.excerpts.map(\.id), "\(name) in chunks of \(size)")
                #expect(summary.warnings == whole.warnings, "\(name) in chunks of \(size)")
                #expect(summary.title == whole.title && summary.sourceCount == whole.sourceCount)
            }
        }
        // an invalid byte is reported at its offset in the input, wherever the chunks fall
        var bad = Array(sample.prefix(5000))
        bad[4321] = 0xFF
        for size in [1, 100, 4096] {
            #expect(throws: CorpusError.invalidUTF8(offset: 4321)) { _ = try streamed(bad, chunk: size) }
        }
    }

    @Test func longLinesAreTheSameWhereverTheChunksFallAndHugeOnesAreRefused() throws {
        let long = String(repeating: "word ", count: Limits.maxExcerptTextBytes / 5 + 100)
        let input = Array("T\n\(long)\nAuthor, A. A Book. Place: Pub, 1990, p. 1\nShort text.\nAuthor, A. A Book. Place: Pub, 1990, p. 2\n".utf8)
        for size in [4096, 100_000, input.count] {
            let (ids, summary) = try streamed(input, chunk: size)
            #expect(ids.count == 1, "chunks of \(size)")
            #expect(summary.warnings.contains { $0.hasPrefix("lines 2–3: excerpt text is over") }, "\(summary.warnings)")
        }
        #expect(try parser.parse(input).excerpts.map(\.text) == ["Short text."])
        // a line over the hard limit is an error, in one chunk or many
        let huge = Array("T\nText.\nAuthor, A. A Book. Place: Pub, 1990, p. 1\n".utf8) + [UInt8](repeating: 0x61, count: CompilationStream.maxLineBytes + 1) + [0x0A]
        for size in [1 << 20, huge.count] {
            #expect(throws: CorpusError.lineTooLong(line: 4)) { _ = try streamed(huge, chunk: size) }
        }
    }

    @Test func textWithoutCitationAndCitationWithoutTextAreReported() throws {
        let input = """
            Title
            Author, A. Lonely Citation. Place: Pub, 1990, p. 1
            Quoted text.
            Author, A. A Book. Place: Pub, 1990, p. 2
            Trailing text with no citation.
            """
        let parsed = try parser.parse(Array(input.utf8))
        #expect(parsed.excerpts.count == 1)
        #expect(parsed.excerpts[0].text == "Quoted text.")
        #expect(parsed.warnings.contains { $0.hasPrefix("line 2: citation with no quoted text") })
        #expect(parsed.warnings.contains { $0.hasPrefix("line 5 to the end: text with no citation") })
    }

    @Test func aFileWithoutExcerptsIsAnError() {
        #expect(throws: CorpusError.noExcerpts) { try parser.parse([]) }
        #expect(throws: CorpusError.noExcerpts) { try parser.parse(Array("Just a title\nand some text\n".utf8)) }
    }

    @Test func aLineEndingInAPageNumberIsACitationOnlyWithASourceShape() throws {
        let input = "T\nHe said so, p. 3\nBook, A. Title. Place: Pub, 2001, p. 4\n"
        let parsed = try parser.parse(Array(input.utf8))
        #expect(parsed.excerpts.count == 1)
        #expect(parsed.excerpts[0].text == "He said so, p. 3")
    }

    @Test func randomBytesNeverCrashTheParser() {
        var rng = SeededRandom(seed: 42)
        let sample = (try? TestSupport.sampleCorpus()) ?? []
        for round in 0..<300 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...2000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                // mutate a slice of the real corpus
                let start = Int.random(in: 0..<(sample.count - 3000), using: &rng)
                bytes = Array(sample[start..<(start + 3000)])
                for _ in 0..<20 { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            }
            _ = try? parser.parse(bytes, invalidUTF8: .replace)
            _ = try? parser.parse(bytes, invalidUTF8: .fail)
        }
    }
}

/// A deterministic generator (SplitMix64) so randomized tests can be replayed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct ISOTimeTests {
    @Test func whatFormatWritesParsesBackToTheMillisecond() {
        let chosen: [Int64] = [0, 1, 999, 1_000, 951_782_400_000, 1_764_000_000_123, 4_102_444_799_999]
        for ms in chosen + (0..<3_000).map({ Int64($0) * 1_234_567_891 }) {
            #expect(ISOTime.parse(ISOTime.format(ms)) == ms, "\(ISOTime.format(ms))")
        }
    }

    @Test func otherFormsAreReadAndImpossibleDatesRefused() {
        let utc = ISOTime.parse("2026-11-25T01:02:03.000Z")
        #expect(utc == 1_795_568_523_000)
        #expect(ISOTime.parse("2026-11-25T01:02:03Z") == utc)
        #expect(ISOTime.parse("2026-11-25T02:02:03+01:00") == utc)
        #expect(ISOTime.parse("2024-02-29T00:00:00Z") != nil)
        #expect(ISOTime.parse("2016-12-31T23:59:60Z") == ISOTime.parse("2016-12-31T23:59:59.999Z"))
        for bad in ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T01:02:03.00xZ", "yesterday", ""] {
            #expect(ISOTime.parse(bad) == nil, "\(bad)")
        }
    }
}
