/// Generates a compilation in the sample's format, deterministically from a seed: excerpts of one
/// to four paragraphs drawn from a fixed vocabulary, closed by citations of `sources` books.
struct CorpusGenerator {
    var rng: SplitMix
    let sources: Int

    init(seed: UInt64, sources: Int) {
        rng = SplitMix(seed: seed)
        self.sources = sources
    }

    static let words: [String] = {
        let syllables = ["ka", "ro", "mi", "tu", "sen", "vol", "gra", "der", "pol", "an", "tre", "zin", "mar", "shev", "ov", "lin", "bor", "ist", "ue", "chak"]
        var out: [String] = ["the", "of", "and", "to", "in", "was", "that", "he", "army", "trial", "party", "court", "plot", "military", "commander", "Stalin", "Tukhachevsky", "Moscow", "confessed", "arrested"]
        var s = SplitMix(seed: 7)
        while out.count < 4000 {
            let n = 1 + Int(s.next() % 3)
            out.append((0..<n).map { _ in syllables[Int(s.next() % UInt64(syllables.count))] }.joined())
        }
        return out
    }()

    mutating func word() -> String {
        // skewed towards frequent words, as prose is
        let r = Double(rng.next() % 1_000_000) / 1_000_000
        return Self.words[Int(r * r * r * Double(Self.words.count - 1))]
    }

    mutating func sentence() -> String {
        let n = 8 + Int(rng.next() % 18)
        var s = (0..<n).map { _ in word() }.joined(separator: " ")
        s = s.prefix(1).uppercased() + s.dropFirst()
        return s + "."
    }

    mutating func citation(source: Int) -> String {
        var s = SplitMix(seed: UInt64(source) &* 2_654_435_761)
        func name() -> String {
            let w = Self.words[20 + Int(s.next() % 3000)]
            return w.prefix(1).uppercased() + w.dropFirst()
        }
        let places = ["New York", "London", "Chicago", "Boston", "Cambridge, Mass.", "New Haven, Conn.", "Toronto, Canada", "Oak Park, Michigan"]
        let author = "\(name()), \(name())"
        let title = (0..<(2 + Int(s.next() % 4))).map { _ in name() }.joined(separator: " ")
        let place = places[Int(s.next() % UInt64(places.count))]
        let publisher = "\(name()) Press"
        let year = 1900 + Int(s.next() % 120)
        let page = 1 + Int(rng.next() % 600)
        return "\(author). \(title). \(place): \(publisher), \(year), p. \(page)"
    }

    /// The whole corpus as bytes.
    mutating func corpus(excerpts: Int) -> [UInt8] {
        var out = "Generated Compilation: \(excerpts) Excerpts\n\n".utf8.map { $0 }
        out.reserveCapacity(excerpts * 520)
        for i in 0..<excerpts {
            let paragraphs = 1 + Int(rng.next() % 4)
            for _ in 0..<paragraphs {
                let sentences = 1 + Int(rng.next() % 3)
                out += Array(((0..<sentences).map { _ in sentence() }.joined(separator: " ") + "\n").utf8)
            }
            out += Array((citation(source: Int(rng.next() % UInt64(sources))) + "\n").utf8)
            if i % 3 == 0 { out.append(0x0A) }
        }
        return out
    }
}

struct SplitMix {
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
