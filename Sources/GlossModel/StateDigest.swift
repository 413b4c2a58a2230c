import Crypto

/// An order-independent digest of one user's synced state, computed the same way by a replica
/// and by the daemon (`gloss verify`): the set of excerpt ids, and every field's current value
/// and stamp, spread over 64 buckets so a difference can be narrowed down cheaply.
public struct StateDigest: Sendable, Codable, Equatable {
    public static let bucketCount = 64

    public var excerpts: Int
    public var excerptHash: String
    public var fields: Int
    /// XOR of the 64-bit hashes of the fields in each bucket, hex.
    public var buckets: [String]

    public init(excerptIDs: some Sequence<String>, fields: some Sequence<(String, FieldValue)>) {
        var excerptCount = 0
        var excerptXor: UInt64 = 0
        for id in excerptIDs {
            excerptCount += 1
            excerptXor ^= StateDigest.hash64(id)
        }
        var fieldCount = 0
        var xs = [UInt64](repeating: 0, count: StateDigest.bucketCount)
        for (key, value) in fields {
            fieldCount += 1
            xs[StateDigest.bucket(of: key)] ^= StateDigest.hash64(StateDigest.entry(key, value))
        }
        excerpts = excerptCount
        excerptHash = String(excerptXor, radix: 16)
        self.fields = fieldCount
        buckets = xs.map { String($0, radix: 16) }
    }

    /// The bucket a field key falls in.
    public static func bucket(of key: String) -> Int {
        Int(SHA256.hash(data: Array(key.utf8)).first { _ in true }! % UInt8(bucketCount))
    }

    /// The text one field contributes: key, value and stamp.
    public static func entry(_ key: String, _ value: FieldValue) -> String {
        key + "\u{1F}" + value.value + "\u{1F}" + value.stamp.description
    }

    static func hash64(_ s: String) -> UInt64 {
        var h: UInt64 = 0
        for b in SHA256.hash(data: Array(s.utf8)).prefix(8) { h = h << 8 | UInt64(b) }
        return h
    }
}

/// One field as the daemon holds it, for `gloss verify` to compare a bucket entry by entry.
public struct FieldEntry: Sendable, Codable, Equatable {
    public var field: String
    public var value: String
    public var stamp: Stamp
    public init(field: String, value: String, stamp: Stamp) {
        self.field = field
        self.value = value
        self.stamp = stamp
    }
}

/// `POST /v1/verify` answer: the digest, and the entries of the buckets asked for.
public struct VerifyResponse: Sendable, Codable {
    public var digest: StateDigest
    public var excerptIds: [String]?
    public var entries: [FieldEntry]?
    public init(digest: StateDigest, excerptIds: [String]? = nil, entries: [FieldEntry]? = nil) {
        self.digest = digest
        self.excerptIds = excerptIds
        self.entries = entries
    }
}

/// `POST /v1/verify` body: which buckets to list entry by entry (none: digest only), and
/// whether to list excerpt ids.
public struct VerifyRequest: Sendable, Codable {
    public var buckets: [Int]
    public var excerptIds: Bool
    public init(buckets: [Int] = [], excerptIds: Bool = false) {
        self.buckets = buckets
        self.excerptIds = excerptIds
    }
}
