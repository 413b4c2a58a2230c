import Foundation
import GlossModel
import GlossSQLite

/// `gloss verify`: this replica's side of the comparison with the daemon, and the repairs.
extension Replica {
    /// Ids of the excerpts the daemon should have (those pushed or pulled).
    public func syncedExcerptIDs() throws -> [String] {
        try db.query("SELECT e.id FROM excerpt e WHERE NOT EXISTS (SELECT 1 FROM excerpt_outbox o WHERE o.seq = e.seq)") { $0.text(0) }
    }

    public func localDigest() throws -> StateDigest {
        StateDigest(excerptIDs: try syncedExcerptIDs(), fields: try fieldValues().map { ($0.key, $0.value) })
    }

    /// `PRAGMA quick_check` of the replica file: nil when sound.
    public func integrityProblem() throws -> String? { try db.quickCheck() }

    /// Makes this replica pull everything again from the start (merging is idempotent, so what
    /// it has already is untouched and what it lacks arrives).
    public func resetCursor() throws {
        try write { try setMeta("cursor", "0") }
    }

    /// Takes the daemon's value for a field whose stamp is the same as ours but whose value is
    /// not (local damage): the daemon's copy wins.
    public func overwrite(_ entry: FieldEntry) throws {
        guard let change = try changeRewriting(field: entry.field, value: entry.value, stamp: entry.stamp) else { return }
        try write {
            try db.run("DELETE FROM superseded WHERE field = ? AND stamp = ?", .text(entry.field), .text(entry.stamp.description))
            switch change {
            case .noteBody(let h, _, _, _):
                try db.run("UPDATE note SET body = ?, body_stamp = ? WHERE id = ?", .text(entry.value), .text(entry.stamp.description), .text(h.id))
            case .noteDeleted(let h, _, _, _):
                try db.run("UPDATE note SET deleted = ?, deleted_stamp = ? WHERE id = ?", .int(entry.value == "true" ? 1 : 0), .text(entry.stamp.description), .text(h.id))
            case .tag(let e, let name, _, _, _):
                try db.run("UPDATE tag SET present = ?, stamp = ? WHERE excerpt_id = ? AND name = ?", .int(entry.value == "true" ? 1 : 0), .text(entry.stamp.description), .text(e), .text(name))
            case .excerpt: break
            }
        }
    }

    /// Queues this replica's current value of a field again (same stamp, so the same change id):
    /// for values the daemon lacks.
    public func requeue(field: String) throws {
        guard let current = try fieldValues()[field],
            let change = try changeRewriting(field: field, value: current.value, stamp: current.stamp)
        else { return }
        let payload = ChangeWriter.json(change)
        // an acknowledged copy of the same change must not stop it being queued again
        try purgeAcknowledged()
        try write {
            try db.prepare("INSERT OR IGNORE INTO outbox(change_id, kind, payload) VALUES (?, 'field', ?)").run(.text(change.id), .text(payload))
        }
    }

    /// Marks excerpts as not yet pushed, so the next sync sends them again.
    public func requeue(excerpts ids: [String]) throws {
        try write {
            for id in ids { try db.run("INSERT OR IGNORE INTO excerpt_outbox(seq) SELECT seq FROM excerpt WHERE id = ?", .text(id)) }
        }
    }

    /// The change that writes `value` at `stamp` into `field` (nil if the field names nothing here).
    func changeRewriting(field: String, value: String, stamp: Stamp) throws -> Change? {
        if field.hasPrefix("note.body:") || field.hasPrefix("note.deleted:") {
            let id = String(field.split(separator: ":", maxSplits: 1)[1])
            guard let (header, _, _, _) = try noteHeader(id) else { return nil }
            return field.hasPrefix("note.body:")
                ? .noteBody(header, body: value, stamp: stamp, base: nil) : .noteDeleted(header, deleted: value == "true", stamp: stamp, base: nil)
        }
        if field.hasPrefix("tag:") {
            let rest = field.dropFirst(4)
            guard rest.count > 33 else { return nil }
            return .tag(excerptId: String(rest.prefix(32)), name: String(rest.dropFirst(33)), present: value == "true", stamp: stamp, base: nil)
        }
        return nil
    }
}
