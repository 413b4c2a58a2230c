/// A hybrid logical clock stamp: wall-clock milliseconds, a counter for events within the same
/// millisecond (or while the wall clock lags behind stamps already seen), and the replica id that
/// made it, which breaks ties. Stamps are totally ordered by (wall, counter, node).
public struct Stamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let wall: Int64
    public let counter: UInt32
    public let node: String

    public init(wall: Int64, counter: UInt32, node: String) {
        self.wall = wall
        self.counter = counter
        self.node = node
    }

    public static func < (a: Stamp, b: Stamp) -> Bool {
        if a.wall != b.wall { return a.wall < b.wall }
        if a.counter != b.counter { return a.counter < b.counter }
        return a.node < b.node
    }

    /// Fixed-width text form `WWWWWWWWWWWW.CCCCCCCC.NODE` (hex). Its byte order is the stamp order,
    /// so stores can compare and index stamps as plain text.
    public var description: String {
        // written byte by byte: stamps are formatted for every change a daemon stores
        String(unsafeUninitializedCapacity: maxTextLength) { format(into: $0) }
    }

    /// Appends the text form to `out`, without making a String.
    public func write(into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxTextLength) { buf in
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[..<format(into: buf)]))
        }
    }

    private var maxTextLength: Int { 16 + 1 + 8 + 1 + node.utf8.count }

    /// Writes the text form at the start of `buf` (at least `maxTextLength` long); returns its length.
    private func format(into buf: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var i = Stamp.writeHex(UInt64(bitPattern: wall), width: 12, into: buf, at: 0)
        buf[i] = UInt8(ascii: ".")
        i = Stamp.writeHex(UInt64(counter), width: 8, into: buf, at: i + 1)
        buf[i] = UInt8(ascii: ".")
        i += 1
        var node = node
        return node.withUTF8 { bytes in
            // a stamp is formatted several times for every change a daemon stores: copied, not
            // walked byte by byte through the String's view
            UnsafeMutableBufferPointer(rebasing: buf[i...]).initialize(fromContentsOf: bytes) + i
        }
    }

    /// Writes `value` in lowercase hex, zero-padded to `width` digits (more when it needs them);
    /// returns the next index.
    static func writeHex(_ value: UInt64, width: Int, into buf: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        let digits = max(width, (64 - value.leadingZeroBitCount + 3) / 4)
        var rest = value
        var k = start + digits
        while k > start {
            k -= 1
            let d = UInt8(truncatingIfNeeded: rest & 0xF)
            buf[k] = d < 10 ? 0x30 &+ d : 0x57 &+ d
            rest >>= 4
        }
        return start + digits
    }

    /// Parses the text form; nil for anything malformed.
    public init?(_ text: some StringProtocol) {
        self.init(utf8: Array(text.utf8)[...])
    }

    /// Parses the text form from its UTF-8 bytes; nil for anything malformed.
    public init?(utf8 bytes: ArraySlice<UInt8>) {
        let s = bytes.startIndex
        guard bytes.count >= 23, bytes[s + 12] == UInt8(ascii: "."), bytes[s + 21] == UInt8(ascii: "."),
            let wall = Stamp.parseHex(bytes[s..<(s + 12)]), let counter = Stamp.parseHex(bytes[(s + 13)..<(s + 21)]),
            Stamp.isValidNode(bytes[(s + 22)...])
        else { return nil }
        self.init(wall: Int64(wall), counter: UInt32(counter), node: String(decoding: bytes[(s + 22)...], as: UTF8.self))
    }

    /// Hex digits (either case) to a number; nil if any byte is not one.
    static func parseHex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var v: UInt64 = 0
        for b in digits {
            let d: UInt8
            switch b {
            case 0x30...0x39: d = b - 0x30
            case 0x61...0x66: d = b - 0x57
            case 0x41...0x46: d = b - 0x37
            default: return nil
            }
            v = v << 4 | UInt64(d)
        }
        return v
    }

    /// Replica ids are 1–64 characters of `[0-9a-zA-Z_-]`.
    public static func isValidNode<S: StringProtocol>(_ node: S) -> Bool { isValidNode(node.utf8) }

    static func isValidNode(_ bytes: some Collection<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return bytes.allSatisfy { b in
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 95
        }
    }
}


extension Stamp: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let stamp = Stamp(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "malformed stamp '\(text.prefix(80))'")
        }
        self = stamp
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// The hybrid logical clock of one replica (or of the daemon). Time is injected: merge code never
/// reads the system clock itself.
public struct HybridClock: Sendable {
    public let node: String
    public private(set) var last: Stamp
    private let now: @Sendable () -> Int64

    /// - Parameters:
    ///   - node: this replica's id.
    ///   - last: the last stamp this clock issued or received (persisted by the replica).
    ///   - now: wall-clock milliseconds since 1970.
    public init(node: String, last: Stamp? = nil, now: @escaping @Sendable () -> Int64) {
        self.node = node
        self.last = last ?? Stamp(wall: 0, counter: 0, node: node)
        self.now = now
    }

    /// A stamp for a local event: later than every stamp issued or received so far.
    public mutating func tick() -> Stamp {
        let physical = now()
        if physical > last.wall {
            last = Stamp(wall: physical, counter: 0, node: node)
        } else {
            last = Stamp(wall: last.wall, counter: last.counter &+ 1, node: node)
        }
        return last
    }

    /// Moves the clock past a stamp received from elsewhere, so that the next local event orders
    /// after it even when this machine's wall clock is behind.
    public mutating func receive(_ remote: Stamp) {
        let physical = now()
        let wall = max(last.wall, remote.wall, physical)
        let counter: UInt32
        if wall == last.wall && wall == remote.wall {
            counter = max(last.counter, remote.counter)
        } else if wall == last.wall {
            counter = last.counter
        } else if wall == remote.wall {
            counter = remote.counter
        } else {
            counter = 0
        }
        last = Stamp(wall: wall, counter: counter, node: node)
    }
}
