import Foundation
import GlossServer
import Synchronization
import Testing

/// glossd gives memory back once idle: when, how often, and that sync goes on after it.
@Suite struct IdleReleaseTests {
    /// Waits (bounded) until `condition` holds.
    func eventually(within: Duration = .seconds(10), _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while !condition() {
            if ContinuousClock.now > deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    @Test(.timeLimit(.minutes(1))) func releasesOnceAfterEachQuietSpellAndNotWhileARequestRuns() async throws {
        // the quiet period is long against the test's own gaps (50 ms), so a late wake-up on a
        // busy machine cannot pass for a quiet spell
        let idle = IdleRelease(quiet: .milliseconds(1_000)) {}
        // a request in flight for longer than the quiet period: nothing released
        idle.begin()
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(idle.count == 0)
        idle.end()
        #expect(try await eventually { idle.count == 1 })
        // no requests, no further release
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(idle.count == 1)
        // requests 50 ms apart keep the daemon busy; one release after the last of them. They
        // come from a thread of their own: a task sleeping between them on the cooperative pool
        // (two threads here, shared with the other tests' blocking work) once woke 1 s late in
        // CI, which is a quiet spell. Should the machine still pause this thread for a quiet
        // period, a release then is right, and only the count after the burst is checked.
        let longestGap = await withCheckedContinuation { done in
            Thread.detachNewThread {
                var longest = Duration.zero
                var lastEnd: ContinuousClock.Instant?
                for _ in 0..<10 {
                    if let lastEnd { longest = max(longest, ContinuousClock.now - lastEnd) }
                    idle.begin()
                    idle.end()
                    lastEnd = .now
                    usleep(50_000)
                }
                done.resume(returning: longest)
            }
        }
        let afterBurst = idle.count
        if longestGap < idle.quiet { #expect(afterBurst == 1, "released while requests came every 50 ms (at most \(longestGap) apart)") }
        #expect(try await eventually { idle.count == afterBurst + 1 })
        // with no quiet period at all the release still waits for the last request to end
        let eager = IdleRelease(quiet: .zero) {}
        eager.begin()
        eager.begin()
        eager.end()  // one still in flight: the waiter stops
        try await Task.sleep(for: .milliseconds(300))
        #expect(eager.count == 0)
        eager.end()
        #expect(try await eventually { eager.count == 1 })
    }

    @Test func mallocArenasAreCappedUnlessTheEnvironmentSaysHowMany() {
        #expect(IdleRelease.limitMallocArenas(environment: ["MALLOC_ARENA_MAX": "4"]) == nil)
        #expect(IdleRelease.limitMallocArenas(environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=3"]) == nil)
        let cap = IdleRelease.limitMallocArenas(environment: [:])
        #expect(cap == Int32(2 * max(1, ProcessInfo.processInfo.activeProcessorCount)))
    }

    @Test func residentMemoryIsReadFromProc() {
        let rss = IdleRelease.residentBytes()
        #expect(rss > 1_000_000 && rss < 64 << 30, "\(rss)")
    }

    /// A real daemon gives memory back after a sync, says so in its log, and syncs on as before.
    @Test(.timeLimit(.minutes(2))) func aDaemonGivesMemoryBackWhenIdleAndSyncsOn() async throws {
        let daemon = try Daemon(arguments: ["--release-memory-after", "0.3"])
        let token = try daemon.addUser("alice")
        let a = try TestReplica(daemon: daemon, token: token)
        let b = try TestReplica(daemon: daemon, token: token)
        let sample = Sample.parsed.excerpts
        _ = try a.replica.importExcerpts(sample)
        for i in 0..<300 { _ = try a.replica.addNote(excerptID: sample[i % sample.count].id, body: "note \(i)") }
        #expect(try await a.sync().pushed == sample.count + 300)
        func released() -> Int {
            ((try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? "").components(separatedBy: "idle: gave memory back").count - 1
        }
        #expect(try await eventually { released() >= 1 }, "no release logged: \((try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? "")")
        #expect(try await b.sync().pulled == sample.count + 300)
        _ = try b.replica.addNote(excerptID: sample[0].id, body: "after the release")
        #expect(try await b.sync().pushed == 1)
        #expect(try await a.sync().pulled == 1)
        #expect(try a.replica.snapshot() == b.replica.snapshot())
        for (option, value) in [("release-memory-after", "-1"), ("release-memory-after", "1e300"), ("release-memory-after", "nan"), ("max-skew", "999999999999999999")] {
            let bad = try runProcess(
                TestSupport.binDir.appendingPathComponent("glossd").path,
                ["serve", "--database", daemon.dir + "/other.sqlite", "--port", "0", "--\(option)=\(value)"], timeout: 30)
            #expect(bad.status != 0 && bad.stderr.contains("--\(option) must be 0 to"), "\(option) \(value): \(bad.stderr)")
        }
    }
}
