import Foundation
import GlossCompression
import Testing

@Suite struct GzipTests {
    let text = Array(String(repeating: "Gloss keeps annotations in sync. ", count: 4000).utf8) + Array(0...255).map(UInt8.init)

    @Test func roundTripsThroughEitherCompressor() throws {
        let fast = Gzip.compress(text, level: 1)
        #expect(Gzip.isGzip(fast))
        #expect(try Gzip.decompress(fast, limit: text.count) == text)
        // zlib's output (another client's) reads back the same, through either inflater
        let zlib = Gzip.zlibCompress(text, level: 6)
        #expect(try Gzip.decompress(zlib, limit: text.count) == text)
        #expect(try Gzip.zlibDecompress(fast, limit: text.count) == text)
        #expect(try Gzip.decompress(Gzip.compress([], level: 1), limit: 0) == [])
    }

    @Test func theLimitHoldsWhenTheTrailerLies() throws {
        let big = Gzip.compress(text, level: 1)
        #expect(throws: GzipError.tooLarge(limit: text.count - 1)) { try Gzip.decompress(big, limit: text.count - 1) }
        // a trailer claiming 16 bytes: the one-call inflate refuses, the streaming one still stops at the limit
        var lying = big
        lying.replaceSubrange((lying.count - 4)..., with: [16, 0, 0, 0])
        #expect(throws: GzipError.tooLarge(limit: 1000)) { try Gzip.decompress(lying, limit: 1000) }
        // a trailer claiming more than there is is not trusted either
        var inflated = big
        inflated.replaceSubrange((inflated.count - 4)..., with: [0, 0, 0, 1])
        #expect(throws: GzipError.self) { try Gzip.decompress(inflated, limit: 1 << 25) }
    }

    @Test func aSecondMemberOrTrailingBytesAreRefused() {
        let one = Gzip.compress(text, level: 1)
        #expect(throws: GzipError.self) { try Gzip.decompress(one + one, limit: 1 << 20) }
        #expect(throws: GzipError.self) { try Gzip.decompress(one + [0x41, 0x42], limit: 1 << 20) }
        // a 20-byte body claiming 16 MiB is not trusted with an allocation of that size
        var tiny = Gzip.compress(Array("x".utf8), level: 1)
        tiny.replaceSubrange((tiny.count - 4)..., with: [0, 0, 0, 1])
        #expect(throws: GzipError.self) { try Gzip.decompress(tiny, limit: 1 << 25) }
    }

    @Test func corruptAndTruncatedBodiesAreErrors() {
        let body = Gzip.compress(text, level: 1)
        #expect(throws: GzipError.self) { try Gzip.decompress(Array(body.prefix(body.count / 2)), limit: 1 << 20) }
        var flipped = body
        flipped[body.count / 2] ^= 0xFF
        #expect(throws: GzipError.self) { try Gzip.decompress(flipped, limit: 1 << 20) }
    }
}
