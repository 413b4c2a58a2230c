import Foundation
import GlossCorpus
import GlossMigrations
import GlossModel
import GlossReplica
import GlossSQLite
import Testing

@Suite struct ReplicaTests {
    func sampleReplica() throws -> (Replica, ParsedCorpus) {
        let replica = try Replica(home: TestSupport.tempDir("replica"))
        let parsed = try CompilationParser().parse(try TestSupport.sampleCorpus())
        _ = try replica.importExcerpts(parsed.excerpts)
        return (replica, parsed)
    }

    @Test func migrationsAreAppliedInOrderAndRecorded() throws {
        let replica = try Replica(home: TestSupport.tempDir())
        let rows = try replica.db.query("SELECT version, name FROM schema_migrations ORDER BY version") { ($0.int(0), $0.text(1)) }
        #expect(rows.map(\.0) == Migrations.replica.map { Int64($0.version) })
        #expect(try Migrator.version(replica.db) == Migrations.replica.count)
        #expect(try replica.db.first("PRAGMA journal_mode") { $0.text(0) } == "wal")
        // opening again applies nothing new
        let again = try Replica(home: replica.home)
        #expect(try again.db.first("SELECT COUNT(*) FROM schema_migrations") { $0.int(0) } == Int64(Migrations.replica.count))
        #expect(again.replicaID == replica.replicaID)
    }

    @Test func everyMigrationFileIsEmbedded() throws {
        for folder in ["replica", "server"] {
            let dir = TestSupport.repoRoot.appendingPathComponent("migrations/\(folder)").path
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".sql") }.sorted()
            let embedded = (folder == "replica" ? Migrations.replica : Migrations.server).map(\.name)
            #expect(files.map { "\(folder)/\($0)" } == embedded)
            for (i, m) in (folder == "replica" ? Migrations.replica : Migrations.server).enumerated() {
                #expect(m.version == i + 1)
                let onDisk = try String(contentsOfFile: "\(dir)/\(m.name.split(separator: "/").last!)", encoding: .utf8)
                #expect(onDisk == m.sql)
            }
        }
    }

    @Test func version2KeepsTheExcerptsAVersion1ReplicaHadNotPushed() throws {
        // a version-1 replica: three excerpts, the middle one acknowledged by the daemon
        let home = TestSupport.tempDir()
        let parsed = try CompilationParser().parse(try TestSupport.sampleCorpus())
        let three = Array(parsed.excerpts.prefix(3))
        do {
            let db = try Database(path: home + "/" + Replica.fileName)
            try Migrator.migrate(db, [Migrations.replica[0]], now: "0")
            try db.run("INSERT INTO source(id, key, authors, title, place, publisher) VALUES (1, 'k', '[]', 't', '', '')")
            for (i, e) in three.enumerated() {
                try db.run(
                    "INSERT INTO excerpt(id, text, source_id, citation_raw, pages, remarks, compilation, pushed) VALUES (?, ?, 1, ?, '', '[]', '', ?)",
                    .text(e.id), .text(e.text), .text(e.citation.raw), .int(i == 1 ? 1 : 0))
            }
            try db.execute("INSERT INTO excerpt_fts(excerpt_fts) VALUES ('rebuild')")
        }
        let replica = try Replica(home: home)
        #expect(try Migrator.version(replica.db) == Migrations.replica.count)
        #expect(try replica.status().pending == 2)
        #expect(try replica.syncedExcerptIDs() == [three[1].id])
        #expect(try replica.outboxJSONBatch(limit: 10).changes.map(\.id) == [three[0], three[2]].map { Change.excerpt($0).id })
        // a deleted excerpt leaves the outbox with it
        try replica.db.run("DELETE FROM excerpt WHERE id = ?", .text(three[0].id))
        #expect(try replica.status().pending == 1)
    }

    @Test func version3KeepsTheNotesAVersion2ReplicaIndexedSearchableAndEditable() throws {
        let home = TestSupport.tempDir()
        let parsed = try CompilationParser().parse(try TestSupport.sampleCorpus())
        let e = parsed.excerpts[0].id
        do {
            // version 2 indexed each note from its insert trigger
            let db = try Database(path: home + "/" + Replica.fileName)
            try Migrator.migrate(db, Array(Migrations.replica.prefix(2)), now: "0")
            try db.run("INSERT INTO note(id, excerpt_id, created_at, body, body_stamp) VALUES ('n-one', ?, 0, 'a kakapo sighting', '1@a')", .text(e))
            try db.run("INSERT INTO note(id, excerpt_id, created_at, body, body_stamp) VALUES ('n-two', ?, 0, 'a takahe sighting', '1@a')", .text(e))
        }
        let replica = try Replica(home: home)
        #expect(try Migrator.version(replica.db) == Migrations.replica.count)
        try expectNoteIndexMatchesNotes(replica)
        #expect(try replica.search("kakapo").map(\.noteId) == ["n-one"])
        _ = try replica.editNote(id: "n-one", body: "a kea sighting")
        try replica.db.run("DELETE FROM note WHERE id = 'n-two'")
        try expectNoteIndexMatchesNotes(replica)
        #expect(try replica.search("kakapo").isEmpty && replica.search("takahe").isEmpty)
        #expect(try replica.search("kea").map(\.noteId) == ["n-one"])
    }

    @Test func aMigrationAnotherProcessAppliedMeanwhileIsSkipped() throws {
        // two processes open a version-1 daemon file at once (glossd serve starting while glossd
        // token add runs): both read version 1, one of them applies version 2 first
        let path = TestSupport.tempDir() + "/glossd.sqlite"
        let first = try Database(path: path)
        let second = try Database(path: path)
        try Migrator.migrate(first, [Migrations.server[0]], now: "0")
        let seenBySecond = try Migrator.version(second)
        try Migrator.migrate(first, Migrations.server, now: "1")
        try Migrator.apply(second, Migrations.server, after: seenBySecond, now: "2")
        #expect(try second.query("SELECT version, applied_at FROM schema_migrations ORDER BY version") { "\($0.int(0))@\($0.text(1))" } == ["1@0"] + Migrations.server.dropFirst().map { "\($0.version)@1" })
        #expect(try Migrator.version(second) == Migrations.server.count)
    }

    @Test func aReplicaFromANewerGlossIsRefused() throws {
        let home = TestSupport.tempDir()
        let replica = try Replica(home: home)
        try replica.db.execute("PRAGMA user_version = 99")
        #expect {
            _ = try Replica(home: home)
        } throws: { error in
            "\(error)".contains("schema version 99") && "\(error)".contains("newer version of Gloss")
        }
    }

    @Test func aCorruptReplicaIsReportedAndLeftAsItWas() throws {
        let home = TestSupport.tempDir()
        let path = home + "/" + Replica.fileName
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try Replica(home: home)
        } throws: { error in
            guard case ReplicaError.corrupt = error else { return false }
            return "\(error)".contains("move it aside")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func importIsIdempotentAndQueuesExcerptsForSync() throws {
        let (replica, parsed) = try sampleReplica()
        #expect(try replica.status().excerpts == 116)
        #expect(try replica.status().pending == 116)
        let again = try replica.importExcerpts(parsed.excerpts)
        #expect(again.imported == 0)
        #expect(again.duplicates == 116)
        #expect(try replica.status().pending == 116)
        #expect(try replica.sources().count == 46)
        #expect(try replica.sources().first?.excerpts == 18)
    }

    @Test func pushedExcerptsAreTheWritersJSONByteForByte() throws {
        // the push reads each excerpt's columns straight into JSON; it must be exactly what
        // ChangeWriter writes for the excerpt read back as an Excerpt
        let (replica, parsed) = try sampleReplica()
        let awkward: [Excerpt] = [
            Excerpt(text: "Quotes \" and \\ backslashes,\ttabs\nand lines\r\u{01}\u{1F}\u{7F}", citation: Citation(raw: "A \"raw\" line, p. 1", authors: ["Ünal, \"Ö\"", "李 四", ""], title: "Tí\ttle\u{0}", place: "Москва", publisher: "P\\ub", year: -44, pages: "1–2", remarks: ["Trans. and Ed.", "\u{1F600} 😀"])),
            Excerpt(text: "No year, no authors", citation: Citation(raw: "—")),
            Excerpt(text: "", citation: Citation(raw: "", year: Int.max)),
            Excerpt(text: String(repeating: "long é ", count: 5_000), citation: Citation(raw: "x", authors: ["]", "[\"]"], remarks: ["[]"]), compilation: "Comp \"ilation\""),
        ]
        _ = try replica.importExcerpts(awkward)
        let batch = try replica.outboxJSONBatch(limit: 100_000, maxBytes: .max)
        #expect(batch.count == parsed.excerpts.count + awkward.count)
        for (id, json) in batch.changes {
            let excerpt = try #require(try replica.excerpt(id: String(id.dropFirst(2))))
            var expected = [UInt8]()
            ChangeWriter.write(.excerpt(excerpt), into: &expected)
            // bytes, not Strings (String == holds canonically equivalent Unicode equal)
            #expect(json.elementsEqual(expected), "excerpt \(excerpt.id): \(String(decoding: json, as: UTF8.self))")
            #expect(id == Change.excerpt(excerpt).id)
        }
        for e in awkward { #expect(try replica.excerpt(id: e.id) == e) }
    }

    @Test func purgingTheOutboxKeepsWhatWasRecordedAfterTheAcknowledgedBatch() throws {
        let (replica, parsed) = try sampleReplica()
        let excerpt = parsed.excerpts[0].id
        _ = try replica.addNote(excerptID: excerpt, body: "one")
        _ = try replica.setTags(excerptID: excerpt, tags: ["a", "b"], present: true)
        let outbox = { try replica.db.query("SELECT seq, change_id FROM outbox ORDER BY seq") { ($0.int(0), $0.text(1)) } }
        let first = try replica.outboxJSONBatch(limit: 1_000)
        #expect(first.changes.count == 116 + 3)
        try replica.acknowledge(first, serverStamp: nil)
        // recorded while the push was under way: it stays (the DELETE with a WHERE)
        let later = try replica.addNote(excerptID: excerpt, body: "two")
        try replica.purgeAcknowledged()
        let left = try outbox()
        #expect(left.count == 1 && left[0].1.contains(later.id))
        #expect(try replica.status().pending == 1)
        // everything acknowledged: the whole table is emptied (the DELETE without one), and a
        // change recorded after it still gets a sequence number above every earlier one
        let second = try replica.outboxJSONBatch(limit: 1_000)
        #expect(second.changes.map(\.id) == [left[0].1])
        try replica.acknowledge(second, serverStamp: nil)
        try replica.purgeAcknowledged()
        #expect(try outbox().isEmpty && replica.status().pending == 0)
        _ = try replica.addNote(excerptID: excerpt, body: "three")
        let after = try outbox()
        #expect(after.count == 1 && after[0].0 > left[0].0)
        #expect(try replica.outboxJSONBatch(limit: 1_000).changes.map(\.id) == [after[0].1])
    }

    @Test func theSyncsCheckpointerCopiesTheWALBackFromAThreadOfItsOwn() throws {
        let path = TestSupport.tempDir("wal") + "/wal.sqlite"
        let db = try Database(path: path)
        try db.execute("PRAGMA wal_autocheckpoint=0; CREATE TABLE t (x TEXT)")
        try db.transaction {
            let insert = try db.prepare("INSERT INTO t VALUES (?)")
            for i in 0..<5_000 { try insert.run(.text(String(repeating: "\(i)", count: 20))) }
        }
        let framesNow = { try db.first("PRAGMA wal_checkpoint(PASSIVE)") { $0.int(1) } ?? -1 }
        let checkpointer = WALCheckpointer(path: path, interval: 0.02)
        let deadline = Date(timeIntervalSinceNow: 10)
        while checkpointer.completed == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        checkpointer.stop()
        #expect(checkpointer.completed > 0)
        // everything was copied back, so the next commit starts the WAL again from its beginning:
        // a handful of frames, where without the checkpointer all the earlier ones would remain
        _ = try db.run("INSERT INTO t VALUES ('after')")
        #expect(try framesNow() < 10)
        // a checkpointer waiting out a long interval stops at once (given time to open its
        // connection and start waiting first)
        let idle = WALCheckpointer(path: path, interval: 3_600)
        Thread.sleep(forTimeInterval: 0.3)
        let started = Date()
        idle.stop()
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(idle.completed == 0)
        // nor does it make a database where there is none
        let missing = TestSupport.tempDir("wal") + "/missing.sqlite"
        let none = WALCheckpointer(path: missing, interval: 0.01)
        Thread.sleep(forTimeInterval: 0.1)
        none.stop()
        #expect(none.completed == 0 && !FileManager.default.fileExists(atPath: missing))
    }

    @Test func everyWriteLandsWithItsOutboxEntryAndSupersededValue() throws {
        let (replica, parsed) = try sampleReplica()
        let excerpt = parsed.excerpts[3].id
        let note = try replica.addNote(excerptID: excerpt, body: "first")
        _ = try replica.editNote(id: note.id, body: "second")
        _ = try replica.setTags(excerptID: excerpt, tags: ["purge", "army"], present: true)
        _ = try replica.setTags(excerptID: excerpt, tags: ["army"], present: false)
        try replica.removeNote(id: note.id)
        // 116 excerpts + note body x2 + tag x3 + delete
        #expect(try replica.status().pending == 116 + 6)
        let history = try replica.history(noteID: note.id)
        #expect(history.filter { $0.field == "body" }.map(\.value) == ["first", "second"])
        #expect(history.first { $0.value == "first" }?.current == false)
        #expect(history.contains { $0.field == "deleted" && $0.value == "deleted" && $0.current })
        #expect(try replica.notes(excerptID: excerpt).isEmpty)
        #expect(try replica.tags(of: excerpt) == ["purge"])
        #expect(throws: ReplicaError.noteDeleted(note.id)) { try replica.editNote(id: note.id, body: "third") }
    }

    @Test func aFailedWriteLeavesNothingBehind() throws {
        let (replica, parsed) = try sampleReplica()
        let before = try replica.status()
        #expect(throws: ReplicaError.self) { try replica.addNote(excerptID: parsed.excerpts[0].id, body: "  ") }
        #expect(throws: ReplicaError.self) { try replica.setTags(excerptID: parsed.excerpts[0].id, tags: ["ok", "not ok"], present: true) }
        #expect(throws: ReplicaError.self) { try replica.addNote(excerptID: String(repeating: "0", count: 32), body: "x") }
        #expect(try replica.status() == before)
        #expect(try replica.tagCounts().isEmpty)
    }

    @Test func prefixesResolveLikeGit() throws {
        let (replica, parsed) = try sampleReplica()
        let id = parsed.excerpts[10].id
        #expect(try replica.resolveExcerpt(String(id.prefix(12))) == id)
        #expect(try replica.resolveExcerpt(id.uppercased()) == id)
        #expect(throws: ReplicaError.prefixTooShort("abc")) { try replica.resolveExcerpt("abc") }
        #expect(throws: ReplicaError.unknownExcerpt("zzzz")) { try replica.resolveExcerpt("zzzz") }
        // find two ids sharing a 1-character prefix and ask with 4 chars of each: unique; then
        // an ambiguous prefix lists the candidates
        let ids = parsed.excerpts.map(\.id).sorted()
        let pair = zip(ids, ids.dropFirst()).first { $0.0.prefix(4) == $0.1.prefix(4) }
        if let (a, b) = pair {
            #expect { try replica.resolveExcerpt(String(a.prefix(4))) } throws: { error in
                guard case ReplicaError.ambiguous(_, _, let candidates) = error else { return false }
                return candidates.contains(a) && candidates.contains(b)
            }
        }
    }

    /// gloss_bm25 (Sources/CGlossRank) must give every match the score FTS5's own bm25() gives it,
    /// with the row's size joined in and without it, and search() must keep FTS5's order.
    @Test func searchRankingIsFTS5Bm25() throws {
        let (replica, parsed) = try sampleReplica()
        for (i, body) in ["The army trial in Moscow.", "Stalin, the army, the army again.", "a plot"].enumerated() {
            _ = try replica.addNote(excerptID: parsed.excerpts[i].id, body: body)
        }
        func scores(_ sql: String, _ match: String) throws -> [(Int64, Double)] {
            try replica.db.query(sql, [.text(match)]) { ($0.int(0), $0.double(1)) }
        }
        var compared = 0
        for query in ["army", "the army", "Tukhachevsky", "trial Moscow", "\"military plot\"", "Stal*", "p. 280", "conspiracy against"] {
            let match = FTSQuery.build(query)
            for table in ["excerpt_fts", "note_fts"] {
                let stock = try scores("SELECT rowid, bm25(\(table)) FROM \(table) WHERE \(table) MATCH ? ORDER BY rowid", match)
                let joined = try scores("""
                    SELECT f.rowid, gloss_bm25(\(table), d.sz) FROM \(table) f JOIN \(table)_docsize d ON d.id = f.rowid
                    WHERE \(table) MATCH ? ORDER BY f.rowid
                    """, match)
                let alone = try scores("SELECT rowid, gloss_bm25(\(table)) FROM \(table) WHERE \(table) MATCH ? ORDER BY rowid", match)
                #expect(joined.map(\.0) == stock.map(\.0) && alone.map(\.0) == stock.map(\.0), "\(table) \(query)")
                for (a, (b, c)) in zip(stock, zip(joined, alone)) {
                    #expect(abs(a.1 - b.1) <= 1e-12 * abs(a.1) && a.1 == c.1, "\(table) \(query) row \(a.0): \(a.1) \(b.1) \(c.1)")
                }
                compared += stock.count
                // the size really comes from the argument: a record that says "one token" (a varint
                // of 1 per column) changes the scores
                let oneToken = try scores("""
                    SELECT rowid, gloss_bm25(\(table), x'0101') FROM \(table) WHERE \(table) MATCH ? ORDER BY rowid
                    """, match)
                #expect(stock.isEmpty || zip(stock, oneToken).contains { $0.1 != $1.1 }, "\(table) \(query)")
            }
            // search() returns FTS5's best matches by bm25 (ties by row), with their scores
            let stock = try scores("SELECT rowid, bm25(excerpt_fts) FROM excerpt_fts WHERE excerpt_fts MATCH ?", match)
                .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(10)
            let ids = try stock.map { row in try replica.db.first("SELECT id FROM excerpt WHERE seq = ?", [.int(row.0)]) { $0.text(0) } }
            let hits = try replica.search(query, limit: 10).filter { $0.kind == "excerpt" }
            #expect(hits.count >= min(stock.count, 10 - 3), "\(query)")  // 3 notes may take places
            #expect(hits.map(\.excerptId) == Array(ids.prefix(hits.count)), "\(query)")
            #expect(zip(hits, stock).allSatisfy { abs($0.score + $1.1) <= 1e-12 * abs($1.1) }, "\(query)")
        }
        #expect(compared > 200)
        // notes and excerpts merge into one ranking, best first
        let mixed = try replica.search("army", limit: 50)
        #expect(mixed.contains { $0.kind == "note" } && mixed.contains { $0.kind == "excerpt" })
        #expect(mixed.map(\.score) == mixed.map(\.score).sorted(by: >))
    }

    @Test func searchRanksAndHighlightsExcerptsAndNotes() throws {
        let (replica, parsed) = try sampleReplica()
        let hits = try replica.search("Tukhachevsky coup", limit: 5)
        #expect(!hits.isEmpty)
        #expect(hits.allSatisfy { $0.snippet.contains("**") })
        #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
        _ = try replica.addNote(excerptID: parsed.excerpts[0].id, body: "Compare the zanzibar hypothesis.")
        let noteHits = try replica.search("zanzibar")
        #expect(noteHits.count == 1)
        #expect(noteHits[0].kind == "note")
        #expect(noteHits[0].snippet.contains("**zanzibar**"))
        // FTS syntax in the input is quoted, not an error
        #expect(try replica.search("\"AND OR ( NEAR*").count >= 0)
        #expect(throws: ReplicaError.self) { try replica.search("  ") }
    }

    /// FTS5's own check that the note index holds exactly the note table's bodies: it fails on a
    /// note left out and on a row deleted from the index that was never in it.
    func expectNoteIndexMatchesNotes(_ replica: Replica, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(throws: Never.self, sourceLocation: sourceLocation) {
            try replica.db.execute("INSERT INTO note_fts(note_fts, rank) VALUES ('integrity-check', 1)")
        }
        #expect(try replica.db.first("SELECT COUNT(*) FROM note_fts_pending") { $0.int(0) } == 0, sourceLocation: sourceLocation)
    }

    @Test func notesAreIndexedOnceWhateverHappensToThemInTheirFirstTransaction() throws {
        let (replica, parsed) = try sampleReplica()
        let e = parsed.excerpts[3].id
        let old = try replica.addNote(excerptID: e, body: "an old quokka note")
        _ = try replica.editNote(id: old.id, body: "an old wombat note")
        try expectNoteIndexMatchesNotes(replica)

        // one pulled page: a new note written twice, a new note that arrives as a tombstone
        // first (its row is created with an empty body), and an edit of the indexed note
        let t = Stamp(wall: 4_000_000_000_000, counter: 0, node: "otherreplica0001")
        let fresh = NoteHeader(id: NoteID.make(milliseconds: t.wall), excerptId: e, createdAt: t.wall)
        let ghost = NoteHeader(id: NoteID.make(milliseconds: t.wall + 1), excerptId: e, createdAt: t.wall)
        let oldHeader = NoteHeader(id: old.id, excerptId: e, createdAt: old.createdAt)
        let page: [Change] = [
            .noteBody(fresh, body: "first platypus draft", stamp: t, base: nil),
            .noteBody(fresh, body: "second echidna draft", stamp: Stamp(wall: t.wall + 5, counter: 0, node: t.node), base: nil),
            .noteDeleted(ghost, deleted: true, stamp: t, base: nil),
            .noteBody(oldHeader, body: "an old numbat note", stamp: t, base: nil),
        ]
        _ = try replica.applyPulled(page.enumerated().map { SequencedChange(seq: Int64($0.offset + 1), change: $0.element) }, cursor: 4, serverStamp: nil)
        try expectNoteIndexMatchesNotes(replica)
        #expect(try replica.search("echidna").map(\.noteId) == [fresh.id])
        #expect(try replica.search("platypus").isEmpty)
        #expect(try replica.search("numbat").map(\.noteId) == [old.id])
        #expect(try replica.search("wombat").isEmpty && replica.search("quokka").isEmpty)
        // a late body for the tombstoned note: its row exists and is indexed, so this is an update
        _ = try replica.applyPulled([SequencedChange(seq: 5, change: .noteBody(ghost, body: "a dingo", stamp: t, base: nil))], cursor: 5, serverStamp: nil)
        try expectNoteIndexMatchesNotes(replica)

        // a note inserted and deleted in one transaction never reaches the index, and the
        // delete must not tell FTS5 to remove it (raw SQL: no command does this in one step)
        try replica.db.transaction {
            try replica.db.run("INSERT INTO note(id, excerpt_id, created_at, body, body_stamp) VALUES ('n-gone', ?, 0, 'a bilby', 's')", .text(e))
            try replica.db.run("UPDATE note SET body = 'a quoll' WHERE id = 'n-gone'")
            try replica.db.run("DELETE FROM note WHERE id = 'n-gone'")
        }
        try expectNoteIndexMatchesNotes(replica)
        try replica.removeNote(id: old.id)
        try expectNoteIndexMatchesNotes(replica)
        #expect(try replica.search("numbat").isEmpty)
    }

    /// Whether FTS5 finds the excerpt index to hold exactly the excerpt table's rows.
    func excerptIndexIsComplete(_ replica: Replica) -> Bool {
        (try? replica.db.execute("INSERT INTO excerpt_fts(excerpt_fts, rank) VALUES ('integrity-check', 1)")) != nil
    }

    @Test func excerptsASyncLeftUnindexedAreIndexedByItsLastPageOrTheNextWriteOrSearch() throws {
        let excerpts = try CompilationParser().parse(try TestSupport.sampleCorpus()).excerpts
        func page(_ range: Range<Int>, via: String? = nil) -> [SequencedChange] {
            range.map { SequencedChange(seq: Int64($0 + 1), change: .excerpt(excerpts[$0]), via: via) }
        }
        func deferredMark(_ r: Replica) throws -> String? { try r.db.first("SELECT value FROM meta WHERE key = 'excerpts_indexed_through'") { $0.text(0) } }

        // a sync of three pages: the first two leave their excerpts unindexed, the last indexes all
        let synced = try Replica(home: TestSupport.tempDir())
        _ = try synced.applyPulled(page(0..<40), cursor: 40, serverStamp: nil, indexLater: true)
        _ = try synced.applyPulled(page(40..<80), cursor: 80, serverStamp: nil, indexLater: true)
        #expect(try deferredMark(synced) == "0")
        #expect(!excerptIndexIsComplete(synced))
        _ = try synced.applyPulled(page(80..<excerpts.count), cursor: Int64(excerpts.count), serverStamp: nil)
        #expect(try deferredMark(synced) == nil)
        #expect(excerptIndexIsComplete(synced))

        // no more than maxDeferredExcerpts wait: the page that reaches it indexes them all
        let bounded = try Replica(home: TestSupport.tempDir())
        bounded.maxDeferredExcerpts = 50
        _ = try bounded.applyPulled(page(0..<40), cursor: 40, serverStamp: nil, indexLater: true)
        #expect(try deferredMark(bounded) == "0")
        _ = try bounded.applyPulled(page(40..<80), cursor: 80, serverStamp: nil, indexLater: true)
        #expect(try deferredMark(bounded) == nil)
        #expect(excerptIndexIsComplete(bounded))
        _ = try bounded.applyPulled(page(80..<100), cursor: 100, serverStamp: nil, indexLater: true)
        #expect(try deferredMark(bounded) == "80")

        // interrupted syncs: a search indexes what was left before it looks
        let searched = try Replica(home: TestSupport.tempDir())
        _ = try searched.importExcerpts(Array(excerpts[100...]))
        _ = try searched.applyPulled(page(0..<60), cursor: 60, serverStamp: nil, indexLater: true)
        #expect(try deferredMark(searched) != nil)
        let words = excerpts[0].text.split(separator: " ").prefix(6).joined(separator: " ")
        #expect(try searched.search(words, limit: 200).contains { $0.excerptId == excerpts[0].id })
        #expect(excerptIndexIsComplete(searched))
        // (unless a sync holds the write lock: then it searches what is indexed, without failing)
        let busy = try Replica(home: TestSupport.tempDir())
        _ = try busy.importExcerpts(Array(excerpts[100...]))
        _ = try busy.applyPulled(page(0..<60), cursor: 60, serverStamp: nil, indexLater: true)
        try busy.db.execute("PRAGMA busy_timeout = 100")  // not the 5 s a command waits
        let other = try Database(path: busy.path)
        try other.execute("BEGIN IMMEDIATE")
        let late = excerpts[100].text.split(separator: " ").prefix(6).joined(separator: " ")
        #expect(try busy.search(late, limit: 200).contains { $0.excerptId == excerpts[100].id })
        #expect(try !busy.search(words, limit: 200).contains { $0.excerptId == excerpts[0].id })
        try other.execute("ROLLBACK")
        #expect(try busy.search(words, limit: 200).contains { $0.excerptId == excerpts[0].id })
        #expect(excerptIndexIsComplete(busy))
        // ... and so does any other write, such as an import, indexing each excerpt once
        let imported = try Replica(home: TestSupport.tempDir())
        _ = try imported.applyPulled(page(0..<60), cursor: 60, serverStamp: nil, indexLater: true)
        _ = try imported.importExcerpts(Array(excerpts[50...]))
        #expect(try deferredMark(imported) == nil)
        #expect(excerptIndexIsComplete(imported))
        // ... in particular one that deletes excerpts (access to a collection ended): the index
        // must hold an excerpt before it is deleted from it
        let dropped = try Replica(home: TestSupport.tempDir())
        let shared = CollectionInfo(tag: "purges", owner: "bob", role: "reader", members: [])
        _ = try dropped.updateMemberships(user: "alice", collections: [shared])
        _ = try dropped.applyPulled(page(0..<20, via: "bob/purges"), cursor: 20, serverStamp: nil, indexLater: true)
        #expect(try dropped.updateMemberships(user: "alice", collections: []) == ["bob/purges"])
        #expect(try dropped.list().isEmpty)
        #expect(excerptIndexIsComplete(dropped))
    }

    @Test func aJSONExportImportsBackWithNotesAndTags() throws {
        let (replica, parsed) = try sampleReplica()
        let e = parsed.excerpts[5].id
        let note = try replica.addNote(excerptID: e, body: "keep me")
        _ = try replica.setTags(excerptID: e, tags: ["trial"], present: true)
        let doc = ExportDocument(excerpts: try replica.list(), exportedAt: 0)
        let data = try JSONEncoder().encode(doc)
        let fresh = try Replica(home: TestSupport.tempDir())
        let summary = try fresh.importExport(try JSONDecoder().decode(ExportDocument.self, from: data))
        #expect(summary.imported == 116)
        #expect(summary.notes == 1)
        #expect(summary.tags == 1)
        #expect(try fresh.record(excerptID: e).notes.map(\.body) == ["keep me"])
        #expect(try fresh.record(excerptID: e).notes.map(\.id) == [note.id])
        #expect(try fresh.list(tag: "trial").map(\.id) == [e])
        let again = try fresh.importExport(try JSONDecoder().decode(ExportDocument.self, from: data))
        #expect(again.imported == 0 && again.notes == 0 && again.tags == 0)
        // a note whose creation time is not a time is kept, dated now, with a warning
        var odd = ExportDocument(excerpts: try replica.list(), exportedAt: 0)
        let i = try #require(odd.excerpts.firstIndex { $0.id == e })
        odd.excerpts[i].notes[0].createdAt = "last tuesday"
        let third = try Replica(home: TestSupport.tempDir())
        let oddSummary = try third.importExport(odd)
        #expect(oddSummary.notes == 1)
        #expect(oddSummary.warnings.contains { $0.contains("'last tuesday' is not an ISO 8601 time") })
    }

    @Test func theTokenFileIsReadWithoutTheWhitespaceAroundIt() throws {
        let replica = try Replica(home: TestSupport.tempDir("token"))
        #expect(replica.token(fromEnvironment: nil) == nil)
        for (file, token) in [("gloss_ab12", "gloss_ab12"), (" gloss_ab12\n", "gloss_ab12"), ("\t\r\ngloss_a b\r\n\u{0B}\u{0C}", "gloss_a b"), ("\n \n", nil), ("", nil)] {
            try Data(file.utf8).write(to: URL(fileURLWithPath: replica.tokenPath))
            #expect(replica.token(fromEnvironment: nil) == token, "\(file.debugDescription)")
            #expect(replica.token(fromEnvironment: "gloss_env") == "gloss_env")
        }
    }
}
