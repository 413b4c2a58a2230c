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
        hex(UInt64(bitPattern: wall), width: 12) + "." + hex(UInt64(counter), width: 8) + "." + node
    }

    /// Parses the text form; nil for anything malformed.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].utf8.count == 12, parts[1].utf8.count == 8,
            let wall = Int64(parts[0], radix: 16), let counter = UInt32(parts[1], radix: 16),
            Stamp.isValidNode(parts[2])
        else { return nil }
        self.init(wall: wall, counter: counter, node: String(parts[2]))
    }

    /// Replica ids are 1–64 characters of `[0-9a-zA-Z_-]`.
    public static func isValidNode<S: StringProtocol>(_ node: S) -> Bool {
        let bytes = node.utf8
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return bytes.allSatisfy { b in
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 95
        }
    }
}

@inline(__always)
func hex(_ value: UInt64, width: Int) -> String {
    let s = String(value, radix: 16)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
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
