/// The one scan JSON strings need, both ways: where does a run of bytes that a JSON string holds
/// as they are end — at a quote, a backslash or a control character (below 0x20)?
/// Eight bytes at a time (excerpt texts are long runs of plain bytes: this scan is most of
/// the time a daemon spends reading and writing them).
enum JSONScan {
    /// The index of the first quote, backslash or control character in `p[from...]`, or `p.count`.
    @inline(__always)
    static func plainRunEnd(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var j = from
        let n = p.count
        if let base = p.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while j + 8 <= n {
                let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: j, as: UInt64.self))
                // a byte's high bit is set in `hit` when it is 0x22, 0x5C or below 0x20 (the lowest
                // such byte is always exact; bytes above it may be flagged falsely, and are not used)
                let quote = w ^ (ones &* 0x22)
                let backslash = w ^ (ones &* 0x5C)
                let hit = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (w &- ones &* 0x20) & ~w) & highs
                if hit != 0 { return j + hit.trailingZeroBitCount >> 3 }
                j += 8
            }
        }
        while j < n, p[j] >= 0x20, p[j] != 0x22, p[j] != 0x5C { j += 1 }
        return j
    }
}
