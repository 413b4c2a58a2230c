import Foundation

/// Turns a results file into docs/BENCHMARKS.md: every figure of one run, its target, and its
/// ratio to the limit (raw SQLite on the same rows) and to the peer (Kinto), measured side by
/// side in that run.
enum Report {
    static func markdown(results path: String) throws -> String {
        let (loaded, notes) = try Results.load(path)
        var out = """
            # Benchmarks

            Written by `bench/run` from one run (do not edit by hand; the analysis is in
            [PERFORMANCE.md](PERFORMANCE.md)). Command:

            ```sh
            \(notes["command"] ?? "bench/run")
            ```

            - Date: \(notes["date"] ?? "?")
            - Machine: \(notes["machine"] ?? "?")
            - Software: \(notes["software"] ?? "?")
            - Workload: \(notes["workload"] ?? "?")

            Ratios: **raw ÷ Gloss** is how many times slower Gloss is than raw SQLite doing the same
            storage work (target ≤ 3); **Gloss ÷ Kinto** is how many times faster Gloss is than Kinto
            26.5 on the same number of records (target ≥ 100). Medians: `gloss import` of 5 runs, CLI
            commands of 30, SQLite-daemon pushes and bootstraps of 3 (each push into a new daemon from
            the same replica snapshot), every raw SQLite step of 3 (new databases); the 1M import,
            the concurrent run, PostgreSQL and Kinto are single runs. The machine is shared and
            noisy; all figures below come from the same run.


            """

        var v = loaded
        if let ms = v["import.ms"], let count = v["corpus.excerpts"] {
            v["import.seconds"] = ms / 1000
            v["import.rate"] = count / (ms / 1000)
        }
        if let s = v["import1m.seconds"] { v["import1m.rate"] = 1_000_000 / s }
        func n(_ key: String) -> Double? { v[key] }
        func rate(_ x: Double?) -> String { x.map { $0 >= 10_000 ? String(format: "%.1fk/s", $0 / 1000) : String(format: "%.0f/s", $0) } ?? "–" }
        func ms(_ x: Double?) -> String { x.map { String(format: "%.1f ms", $0) } ?? "–" }
        func secs(_ x: Double?) -> String { x.map { String(format: "%.2f s", $0) } ?? "–" }
        func mb(_ x: Double?) -> String { x.map { String(format: "%.0f MB", $0) } ?? "–" }
        func ratio(_ a: Double?, _ b: Double?) -> String {
            guard let a, let b, b > 0 else { return "–" }
            return String(format: "%.1f×", a / b)
        }
        func verdict(_ ok: Bool?) -> String { ok.map { $0 ? "met" : "**missed**" } ?? "–" }

        // offline CLI
        out += """
            ## Offline CLI

            | measure | Gloss | target | | raw SQLite | raw ÷ Gloss |
            |---|---|---|---|---|---|
            | `gloss import`, \(Int(n("corpus.excerpts") ?? 0)) excerpts, new replica (median of 5) | \(rate(n("import.rate"))) (\(secs(n("import.seconds")))) | ≥ 100k/s | \(verdict(n("import.rate").map { $0 >= 100_000 })) | \(rate(n("raw.import"))) rows + full-text index | \(ratio(n("raw.import"), n("import.rate"))) |
            | `gloss import`, 1,000,000 excerpts (one run) | \(rate(n("import1m.rate"))) (\(secs(n("import1m.seconds"))), peak RSS \(mb(n("import1m.rss")))) | reported separately | | | |
            | `gloss list --limit 10`, new process | \(ms(n("cli.list"))) | ≤ 25 ms | \(verdict(n("cli.list").map { $0 <= 25 })) | | |
            | `gloss show ID` | \(ms(n("cli.show"))) | ≤ 25 ms | \(verdict(n("cli.show").map { $0 <= 25 })) | | |
            | `gloss search trial army` (two of the corpus's most frequent words) | \(ms(n("cli.search_frequent"))) | ≤ 25 ms | \(verdict(n("cli.search_frequent").map { $0 <= 25 })) | warm, in process: FTS5's `ORDER BY rank` \(ms(n("raw.search"))), bm25 with the size joined in \(ms(n("raw.search_joined"))) | |
            | `gloss search \(notes["rare_word"] ?? "?")`, a rare word (\(Int(n("cli.rare_matches") ?? 0)) results) | \(ms(n("cli.search_rare"))) | ≤ 25 ms | \(verdict(n("cli.search_rare").map { $0 <= 25 })) | | |
            | `gloss --version` (process start alone) | \(ms(n("cli.version"))) | | | | |
            | replica size after import | \(mb(n("import.size"))) | | | | |


            """

        // sync, SQLite daemon
        let kintoBackends = ["memory", "postgresql"].filter { n("kinto.\($0).push.rate") != nil }
        let kintoHeader = kintoBackends.map { " Kinto (\($0)) | Gloss ÷ Kinto (\($0)) |" }.joined()
        let kintoRule = kintoBackends.map { _ in "---|---|" }.joined()
        func kinto(_ gloss: Double?, _ kind: String) -> String {
            kintoBackends.map { b in " \(rate(n("kinto.\(b).\(kind).rate"))) | \(ratio(gloss, n("kinto.\(b).\(kind).rate"))) |" }.joined()
        }
        let noKinto = kintoBackends.map { _ in " | |" }.joined()
        let kintoConcurrentNote = n("kinto.memory.concurrent.changes").map { kintoChanges in
            """

            The concurrent row compares like with like: Kinto (memory backend) under the same shape of
            load, 20 client processes (4 users × 5 devices) in rounds, each pushing its records in one
            batch and pulling what its user's collection gained, all at once; \(Int(kintoChanges)) records per client
            in 5 rounds against Gloss's \(Int(n("concurrent.changes") ?? 0)) in \(Int(n("concurrent.rounds") ?? 10)) (smaller, which favours Kinto), and its clients stay
            up between rounds where each Gloss sync starts a process. The long-lived row runs Gloss's
            load again on a daemon of its own with clients that stay up too (`gloss-bench
            sync-client`: one process per device, the same `SyncClient` as `gloss sync`, told to
            sync by the bench). The CPU row adds the clients' and glossd's CPU time over the timed
            rounds and divides it by the changes pushed; its raw column is what raw SQLite spends
            storing one pushed change where the load stores it (the daemon's row, and a replica's
            rows on each of the four sibling devices, at the raw rates below), so on 2 cores the load
            could not push more than 2 s ÷ that per second of wall time even at raw SQLite's cost.
            """
        } ?? ""
        // a bootstrap's peak memory at each size of sync measured (keys memory.bootstrap_rss.CHANGES)
        let memorySizes = v.compactMap { key, value -> (changes: Double, mb: Double)? in
            guard key.hasPrefix("memory.bootstrap_rss."), let changes = Double(key.dropFirst("memory.bootstrap_rss.".count)) else { return nil }
            return (changes, value)
        }.sorted { $0.changes < $1.changes }
        let memoryFlat: Bool? = memorySizes.count >= 2 ? memorySizes[memorySizes.count - 1].mb <= memorySizes[memorySizes.count - 2].mb * 1.1 : nil
        // CPU per pushed change in the concurrent load, and the least raw SQLite spends storing
        // what one pushed change becomes: a daemon row and four replica rows
        func cpuPerChange(_ key: String) -> Double? {
            guard let c = n("\(key).cpu_clients"), let d = n("\(key).cpu_glossd"), let pushed = n("\(key).pushed") else { return nil }
            return (c + d) / pushed * 1e6
        }
        func perChange(_ key: String) -> String {
            guard let total = cpuPerChange(key), let c = n("\(key).cpu_clients"), let d = n("\(key).cpu_glossd") else { return "–" }
            return String(format: "%.0f µs (%.0f + %.0f)", total, total * c / (c + d), total * d / (c + d))
        }
        let floorPerChange = n("raw.server_annotations").flatMap { server in n("raw.replica_annotations").map { 1e6 / server + 4 * 1e6 / $0 } }
        let storageFloor = floorPerChange.map { String(format: "%.0f µs (1 daemon row + 4 replica rows)", $0) } ?? "–"
        // the concurrent run against Kinto under the same load (where bench/kinto ran it)
        func kintoConcurrent(_ text: (String) -> String, _ ratioOf: (String) -> String) -> String {
            kintoBackends.map { b in n("kinto.\(b).concurrent.rate") == nil ? " | |" : " \(text(b)) | \(ratioOf(b)) |" }.joined()
        }
        out += """
            ## Sync through glossd (SQLite, the embedded default), loopback

            | measure | Gloss | target | | raw SQLite | raw ÷ Gloss |\(kintoHeader)
            |---|---|---|---|---|---|\(kintoRule)
            | push of 100k notes and tags from one replica | \(rate(n("sqlite.push_annotations"))) | ≥ 50k/s | \(verdict(n("sqlite.push_annotations").map { $0 >= 50_000 })) | \(rate(n("raw.server_annotations"))) | \(ratio(n("raw.server_annotations"), n("sqlite.push_annotations"))) |\(kinto(n("sqlite.push_annotations"), "push"))
            | push of 100k excerpts from one replica | \(rate(n("sqlite.push_excerpts"))) | | | \(rate(n("raw.log_excerpts"))) | \(ratio(n("raw.log_excerpts"), n("sqlite.push_excerpts"))) |\(noKinto)
            | the same two pushes with bodies gzipped, as to a daemon on another machine: notes and tags / excerpts | \(rate(n("sqlite.push_annotations_gzip"))) / \(rate(n("sqlite.push_excerpts_gzip"))) | | | | \(ratio(n("raw.server_annotations"), n("sqlite.push_annotations_gzip"))) / \(ratio(n("raw.log_excerpts"), n("sqlite.push_excerpts_gzip"))) |\(noKinto)
            | bytes glossd wrote during that push of notes and tags (WAL frames and checkpoints) | \(mb(n("sqlite.push_written"))) | | | | |\(noKinto)
            | bootstrap of 100k excerpts + 100k annotations into an empty replica | \(secs(n("sqlite.bootstrap"))) = \(rate(n("sqlite.bootstrap_rate"))) | ≤ 2 s | \(verdict(n("sqlite.bootstrap").map { $0 <= 2 })) | \(secs(n("raw.bootstrap"))) | \(ratio(n("sqlite.bootstrap"), n("raw.bootstrap"))) |\(kinto(n("sqlite.bootstrap_rate"), "pull"))
            | the same bootstrap with pages gzipped, as from a daemon on another machine | \(secs(n("sqlite.bootstrap_gzip"))) | | | | \(ratio(n("sqlite.bootstrap_gzip"), n("raw.bootstrap"))) |\(noKinto)
            | the same changes only read: pages of 10,000 fetched over HTTP and decoded, not applied (what Kinto's pull does) | \(rate(n("sqlite.read_rate"))) | | | | |\(kinto(n("sqlite.read_rate"), "pull"))
            | the same bootstrap by a `gloss sync` process: time, peak RSS (pages are applied as they come) | \(secs(n("sqlite.client_bootstrap"))), \(mb(n("sqlite.client_rss_bootstrap"))) | | | | |\(noKinto)
            | a `gloss sync` bootstrap's peak RSS by size of the sync (the same kind of data, each size in a new daemon): \(memorySizes.map { "\(Int($0.changes / 1000))k" }.joined(separator: " / ")) changes | \(memorySizes.map { mb($0.mb) }.joined(separator: " / ")) | memory flat (the largest within 10 % of the one before) | \(verdict(memoryFlat)) | | |\(noKinto)
            | incremental sync of 1 change, writer (push + pull), p50 / p99 of 200 | \(ms(n("sqlite.incremental_writer_p50"))) / \(ms(n("sqlite.incremental_writer_p99"))) | p50 ≤ 15 ms | \(verdict(n("sqlite.incremental_writer_p50").map { $0 <= 15 })) | | |\(noKinto)
            | `gloss sync` with nothing to move, a new process (the replica after that bootstrap; median of 30) | \(ms(n("sqlite.noop_sync"))) | CLI commands ≤ 25 ms | \(verdict(n("sqlite.noop_sync").map { $0 <= 25 })) | | |\(noKinto)
            | incremental sync of 1 change, reader (pull), p50 / p99 | \(ms(n("sqlite.incremental_reader_p50"))) / \(ms(n("sqlite.incremental_reader_p99"))) | | | | |\(noKinto)
            | \(Int(n("concurrent.clients") ?? 0)) clients at once (4 users × 5 devices), each pushing \(Int(n("concurrent.changes") ?? 0)) changes and pulling its 4 siblings': pushed | \(rate(n("concurrent.throughput"))) (and \(rate(n("concurrent.pulled"))) pulled) | | | | |\(kintoConcurrent({ "\(rate(n("kinto.\($0).concurrent.rate"))) (and \(rate(n("kinto.\($0).concurrent.pulled"))) pulled)" }, { ratio(n("concurrent.throughput"), n("kinto.\($0).concurrent.rate")) }))
            | the same: sync latency p50 / p99 (each a `gloss sync` process; each Kinto client a process pushing one batch and pulling with `_since`) | \(ms(n("concurrent.p50"))) / \(ms(n("concurrent.p99"))) | | | | |\(kintoConcurrent({ "\(ms(n("kinto.\($0).concurrent.p50"))) / \(ms(n("kinto.\($0).concurrent.p99")))" }, { _ in "" }))
            | the same load, each device a long-lived process that syncs when told (as Kinto's clients are): pushed | \(rate(n("concurrent.longlived.throughput"))) (and \(rate(n("concurrent.longlived.pulled"))) pulled) | | | | |\(kintoConcurrent({ "\(rate(n("kinto.\($0).concurrent.rate")))" }, { ratio(n("concurrent.longlived.throughput"), n("kinto.\($0).concurrent.rate")) }))
            | CPU per pushed change in those timed rounds, clients + glossd: a `gloss sync` process per sync / long-lived clients (each change is pushed once and applied by 4 siblings) | \(perChange("concurrent")) / \(perChange("concurrent.longlived")) | | | \(storageFloor) | \(ratio(cpuPerChange("concurrent"), floorPerChange)) / \(ratio(cpuPerChange("concurrent.longlived"), floorPerChange)) |\(noKinto)
            | glossd RSS idle / after the pushes / peak under the concurrent load | \(mb(n("sqlite.rss_idle"))) / \(mb(n("sqlite.rss_push"))) / \(mb(n("concurrent.rss_peak"))) | idle ≤ 64 MB | \(verdict(n("sqlite.rss_idle").map { $0 <= 64 })) | | |\(noKinto)
            | glossd RSS 3 s after the pushes / after the bootstraps / 3 s after them (idle again: it gives memory back after 2 s without a request) | \(mb(n("sqlite.rss_push_idle"))) / \(mb(n("sqlite.rss_bootstrap"))) / \(mb(n("sqlite.rss_bootstrap_idle"))) | idle ≤ 64 MB | \(verdict(n("sqlite.rss_push_idle").flatMap { p in n("sqlite.rss_bootstrap_idle").map { max(p, $0) <= 64 } })) | | |\(noKinto)
            | database sizes after the run: replica / server | \(mb(n("sqlite.size_replica"))) / \(mb(n("sqlite.size_server"))) | | | | |\(noKinto)

            The client gzips request bodies and asks for gzipped answers unless the daemon is on the
            same machine (a loopback address), so the main rows, on loopback, move JSON as it is
            (there only request bodies of 64 KiB to 1 MiB are gzipped, such as the concurrent load's
            pushes: see PERFORMANCE.md); the gzipped rows show what compressing costs the same two
            processes.
            The bootstrap's raw column is the least the same work costs in SQLite (read the log rows,
            store and index the excerpts, store the annotations), so its ratio is Gloss ÷ raw time.
            Kinto's pull is not the same work as a bootstrap: its client only reads the records, while
            a Gloss replica also merges, stores and full-text indexes them. The row after the bootstrap
            is the like-for-like: the same changes read from glossd and decoded by the client's page
            reader, nothing stored (medians of 3).
            Kinto's rows are records of the same shape (notes and tags on excerpts) pushed through
            `/v1/batch` (2,000 per batch, plain basicauth) and pulled with `_since`: \(Int(n("kinto.memory.records") ?? 0)) records
            on the memory backend, \(Int(n("kinto.postgresql.records") ?? 0)) on PostgreSQL. Kinto's push slows as a
            collection grows, so it is measured at these smaller sizes, which favours Kinto. The bootstrap is compared as a rate (changes or records per second).\(kintoConcurrentNote)


            """

        // PostgreSQL
        if n("pg1.push_annotations") != nil {
            out += """
                ## Sync through glossd on PostgreSQL, loopback (\(Int(n("pg.excerpts") ?? 0)) excerpts + as many annotations)

                | measure | 1 daemon | 2 daemons (writer on one, reader on the other) |
                |---|---|---|
                | push of notes and tags | \(rate(n("pg1.push_annotations"))) | \(rate(n("pg2.push_annotations"))) |
                | push of excerpts | \(rate(n("pg1.push_excerpts"))) | \(rate(n("pg2.push_excerpts"))) |
                | bootstrap | \(secs(n("pg1.bootstrap"))) | \(secs(n("pg2.bootstrap"))) |
                | incremental, writer p50 / p99 | \(ms(n("pg1.incremental_writer_p50"))) / \(ms(n("pg1.incremental_writer_p99"))) | \(ms(n("pg2.incremental_writer_p50"))) / \(ms(n("pg2.incremental_writer_p99"))) |
                | incremental, reader p50 / p99 | \(ms(n("pg1.incremental_reader_p50"))) / \(ms(n("pg1.incremental_reader_p99"))) | \(ms(n("pg2.incremental_reader_p50"))) / \(ms(n("pg2.incremental_reader_p99"))) |
                | glossd RSS idle / after push / 3 s after it | \(mb(n("pg1.rss_idle"))) / \(mb(n("pg1.rss_push"))) / \(mb(n("pg1.rss_push_idle"))) | \(mb(n("pg2.rss_idle"))) / \(mb(n("pg2.rss_push"))) / \(mb(n("pg2.rss_push_idle"))) |
                | bootstrap by a `gloss sync` process: peak RSS | \(mb(n("pg1.client_rss_bootstrap"))) | \(mb(n("pg2.client_rss_bootstrap"))) |


                """
        }

        out += """
            ## The limit, raw SQLite on the same rows (`gloss-bench raw-sqlite`)

            | step | rate |
            |---|---|
            | Gloss's corpus parser alone (ids included) | \(rate(n("raw.parse"))) |
            | excerpt rows in one transaction | \(rate(n("raw.excerpt_rows"))) |
            | excerpt rows + FTS5 rebuild | \(rate(n("raw.import"))) |
            | the FTS5 rebuild alone, 16 MiB of pending terms as a replica builds it / FTS5's default 1 MiB | \(secs(n("raw.fts_rebuild"))) / \(secs(n("raw.fts_rebuild_default"))) |
            | log rows of excerpt JSON (as the daemon stores a push) | \(rate(n("raw.log_excerpts"))) |
            | annotations as the daemon stores them (log row + field value) | \(rate(n("raw.server_annotations"))) |
            | annotations as a replica stores them (note rows + full-text index, tag rows) | \(rate(n("raw.replica_annotations"))) |

            All in one transaction, WAL, synchronous=NORMAL, through the same thin libsqlite3 wrapper
            Gloss uses. The daemon's rows are stored in the daemon's own schema (its migration:
            indexes, foreign keys) with the same values (the user's number as the daemon keys its
            rows, each change's id, kind, excerpt, field key and JSON); what raw SQLite leaves out
            is Gloss's own work: HTTP, decoding, checking and merging.

            """
        return out
    }
}
