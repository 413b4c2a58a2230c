import Foundation
import GlossModel
import GlossSQLite

/// Shared collections on the replica: the memberships the daemon reported at the last sync,
/// dropping a collection's content when access ends, and undoing what the daemon refused.
extension Replica {
    /// The user name the daemon reported at the last sync.
    public func userName() throws -> String? { try meta("user") }

    /// Collections as of the last sync.
    public func cachedCollections() throws -> [CollectionInfo] {
        guard let json = try meta("collections") else { return [] }
        return (try? JSONDecoder().decode([CollectionInfo].self, from: Data(json.utf8))) ?? []
    }

    /// Records the user and collections the daemon reported; drops the content of every
    /// collection of someone else's that is no longer listed. Returns the names dropped.
    public func updateMemberships(user: String, collections: [CollectionInfo]) throws -> [String] {
        try write {
            let before = try cachedCollections()
            let now = Set(collections.map(\.name))
            let dropped = before.filter { $0.owner != user && !now.contains($0.name) }.map(\.name)
            for name in dropped { try dropCollectionContent(name) }
            try setMeta("user", user)
            try setMeta("collections", String(decoding: try JSONEncoder().encode(collections), as: UTF8.self))
            return dropped
        }
    }

    /// Removes what a collection delivered: its notes, its tag links, and excerpts that came
    /// only through it and carry nothing of the user's own. Personal notes and tags stay.
    func dropCollectionContent(_ name: String) throws {
        let onlyHere = try db.query(
            "SELECT excerpt_id FROM excerpt_via v WHERE via = ? AND NOT EXISTS (SELECT 1 FROM excerpt_via w WHERE w.excerpt_id = v.excerpt_id AND w.via <> ?)",
            [.text(name), .text(name)]
        ) { $0.text(0) }
        let notes = try db.query("SELECT id FROM note WHERE collection = ?", [.text(name)]) { $0.text(0) }
        for id in notes {
            try db.run("DELETE FROM superseded WHERE field IN (?, ?)", .text(FieldKey.noteBody(noteId: id).description), .text(FieldKey.noteDeleted(noteId: id).description))
            try db.run("DELETE FROM outbox WHERE change_id LIKE ?", .text("n_:" + id + "@%"))
        }
        try db.run("DELETE FROM note WHERE collection = ?", .text(name))
        try db.run("DELETE FROM superseded WHERE field LIKE 'tag:%' AND substr(field, 38) = ?", .text(name))
        try db.run("DELETE FROM tag WHERE name = ?", .text(name))
        try db.run("DELETE FROM excerpt_via WHERE via = ?", .text(name))
        for id in onlyHere {
            let used = try db.first(
                "SELECT (SELECT COUNT(*) FROM note WHERE excerpt_id = ?) + (SELECT COUNT(*) FROM tag WHERE excerpt_id = ? AND present = 1)",
                [.text(id), .text(id)]
            ) { $0.int(0) } ?? 0
            if used == 0 { try db.run("DELETE FROM excerpt WHERE id = ?", .text(id)) }
        }
    }

    /// Handles changes the daemon refused: a collection note becomes a personal note (nothing
    /// the user wrote is lost); a collection tag change is undone. Returns one message each.
    public func resolveRefused(_ refused: [RefusedChange]) throws -> [String] {
        try write {
            var messages: [String] = []
            let decoder = JSONDecoder()
            for r in refused {
                guard let payload = try db.first("SELECT payload FROM outbox WHERE change_id = ?", [.text(r.id)], { $0.text(0) }),
                    let change = try? decoder.decode(Change.self, from: Data(payload.utf8))
                else { continue }
                switch change {
                case .noteBody(let h, _, _, _), .noteDeleted(let h, _, _, _):
                    try db.run("UPDATE note SET collection = NULL WHERE id = ?", .text(h.id))
                    // every queued change of this note becomes personal too
                    let rows = try db.query("SELECT seq, payload FROM outbox WHERE change_id LIKE ?", [.text("n_:" + h.id + "@%")]) { ($0.int(0), $0.text(1)) }
                    for (seq, json) in rows {
                        guard let queued = try? decoder.decode(Change.self, from: Data(json.utf8)) else { continue }
                        let personal: Change
                        switch queued {
                        case .noteBody(var hh, let b, let s, let base): hh.collection = nil; personal = .noteBody(hh, body: b, stamp: s, base: base)
                        case .noteDeleted(var hh, let d, let s, let base): hh.collection = nil; personal = .noteDeleted(hh, deleted: d, stamp: s, base: base)
                        default: continue
                        }
                        try db.run("UPDATE outbox SET payload = ? WHERE seq = ?", .text(ChangeWriter.json(personal)), .int(seq))
                    }
                    messages.append("note \(h.id.prefix(8)) was refused in \(h.collection ?? "its collection") (\(r.reason)); it is kept as a personal note")
                case .tag(let e, let name, _, _, let base):
                    try db.run("DELETE FROM outbox WHERE change_id = ?", .text(r.id))
                    let field = FieldKey.tag(excerptId: e, name: name).description
                    if let base, let old = try db.first(
                        "SELECT value FROM superseded WHERE field = ? AND stamp = ?", [.text(field), .text(base.description)], { $0.text(0) })
                    {
                        try db.run("UPDATE tag SET present = ?, stamp = ? WHERE excerpt_id = ? AND name = ?", .int(old == "true" ? 1 : 0), .text(base.description), .text(e), .text(name))
                        try db.run("DELETE FROM superseded WHERE field = ? AND stamp = ?", .text(field), .text(base.description))
                    } else {
                        try db.run("DELETE FROM tag WHERE excerpt_id = ? AND name = ?", .text(e), .text(name))
                    }
                    messages.append("tag change on excerpt \(e.prefix(8)) in \(name) was refused (\(r.reason)) and undone")
                case .excerpt:
                    continue
                }
            }
            return messages
        }
    }

    /// The tag name that stands for a collection on this replica: the plain tag for one's own
    /// collection, `OWNER/TAG` for someone else's.
    public func tagName(forCollection name: String) throws -> String {
        if let problem = Limits.validateCollectionName(name) { throw ReplicaError.invalid(problem) }
        let parts = name.split(separator: "/")
        return try userName() == String(parts[0]) ? String(parts[1]) : name
    }

    /// Checks that this user may add to or remove from a collection (as of the last sync).
    public func checkCanEdit(collection name: String) throws {
        if let problem = Limits.validateCollectionName(name) { throw ReplicaError.invalid(problem) }
        if try userName() == String(name.split(separator: "/")[0]) { return }
        guard let c = try cachedCollections().first(where: { $0.name == name }) else {
            throw ReplicaError.invalid("no collection \(name) is shared with you (as of the last sync; run 'gloss sync' to refresh)")
        }
        if c.role == "reader" { throw ReplicaError.invalid("you are a reader of \(name); ask \(c.owner) for the editor role") }
    }
}
