import CDeflate
import CZlib

public enum GzipError: Error, Sendable, Equatable, CustomStringConvertible {
    case corrupt(String)
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .corrupt(let m): "the gzip body is corrupt (\(m))"
        case .tooLarge(let limit): "the body is larger than \(limit) bytes once decompressed"
        }
    }
}

/// gzip (RFC 1952) over libdeflate and zlib, with a bound on the decompressed size so a small hostile body
/// cannot expand without limit.
public enum Gzip {
    public static func isGzip(_ bytes: some Collection<UInt8>) -> Bool {
        var it = bytes.makeIterator()
        return it.next() == 0x1F && it.next() == 0x8B
    }

    /// One gzip member. libdeflate (whole-buffer, 2.5× zlib's speed at level 1 here, and a
    /// smaller result); `level` is 1–12.
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        guard let compressor = libdeflate_alloc_compressor(level) else { return zlibCompress(input, level: min(level, 9)) }
        defer { libdeflate_free_compressor(compressor) }
        var output = [UInt8](repeating: 0, count: libdeflate_gzip_compress_bound(compressor, input.count))
        let produced = input.withUnsafeBytes { inBuf in
            output.withUnsafeMutableBytes { outBuf in
                libdeflate_gzip_compress(compressor, inBuf.baseAddress, inBuf.count, outBuf.baseAddress, outBuf.count)
            }
        }
        if produced == 0 { return zlibCompress(input, level: min(level, 9)) }
        output.removeSubrange(produced...)
        return output
    }

    /// zlib's deflate (levels 1–9), the fallback.
    public static func zlibCompress(_ input: [UInt8], level: Int32) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: gzip wrapper
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return []
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                _ = deflate(&stream, Z_FINISH)
                return outBuf.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Decompresses a gzip body of at most `limit` bytes. A single member whose trailer states
    /// its true size (every body Gloss sends) is inflated in one call by libdeflate; anything
    /// else (a size that lies, several members, corruption) goes through zlib's streaming
    /// inflate, which enforces the limit as it goes and names the problem. Bodies of several
    /// members, or with bytes after the member, are refused.
    public static func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        if input.count >= 18 {
            // ISIZE: the uncompressed size modulo 2^32, little-endian, in the last four bytes
            let size = input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
            if size > limit { throw GzipError.tooLarge(limit: limit) }
            // deflate expands at most 1032:1, so a larger claim is a lie: never allocate for it
            if size <= input.count * 1032, let output = deflateDecompress(input, size: size) { return output }
        }
        return try zlibDecompress(input, limit: limit)
    }

    /// nil unless `input` is exactly one gzip member of exactly `size` bytes.
    static func deflateDecompress(_ input: [UInt8], size: Int) -> [UInt8]? {
        guard let decompressor = libdeflate_alloc_decompressor() else { return nil }
        defer { libdeflate_free_decompressor(decompressor) }
        var output = [UInt8](repeating: 0, count: size)
        var read = 0, written = 0
        let result = input.withUnsafeBytes { inBuf in
            output.withUnsafeMutableBytes { outBuf in
                libdeflate_gzip_decompress_ex(decompressor, inBuf.baseAddress, inBuf.count, outBuf.baseAddress, outBuf.count, &read, &written)
            }
        }
        guard result == LIBDEFLATE_SUCCESS, read == input.count, written == size else { return nil }
        return output
    }

    /// zlib's streaming inflate, stopping at `limit`.
    public static func zlibDecompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError.corrupt("cannot start inflate")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let (rc, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    return (rc, out.count - Int(stream.avail_out))
                }
                if output.count + produced > limit { throw GzipError.tooLarge(limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                if rc == Z_STREAM_END {
                    // one member only: anything after it (a second member, junk) is refused
                    if stream.avail_in > 0 { throw GzipError.corrupt("data after the end of the gzip stream") }
                    return
                }
                if rc != Z_OK {
                    let message = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                    throw GzipError.corrupt(message)
                }
                if stream.avail_in == 0 && produced == 0 { throw GzipError.corrupt("truncated") }
            }
        }
        return output
    }
}
