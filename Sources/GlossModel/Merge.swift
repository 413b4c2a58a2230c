/// A value of one mergeable field together with the stamp of the write that produced it.
public struct Versioned<Value: Sendable & Equatable & CustomStringConvertible>: Sendable, Equatable {
    public var value: Value
    public var stamp: Stamp

    public init(_ value: Value, stamp: Stamp) {
        self.value = value
        self.stamp = stamp
    }
}

/// The outcome of merging an incoming write into a field's current value.
public enum MergeOutcome<Value: Sendable & Equatable & CustomStringConvertible>: Sendable, Equatable {
    /// The field had no value: the incoming one becomes current, nothing is superseded.
    case inserted
    /// The incoming write wins; the previous value is superseded (kept in history).
    case replaced(superseded: Versioned<Value>)
    /// The current value wins; the incoming value is superseded (kept in history).
    case rejected
    /// The incoming write is the current one already (a repeated delivery): nothing changes.
    case duplicate
}

/// Last-writer-wins, per field. Pure functions: every replica and the daemon call these, so they
/// decide identically whatever order changes arrive in and however often they are repeated.
public enum LastWriterWins {
    /// The winner of two versions of one field: the higher stamp. Two different values with the
    /// same stamp cannot come from a correct replica (a stamp names one write); should they meet,
    /// the larger value by its text wins so that every replica still picks the same one.
    public static func winner<V>(_ a: Versioned<V>, _ b: Versioned<V>) -> Versioned<V> {
        if a.stamp != b.stamp { return a.stamp > b.stamp ? a : b }
        if a.value == b.value { return a }
        return a.value.description >= b.value.description ? a : b
    }

    /// Merges `incoming` into `current` and says what happened (and so what to keep in history).
    public static func merge<V>(current: Versioned<V>?, incoming: Versioned<V>) -> MergeOutcome<V> {
        guard let current else { return .inserted }
        if current == incoming { return .duplicate }
        return winner(current, incoming) == incoming ? .replaced(superseded: current) : .rejected
    }

    /// Folds any number of versions into the winner (nil for none).
    public static func resolve<V>(_ versions: some Sequence<Versioned<V>>) -> Versioned<V>? {
        versions.reduce(nil) { acc, v in acc.map { winner($0, v) } ?? v }
    }
}

extension LastWriterWins {
    /// Whether a merge settled concurrent edits: the incoming write lost to a value its writer had
    /// not seen, or it replaced a value other than the one its writer saw (`base`).
    public static func isConflict<V>(_ outcome: MergeOutcome<V>, base: Stamp?) -> Bool {
        switch outcome {
        case .inserted, .duplicate: false
        case .rejected: true
        case .replaced(let old): old.stamp != base
        }
    }
}
