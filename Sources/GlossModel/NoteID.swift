/// Note ids: UUID version 7 (RFC 9562) — 48 bits of Unix milliseconds, then 74 random bits —
/// in the usual lowercase 8-4-4-4-12 text. Still random ids in the sense of the design (nobody
/// can guess one), but ids made later sort later, so every index keyed by a note id (the
/// replica's notes, the daemon's field states and change log) grows at its end instead of
/// touching pages all over the tree: a daemon storing a push rewrites fewer pages per commit.
public enum NoteID {
    public static func make(milliseconds: Int64) -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(max(0, min(milliseconds, 0xFFFF_FFFF_FFFF)))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - i))) }
        let a = rng.next(), b = rng.next()
        for i in 6..<16 { bytes[i] = UInt8(truncatingIfNeeded: (i < 14 ? a : b) >> (8 * (i % 8))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // variant 10
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
