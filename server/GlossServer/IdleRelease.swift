import CMalloc
import Dispatch
import Foundation
import Hummingbird
import Synchronization

/// Gives memory back once the daemon has served no request for `quiet`: `release` runs once
/// per idle spell, `quiet` after the last request handler of a burst returned, and starts only
/// when no handler is running. (A request that arrives meanwhile runs beside it, and a large
/// answer may still be on its way to a slow client: the release then costs that request some
/// speed, nothing else.)
/// glossd's release empties the store's page caches and returns malloc's free memory to the
/// system (`malloc_trim`). Without it a daemon keeps holding what it used at its peak: after a
/// push of 100k changes 158–190 MB, 46–62 MB three seconds later with it; after two reads of
/// them 221–244 MB, 64–82 MB with it. What stays is mostly the free space at the end of each
/// thread's malloc heap, which `malloc_trim` does not reach. Fixing glibc's thresholds so that
/// it is trimmed as it frees brought that to 38–43 MB but made the daemon fault its pages in
/// again and again (a read of 100k changes: 9.5k → 78k page faults, +50 % CPU): not done.
public final class IdleRelease: Sendable {
    public let quiet: Duration
    private let release: @Sendable () async -> Void
    private let state = Mutex(State())
    private let releases = Atomic<Int>(0)

    private struct State {
        var inFlight = 0
        var lastEnded = ContinuousClock.now
        var waiting = false
    }

    public init(quiet: Duration, release: @escaping @Sendable () async -> Void) {
        self.quiet = quiet
        self.release = release
    }

    /// How many times `release` has run.
    public var count: Int { releases.load(ordering: .relaxed) }

    /// A request starts.
    public func begin() {
        state.withLock { $0.inFlight += 1 }
    }

    /// A request ends: the release waits until `quiet` has passed with none in flight.
    public func end() {
        let start = state.withLock { s in
            s.inFlight -= 1
            s.lastEnded = .now
            defer { s.waiting = true }
            return !s.waiting
        }
        if start { Task { await waitThenRelease() } }
    }

    /// Sleeps until `quiet` has passed since the last request ended, then releases. If a request
    /// is in flight it stops waiting instead: that request's `end()` starts the wait again.
    private func waitThenRelease() async {
        while true {
            enum Next { case sleep(Duration), release, stop }
            let next: Next = state.withLock { s in
                let idle = ContinuousClock.now - s.lastEnded
                if s.inFlight == 0, idle < quiet { return .sleep(quiet - idle) }
                s.waiting = false
                return s.inFlight > 0 ? .stop : .release
            }
            switch next {
            case .sleep(let wait): try? await Task.sleep(for: wait)
            case .stop: return
            case .release:
                await release()
                releases.add(1, ordering: .relaxed)
                return
            }
        }
    }

    /// Returns the heap's free memory to the system (`malloc_trim`), on a Dispatch thread: with
    /// a large heap it takes milliseconds, which Swift's cooperative threads should not block.
    public static func trimHeap() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global(qos: .utility).async {
                malloc_trim(0)
                done.resume()
            }
        }
    }
}

extension IdleRelease {
    /// Caps glibc's malloc arenas at two per core unless `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES`
    /// already say how many; returns the cap set, nil when left alone. glibc gives threads that
    /// contend for the heap arenas of their own, up to 8 per core (16 here), and each keeps freed
    /// memory at its end that `malloc_trim` does not return. A daemon given three bootstraps of
    /// 100k + 100k and three gzipped ones kept 12.5–17.0 MB of anonymous memory once idle with 4
    /// arenas, 9.3–22.3 MB without a cap; one arena per core kept 5.9–10.4 MB but made excerpt
    /// pushes about 10 % slower, its threads waiting for each other's arena locks (PERFORMANCE.md).
    /// Call before the daemon starts its threads.
    @discardableResult
    public static func limitMallocArenas(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32? {
        if environment["MALLOC_ARENA_MAX"] != nil || environment["GLIBC_TUNABLES"]?.contains("arena_max") == true { return nil }
        let arenas = Int32(2 * max(1, ProcessInfo.processInfo.activeProcessorCount))
        return mallopt(M_ARENA_MAX, arenas) == 1 ? arenas : nil
    }

    /// This process's resident memory in bytes (`/proc/self/statm`), 0 where it cannot be read.
    public static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }
}

/// Tells `IdleRelease` when each request starts and ends.
struct IdleMiddleware: RouterMiddleware {
    typealias Context = GlossRequestContext
    let idle: IdleRelease

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        idle.begin()
        defer { idle.end() }
        return try await next(request, context)
    }
}
