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

/// A field's current value as a store keeps it: text plus stamp (booleans as "true"/"false").
public struct FieldValue: Sendable, Equatable {
    public var value: String
    public var stamp: Stamp
    public init(value: String, stamp: Stamp) {
        self.value = value
        self.stamp = stamp
    }
}

/// What a store must do to merge one field change: a pure plan (diff → plan → apply).
public struct FieldMergePlan: Sendable, Equatable {
    /// The field's new current value, nil when the current one stays.
    public var newValue: FieldValue?
    /// The value that lost (kept as superseded), with the stamp of the one that beat it.
    public var superseded: (FieldValue, by: Stamp)?
    public var conflict: Bool
    public var duplicate: Bool

    public static func == (a: FieldMergePlan, b: FieldMergePlan) -> Bool {
        a.newValue == b.newValue && a.superseded?.0 == b.superseded?.0 && a.superseded?.by == b.superseded?.by
            && a.conflict == b.conflict && a.duplicate == b.duplicate
    }

    /// Plans the merge of `change` into a field whose current value is `current`.
    /// Returns nil for excerpts (they are not fields).
    public static func plan(current: FieldValue?, change: Change) -> FieldMergePlan? {
        guard let stamp = change.stamp else { return nil }
        let incoming = Versioned(FieldMergePlan.text(change), stamp: stamp)
        let existing = current.map { Versioned($0.value, stamp: $0.stamp) }
        let outcome = LastWriterWins.merge(current: existing, incoming: incoming)
        let conflict = LastWriterWins.isConflict(outcome, base: change.base)
        switch outcome {
        case .inserted:
            return FieldMergePlan(newValue: FieldValue(value: incoming.value, stamp: stamp), superseded: nil, conflict: false, duplicate: false)
        case .duplicate:
            return FieldMergePlan(newValue: nil, superseded: nil, conflict: false, duplicate: true)
        case .replaced(let old):
            return FieldMergePlan(
                newValue: FieldValue(value: incoming.value, stamp: stamp), superseded: (FieldValue(value: old.value, stamp: old.stamp), stamp),
                conflict: conflict, duplicate: false)
        case .rejected:
            return FieldMergePlan(
                newValue: nil, superseded: (FieldValue(value: incoming.value, stamp: stamp), current!.stamp), conflict: conflict,
                duplicate: false)
        }
    }

    /// The value a field change writes, as text.
    public static func text(_ change: Change) -> String {
        switch change {
        case .excerpt: ""
        case .noteBody(_, let body, _, _): body
        case .noteDeleted(_, let deleted, _, _): deleted ? "true" : "false"
        case .tag(_, _, let present, _, _): present ? "true" : "false"
        }
    }
}
