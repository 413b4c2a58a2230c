import Foundation
import GlossModel
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Pulled pages fetched and decoded ahead of the one being applied, in order: a task of its own
/// asks for each page as soon as the one before it is decoded (a page's request needs the
/// previous page's cursor), and waits only once `maxPages` pages or `maxBytes` of answers are
/// ready and not yet taken. So the pull keeps reading while the replica is busy for longer than
/// a page takes to fetch: above all while it builds the full-text index of the excerpts pulled
/// so far (a second or so for 100k), which would otherwise stall the fetching after one page.
/// The bound keeps a sync's memory independent of its size.
final class PagesAhead: Sendable {
    typealias Outcome = Result<PullResponse, any Error>

    private struct State {
        var ready: [(Outcome, bytes: Int)] = []
        var bytes = 0
        var consumer: CheckedContinuation<Outcome, Never>?
        var producer: CheckedContinuation<Void, Never>?
        var closed = false
    }
    private let state = Mutex(State())
    let maxPages: Int
    let maxBytes: Int
    private let fetcher = Mutex<Task<Void, Never>?>(nil)

    /// Starts fetching the pages after `cursor`: `fetch` gets one page (its request from the
    /// cursor given) and returns it with the size of its answer; fetching ends after a page
    /// without `more`, an error (handed over like a page), or `close`.
    init(after cursor: Int64, maxPages: Int, maxBytes: Int, fetch: @escaping @Sendable (Int64) async throws -> (PullResponse, Int)) {
        self.maxPages = max(1, maxPages)
        self.maxBytes = maxBytes
        let task = Task { [self] in
            var cursor = cursor
            while !isClosed {
                let outcome: Outcome
                var bytes = 0
                do {
                    let (page, size) = try await fetch(cursor)
                    (outcome, bytes) = (.success(page), size)
                } catch {
                    outcome = .failure(error)
                }
                await put(outcome, bytes: bytes)
                guard case .success(let page) = outcome, page.more else { return }
                cursor = page.cursor
            }
        }
        fetcher.withLock { $0 = task }
    }

    private var isClosed: Bool { state.withLock { $0.closed } }

    /// Whether a page is ready to be taken now.
    var hasPage: Bool { state.withLock { !$0.ready.isEmpty } }

    /// The next page in order (or the error that ended the fetching), waiting for it if needed.
    func take() async -> Outcome {
        await withCheckedContinuation { (waiter: CheckedContinuation<Outcome, Never>) in
            let (outcome, producer) = state.withLock { s -> (Outcome?, CheckedContinuation<Void, Never>?) in
                guard !s.ready.isEmpty else {
                    s.consumer = waiter
                    return (nil, nil)
                }
                let (outcome, bytes) = s.ready.removeFirst()
                s.bytes -= bytes
                defer { s.producer = nil }
                return (outcome, s.producer)
            }
            producer?.resume()
            if let outcome { waiter.resume(returning: outcome) }
        }
    }

    /// Stops the fetching (a request under way is cancelled; its page is dropped).
    func close() {
        let producer = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.closed = true
            s.ready = []
            s.bytes = 0
            defer { s.producer = nil }
            return s.producer
        }
        producer?.resume()
        fetcher.withLock { $0?.cancel() }
    }

    /// Hands a page to a waiting consumer or queues it, then waits while the queue is full.
    private func put(_ outcome: Outcome, bytes: Int) async {
        let consumer = state.withLock { s -> CheckedContinuation<Outcome, Never>? in
            if let c = s.consumer {
                s.consumer = nil
                return c
            }
            if !s.closed {
                s.ready.append((outcome, bytes))
                s.bytes += bytes
            }
            return nil
        }
        consumer?.resume(returning: outcome)
        await withCheckedContinuation { (producer: CheckedContinuation<Void, Never>) in
            let full = state.withLock { s -> Bool in
                guard !s.closed, s.ready.count >= maxPages || s.bytes >= maxBytes else { return false }
                s.producer = producer
                return true
            }
            if !full { producer.resume() }
        }
    }
}
