import Foundation
import GlossCLI
import GlossReplica
import GlossSQLite
import Testing

/// The `gloss` binary end to end, in temporary homes.
@Suite struct CLITests {
    struct ImportJSON: Decodable { var imported: Int; var duplicates: Int; var sources: Int; var warnings: [String] }
    struct NoteJSON: Decodable { var id: String; var excerptId: String; var body: String; var createdAt: String; var updatedAt: String }
    struct ExcerptJSON: Decodable {
        struct CitationJSON: Decodable { var raw: String; var authors: [String]; var title: String; var year: Int?; var pages: String }
        var id: String; var text: String; var citation: CitationJSON; var tags: [String]; var notes: [NoteJSON]
    }
    struct TagJSON: Decodable, Equatable { var name: String; var count: Int }
    struct StatusJSON: Decodable { var pending: Int; var lastSync: String?; var remote: String? }
    struct HitJSON: Decodable { var kind: String; var excerptId: String; var snippet: String }
    struct HistoryJSON: Decodable { var field: String; var value: String; var current: Bool }

    @Test func importAnnotateAndReadBackAcrossRestarts() throws {
        let home = TestSupport.tempDir("cli")
        let first = try gloss(home, "import", TestSupport.sampleCorpusPath, "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try first.json(ImportJSON.self)
        #expect(summary.imported == 116 && summary.duplicates == 0 && summary.sources == 46)
        #expect(summary.warnings.count == 2)
        let second = try gloss(home, "import", TestSupport.sampleCorpusPath, "--json").json(ImportJSON.self)
        #expect(second.imported == 0 && second.duplicates == 116)

        let all = try gloss(home, "list", "--json").json([ExcerptJSON].self)
        #expect(all.count == 116)
        let target = all[7]
        let prefix = String(target.id.prefix(7))
        let added = try gloss(home, "note", "add", prefix, "Molotov's account, compare Conquest.", "--json")
        #expect(added.status == 0, "\(added.stderr)")
        let note = try added.json(NoteJSON.self)
        #expect(note.excerptId == target.id)
        #expect(try gloss(home, "tag", "add", prefix, "purge-trials", "molotov").status == 0)
        #expect(try gloss(home, "note", "edit", String(note.id.prefix(8)), "Molotov's account; compare Conquest p. 200.").status == 0)

        // every read command sees the annotations (each run is a new process: a restart)
        let shown = try gloss(home, "show", prefix, "--json").json(ExcerptJSON.self)
        #expect(shown.tags == ["molotov", "purge-trials"])
        #expect(shown.notes.map(\.body) == ["Molotov's account; compare Conquest p. 200."])
        #expect(try gloss(home, "list", "--tag", "purge-trials", "--json").json([ExcerptJSON].self).map(\.id) == [target.id])
        #expect(try gloss(home, "list", "--source", "chuev", "--json").json([ExcerptJSON].self).count == 9)
        #expect(try gloss(home, "list", "--limit", "10", "--json").json([ExcerptJSON].self).count == 10)
        #expect(try gloss(home, "tag", "list", "--json").json([TagJSON].self) == [TagJSON(name: "molotov", count: 1), TagJSON(name: "purge-trials", count: 1)])
        let hits = try gloss(home, "search", "compare", "Conquest", "--json").json([HitJSON].self)
        #expect(hits.contains { $0.kind == "note" && $0.excerptId == target.id })
        let history = try gloss(home, "history", note.id, "--json").json([HistoryJSON].self)
        #expect(history.map(\.value) == ["Molotov's account, compare Conquest.", "Molotov's account; compare Conquest p. 200."])
        #expect(history.map(\.current) == [false, true])
        #expect(try gloss(home, "status", "--json").json(StatusJSON.self).pending == 116 + 4)

        // exports
        let md = try gloss(home, "export", "--format", "markdown", "--tag", "purge-trials")
        #expect(md.status == 0)
        #expect(md.stdout.contains("> " + target.text.split(separator: "\n")[0]))
        #expect(md.stdout.contains("— " + target.citation.raw))
        #expect(md.stdout.contains("compare Conquest p. 200."))
        #expect(md.stdout.contains("`purge-trials`"))
        let exportPath = home + "/export.json"
        #expect(try gloss(home, "export", "--format", "json", "--output", exportPath).status == 0)
        let other = TestSupport.tempDir("cli-other")
        let reimport = try gloss(other, "import", exportPath, "--json")
        #expect(reimport.status == 0, "\(reimport.stderr)")
        #expect(try reimport.json(ImportJSON.self).imported == 116)
        let copied = try gloss(other, "show", prefix, "--json").json(ExcerptJSON.self)
        #expect(copied.notes.map(\.body) == shown.notes.map(\.body))
        #expect(copied.tags == shown.tags)

        // note rm hides the note but history keeps its words
        #expect(try gloss(home, "note", "rm", note.id).status == 0)
        #expect(try gloss(home, "note", "list", prefix, "--json").json([NoteJSON].self).isEmpty)
        #expect(try gloss(home, "history", note.id, "--json").json([HistoryJSON].self).count == 3)
    }

    @Test func notesMadeTheSameMinuteArePrintedWithDistinctIDsThatResolve() throws {
        // note ids begin with their creation time: three notes made at once share their first
        // 8 characters, so each is printed by the shortest prefix that is its own
        let home = TestSupport.tempDir("cli")
        #expect(try gloss(home, "import", TestSupport.sampleCorpusPath).status == 0)
        let excerpt = try gloss(home, "list", "--json").json([ExcerptJSON].self)[0].id
        let replica = try Replica(home: home)
        let ids = try (0..<3).map { i in try replica.addNote(excerptID: excerpt, body: "note \(i)").id }
        let listed = try gloss(home, "note", "list")
        #expect(listed.status == 0, "\(listed.stderr)")
        let shown = listed.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map { String($0.split(separator: " ")[0]) }
        #expect(shown.count == 3 && Set(shown).count == 3, "\(listed.stdout)")
        for short in shown {
            #expect(ids.contains { $0.hasPrefix(short) })
            let history = try gloss(home, "history", short)
            #expect(history.status == 0, "\(short): \(history.stderr)")
        }
    }

    @Test func commandsThatTalkToGlossdRunInGlossSyncBesideGloss() throws {
        let bin = TestSupport.binDir
        // gloss passes them through, arguments and all: the help is gloss-sync's
        let help = try runProcess(bin.appendingPathComponent("gloss").path, ["sync", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--timeout"), "\(help.stdout)")
        // only gloss-sync loads the HTTP client (libcurl and its libraries)
        let loads = { (name: String) in
            try runProcess(bin.appendingPathComponent(name).path, ["--version"], environment: ["LD_DEBUG": "libs"]).stderr.contains("libcurl")
        }
        #expect(try !loads("gloss"))
        #expect(try loads("gloss-sync"))
        // without gloss-sync beside it, gloss says so
        let alone = TestSupport.tempDir("alone") + "/gloss"
        try copyExecutable(from: bin.appendingPathComponent("gloss").path, to: alone)
        let r = try runProcess(alone, ["sync", "--home", TestSupport.tempDir()])
        #expect(r.status == 1)
        #expect(r.stderr.contains("gloss-sync") && r.stderr.contains("install both"), "\(r.stderr)")
    }

    @Test func errorsAreOneLineWithNonZeroExit() throws {
        let home = TestSupport.tempDir("cli-errors")
        _ = try gloss(home, "import", "--sample")
        for args in [["show", "ffffffff"], ["show", "ab"], ["note", "edit", "00000000", "x"], ["history", "nope0000"],
                     ["import", home + "/missing.txt"], ["tag", "add", "ffffffff", "t"]] {
            let r = try runProcess(TestSupport.binDir.appendingPathComponent("gloss").path, args + ["--home", home])
            #expect(r.status != 0, "\(args)")
            #expect(r.stdout.isEmpty, "\(args)")
            #expect(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
    }

    @Test func badInputLeavesTheReplicaIntact() throws {
        let home = TestSupport.tempDir("cli-bad")
        _ = try gloss(home, "import", "--sample")
        let before = try gloss(home, "list", "--json").stdout
        let badUTF8 = home + "/bad.txt"
        try Data(Array("Title\nText \u{00E9}".utf8) + [0xFF, 0xFE] + Array("\nA, B. C. D: E, 1990, p. 1\n".utf8)).write(to: URL(fileURLWithPath: badUTF8))
        let r = try gloss(home, "import", badUTF8)
        #expect(r.status != 0)
        #expect(r.stderr.contains("invalid UTF-8 at byte offset 13"))
        let notJSON = home + "/bad.json"
        try Data("{\"excerpts\": [{\"text\": 3}]}".utf8).write(to: URL(fileURLWithPath: notJSON))
        let j = try gloss(home, "import", notJSON)
        #expect(j.status != 0)
        #expect(j.stderr.contains("not a Gloss export"))
        #expect(try gloss(home, "list", "--json").stdout == before)
        let lossy = try gloss(home, "import", badUTF8, "--replace-invalid", "--json").json(ImportJSON.self)
        #expect(lossy.imported == 1)
        #expect(lossy.warnings.contains { $0.contains("offset 13") })
        // a file of several read chunks whose bad byte comes after 2 MiB of good excerpts: the import
        // streams, and still keeps nothing of the file
        var big = Array("Big\n".utf8)
        var n = 0
        while big.count < 2 << 20 {
            n += 1
            big += Array("Streamed excerpt number \(n).\nAuthor, A. Book. Place: Pub, 1990, p. \(n)\n".utf8)
        }
        let badOffset = big.count + 2
        big += Array("x \u{00E9}".utf8) + [0xC3] + Array("\nAuthor, A. Book. Place: Pub, 1990, p. 1\n".utf8)
        let bigPath = home + "/big.txt"
        try Data(big).write(to: URL(fileURLWithPath: bigPath))
        let beforeBig = try gloss(home, "list", "--json").stdout
        let b = try gloss(home, "import", bigPath)
        #expect(b.status != 0)
        #expect(b.stderr.contains("invalid UTF-8 at byte offset \(badOffset + 2)"), "\(b.stderr)")
        #expect(try gloss(home, "list", "--json").stdout == beforeBig)
        let streamed = try gloss(home, "import", bigPath, "--replace-invalid", "--json").json(ImportJSON.self)
        #expect(streamed.imported == n + 1)
    }

    /// The import parses on a second thread while it stores. When storing fails (here: another
    /// process holds the replica's write lock past SQLite's 5 s busy timeout) with the parser
    /// blocked on a full hand-over queue, gloss still stops it, says why and keeps nothing.
    @Test(.timeLimit(.minutes(1))) func importThatCannotStoreStopsItsParser() throws {
        let home = TestSupport.tempDir("cli-locked")
        _ = try gloss(home, "import", "--sample")
        let before = try gloss(home, "list", "--json").stdout
        var big = Array("Locked out\n".utf8)
        var n = 0
        while n < 10_000 {  // far more than the 8 × 256 excerpts the parser may hold ready
            n += 1
            big += Array("Waiting excerpt number \(n).\nAuthor, A. Book. Place: Pub, 1990, p. \(n)\n".utf8)
        }
        let path = home + "/big.txt"
        try Data(big).write(to: URL(fileURLWithPath: path))
        let holder = try Database(path: home + "/replica.sqlite")
        try holder.execute("BEGIN IMMEDIATE")
        let started = Date()
        let r = try gloss(home, "import", path)
        try holder.execute("ROLLBACK")
        #expect(r.status != 0)
        #expect(r.stderr.contains("locked"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try gloss(home, "list", "--json").stdout == before)
        let imported = try gloss(home, "import", path, "--json").json(ImportJSON.self)
        #expect(imported.imported == n)
    }

    @Test func homeComesFromTheEnvironment() throws {
        let home = TestSupport.tempDir("cli-env")
        let r = try runProcess(TestSupport.binDir.appendingPathComponent("gloss").path, ["import", "--sample", "--json"], environment: ["GLOSS_HOME": home])
        #expect(r.status == 0)
        #expect(FileManager.default.fileExists(atPath: home + "/replica.sqlite"))
    }

    /// `gloss sync`'s usual arguments are read without ArgumentParser (`SyncArguments`); they
    /// must read as ArgumentParser reads them, and anything else must go to ArgumentParser.
    @Test func syncArgumentsReadWithoutTheParserReadAsTheParserReadsThem() throws {
        let plain: [[String]] = [
            [], ["--json"], ["--home", "/h"], ["--home=/h"], ["--home", "/a b/c=d"], ["--home=/x=y"], ["--timeout", "2.5"],
            ["--timeout=7"], ["--timeout", "1e1"], ["--timeout", "inf"], ["--timeout", "0x10"], ["--home==x"], ["--json", "--home", "h", "--timeout", "0.5"], ["--timeout", "3", "--json"],
        ]
        for arguments in plain {
            let quick = try #require(SyncArguments(quick: arguments), "\(arguments)")
            #expect(quick == (try SyncOptions.parse(arguments)).values, "\(arguments)")
        }
        let others: [[String]] = [
            ["--help"], ["-h"], ["--version"], ["--home"], ["--home", "--json"], ["--home", ""], ["--home="], ["--json", "--json"],
            ["--home", "a", "--home", "b"], ["--timeout", "soon"], ["--timeout", "-1"], ["--jsn"], ["extra"], ["--json=yes"], ["-"], ["--"],
        ]
        for arguments in others { #expect(SyncArguments(quick: arguments) == nil, "\(arguments)") }
    }

    @Test func readCommandArgumentsReadWithoutTheParserReadAsTheParserReadsThem() throws {
        let lists: [[String]] = [
            [], ["--limit", "10"], ["--limit=0"], ["--json", "--tag", "t"], ["--source", "Conquest", "--home", "/h"], ["--collection", "bob/trials"],
            ["--tag=a=b"], ["--limit", "+5"], ["--home", "/a b", "--json", "--limit", "3", "--source=x y"],
        ]
        for arguments in lists {
            let quick = try #require(ListArguments(quick: arguments), "\(arguments)")
            #expect(quick == (try ListOptions.parse(arguments)).values, "\(arguments)")
        }
        let shows: [[String]] = [["3f2a"], ["--json", "3f2a"], ["3f2a", "--json"], ["--home", "/h", "3f2a"], ["3f2a", "--home=/h"]]
        for arguments in shows {
            let quick = try #require(ShowArguments(quick: arguments), "\(arguments)")
            #expect(quick == (try ShowOptions.parse(arguments)).values, "\(arguments)")
        }
        let searches: [[String]] = [
            ["trial"], ["trial", "army"], ["--json", "trial"], ["--limit", "5", "trial", "army"], ["--limit=1000000", "--home", "/h", "\"red army\"", "purge*"],
            ["a=b"], ["trial", "army", "café"], ["trial", "--json"], ["trial", "--limit", "5", "army"], ["trial", "army", "--home", "/h", "--json"],
            ["trial", "--limit=3"],
        ]
        for arguments in searches {
            let quick = try #require(SearchArguments(quick: arguments), "\(arguments)")
            #expect(quick == (try SearchOptions.parse(arguments)).values, "\(arguments)")
        }
        // left to the parser: help, typos, short options, values that look like options,
        // repeats, words where none are taken, `--`
        let notLists: [[String]] = [["--help"], ["-h"], ["--limit"], ["--limit", "ten"], ["--limit", "-1"], ["--limit=-1"], ["--tag", "a", "--tag", "b"], ["extra"], ["--jsn"], ["--json=1"], ["--"], [""]]
        for arguments in notLists { #expect(ListArguments(quick: arguments) == nil, "\(arguments)") }
        let notShows: [[String]] = [[], ["a", "b"], ["--help"], ["-x"], ["--json"], ["--home", "h"], ["--", "-id"]]
        for arguments in notShows { #expect(ShowArguments(quick: arguments) == nil, "\(arguments)") }
        let notSearches: [[String]] = [[], ["--json"], ["trial", "--bogus"], ["trial", "--limit"], ["--limit", "x", "trial"], ["-h"], ["trial", "-"], ["--", "trial"], ["trial", "--", "army"]]
        for arguments in notSearches { #expect(SearchArguments(quick: arguments) == nil, "\(arguments)") }
    }

    @Test func aReadCommandAnswersTheSameWithAndWithoutTheParser() throws {
        // each pair: the first form is read without the parser, the second (`--`, a value
        // starting with '-') only by the parser
        let home = TestSupport.tempDir("cli-quick")
        #expect(try gloss(home, "import", "--sample").status == 0)
        let first = try #require(try gloss(home, "list", "--json", "--limit", "3").json([ExcerptJSON].self).first)
        let pairs: [([String], [String])] = [
            (["show", String(first.id.prefix(8)), "--json"], ["show", "--json", "--", String(first.id.prefix(8))]),
            (["show", String(first.id.prefix(8))], ["show", "--", String(first.id.prefix(8))]),
            (["search", "--json", "Tukhachevsky", "trial"], ["search", "--json", "--", "Tukhachevsky", "trial"]),
            (["search", "--limit", "2", "army"], ["search", "--limit", "2", "--", "army"]),
            (["search", "Tukhachevsky", "--json", "--limit", "3"], ["search", "--json", "--limit", "3", "--", "Tukhachevsky"]),
            (["list", "--tag", "t", "--collection", "a/b"], ["list", "--tag", "t", "--collection", "a/b", "--source=-x"]),
            (["show", "zzzz"], ["show", "--", "zzzz"]),
        ]
        let bin = TestSupport.binDir.appendingPathComponent("gloss").path
        for (quick, parsed) in pairs {
            // the home right after the command: a search's options come before its words
            func run(_ arguments: [String]) throws -> ProcessResult { try runProcess(bin, [arguments[0], "--home", home] + arguments.dropFirst()) }
            let a = try run(quick), b = try run(parsed)
            #expect(a.status == b.status && a.stdout == b.stdout && a.stderr == b.stderr, "\(quick) vs \(parsed): \(a.stderr) | \(b.stderr)")
            #expect(!a.stdout.isEmpty || !a.stderr.isEmpty)
        }
    }
}
