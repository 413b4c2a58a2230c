import GlossModel

/// The one place that decides who may write what, and who receives each accepted change.
/// Pure: `SyncService` gives it the collections a batch refers to; stores only apply its plan.
///
/// - A personal change (excerpt, note without collection, plain tag) goes to the pusher only;
///   a plain tag TAG on a collection the pusher owns also goes to every member as `OWNER/TAG`.
/// - A collection note (`collection: OWNER/TAG`) may be written by the owner and editors; it goes
///   to the owner and every member, with the excerpt it is on.
/// - A collection tag link (`OWNER/TAG` on an excerpt) may be written by editors (and the owner);
///   the owner receives it as the plain tag TAG, members as `OWNER/TAG`, with the excerpt.
/// - Readers and outsiders are refused, with the same message whether or not the collection
///   exists, so a refusal tells an outsider nothing.
public enum AccessPolicy {
    public enum Role: String, Sendable { case owner, editor, reader }

    public struct Context: Sendable {
        public var pusher: AuthenticatedUser
        /// Collections named in the batch, by `OWNER/TAG` (absent when there is none).
        public var byName: [String: CollectionRecord]
        /// Collections the pusher owns, by tag.
        public var ownedByTag: [String: CollectionRecord]
        public init(pusher: AuthenticatedUser, byName: [String: CollectionRecord], ownedByTag: [String: CollectionRecord]) {
            self.pusher = pusher
            self.byName = byName
            self.ownedByTag = ownedByTag
        }
    }

    public static func role(of userID: String, in c: CollectionRecord) -> Role? {
        if c.ownerID == userID { return .owner }
        return c.roles[userID].flatMap(Role.init(rawValue:))
    }

    /// Collection names a batch refers to (notes' collections and `OWNER/TAG` tag links).
    public static func referencedCollections(_ changes: [Change]) -> Set<String> {
        var names = Set<String>()
        for change in changes {
            switch change {
            case .noteBody(let h, _, _, _), .noteDeleted(let h, _, _, _): if let c = h.collection { names.insert(c) }
            case .tag(_, let name, _, _, _): if name.utf8.contains(UInt8(ascii: "/")) { names.insert(name) }
            case .excerpt: break
            }
        }
        return names
    }

    /// `json`: each change's JSON as the push brought it (`PushRequest.canonicalJSON`), passed on
    /// with the deliveries of the change as it is.
    public static func plan(_ changes: [Change], json: [String?]? = nil, context: Context) -> (deliveries: [Delivery], refused: [RefusedChange]) {
        let me = context.pusher.userID
        var out: [Delivery] = []
        out.reserveCapacity(changes.count)  // about one each: growing by doubling copied them all again
        var refused: [RefusedChange] = []

        func mayWrite(_ name: String, _ change: Change) -> CollectionRecord? {
            // an owner may write into her own collection before sharing it with anyone
            let parts = name.split(separator: "/")
            if context.byName[name] == nil, parts.count == 2, parts[0] == Substring(context.pusher.name) {
                return CollectionRecord(id: "", ownerID: me, ownerName: context.pusher.name, tag: String(parts[1]), roles: [:], names: [:])
            }
            guard let c = context.byName[name], let role = role(of: me, in: c) else {
                refused.append(RefusedChange(id: change.id, reason: "no collection \(name) is shared with you"))
                return nil
            }
            if role == .reader {
                refused.append(RefusedChange(id: change.id, reason: "you are a reader of \(name); only its owner and editors can change it"))
                return nil
            }
            return c
        }
        /// The pusher's copy, then the owner's and the members' (never twice to anyone).
        func fanOut(_ c: CollectionRecord, pusherCopy: Change, ownerCopy: Change, memberCopy: Change, excerpt: String?) {
            out.append(Delivery(recipient: me, item: .change(pusherCopy), via: c.ownerID == me ? nil : c.name))
            var recipients: [(String, Change, String?)] = []
            if c.ownerID != me { recipients.append((c.ownerID, ownerCopy, nil)) }
            for member in c.roles.keys.sorted() where member != me { recipients.append((member, memberCopy, c.name)) }
            for (user, copy, via) in recipients {
                if let excerpt { out.append(Delivery(recipient: user, item: .copyExcerpt(excerpt, from: me), via: via)) }
                out.append(Delivery(recipient: user, item: .change(copy), via: via))
            }
        }

        let json = json?.count == changes.count ? json : nil  // one per change, or none used
        for (index, change) in changes.enumerated() {
            let sent = json?[index]
            switch change {
            case .excerpt:
                out.append(Delivery(recipient: me, item: .change(change), via: nil, json: sent))
            case .noteBody(let h, _, _, _), .noteDeleted(let h, _, _, _):
                guard let name = h.collection else {
                    out.append(Delivery(recipient: me, item: .change(change), via: nil, json: sent))
                    continue
                }
                guard let c = mayWrite(name, change) else { continue }
                fanOut(c, pusherCopy: change, ownerCopy: change, memberCopy: change, excerpt: h.excerptId)
            case .tag(let e, let name, let present, let stamp, let base):
                let excerpt = present ? e : nil
                if !name.utf8.contains(UInt8(ascii: "/")) {
                    guard let c = context.ownedByTag[name] else {
                        out.append(Delivery(recipient: me, item: .change(change), via: nil, json: sent))
                        continue
                    }
                    let linked = Change.tag(excerptId: e, name: c.name, present: present, stamp: stamp, base: base)
                    fanOut(c, pusherCopy: change, ownerCopy: change, memberCopy: linked, excerpt: excerpt)
                    continue
                }
                guard let c = mayWrite(name, change) else { continue }
                let plain = Change.tag(excerptId: e, name: c.tag, present: present, stamp: stamp, base: base)
                if c.ownerID == me {
                    fanOut(c, pusherCopy: plain, ownerCopy: plain, memberCopy: change, excerpt: excerpt)
                } else {
                    fanOut(c, pusherCopy: change, ownerCopy: plain, memberCopy: change, excerpt: excerpt)
                }
            }
        }
        return (out, refused)
    }
}
