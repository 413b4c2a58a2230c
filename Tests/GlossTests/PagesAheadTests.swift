import Foundation
import GlossModel
@testable import GlossSyncClient
import Synchronization
import Testing

/// The pull's read-ahead (`PagesAhead`) with a fetch function standing in for the daemon: page
/// N's cursor is N, and each page's request is made from the cursor of the one before it.
@Suite struct PagesAheadTests {
    struct Refused: Error {}

    /// The cursors the fetch function was asked for, in order.
    final class Asked: Sendable {
        private let cursors = Mutex<[Int64]>([])
        func add(_ c: Int64) { cursors.withLock { $0.append(c) } }
        var all: [Int64] { cursors.withLock { $0 } }
    }

    static func page(_ cursor: Int64, last: Int64) -> PullResponse {
        PullResponse(changes: [], cursor: cursor, more: cursor < last, serverStamp: Stamp(wall: 1, counter: 0, node: "test"))
    }

    /// Waits (at most a second) until `asked` holds `count` requests, then a little longer for
    /// any request beyond them.
    static func settle(_ asked: Asked, count: Int) async throws {
        for _ in 0..<200 where asked.all.count < count { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
    }

    static func takeAll(_ ahead: PagesAhead) async throws -> [Int64] {
        var cursors: [Int64] = []
        for _ in 0..<1_000 {
            let page = try await ahead.take().get()
            cursors.append(page.cursor)
            if !page.more { break }
        }
        return cursors
    }

    @Test func pagesComeInOrderAndFetchingWaitsOnceEnoughAreReady() async throws {
        let asked = Asked()
        let ahead = PagesAhead(after: 0, maxPages: 3, maxBytes: 1 << 30) { cursor in
            asked.add(cursor)
            return (Self.page(cursor + 1, last: 10), 100)
        }
        defer { ahead.close() }
        try await Self.settle(asked, count: 3)
        #expect(asked.all == [0, 1, 2])  // three pages ready, none taken: it waits
        #expect(ahead.hasPage)
        #expect(try await Self.takeAll(ahead) == Array(1...10))
        #expect(asked.all == Array(0...9))
    }

    @Test func theBytesReadyAreBoundedToo() async throws {
        let asked = Asked()
        let ahead = PagesAhead(after: 0, maxPages: 100, maxBytes: 250) { cursor in
            asked.add(cursor)
            return (Self.page(cursor + 1, last: 6), 100)
        }
        defer { ahead.close() }
        try await Self.settle(asked, count: 3)
        #expect(asked.all == [0, 1, 2])  // 300 bytes ready
        #expect(try await Self.takeAll(ahead) == Array(1...6))
    }

    @Test func anErrorComesAfterThePagesBeforeItAndEndsTheFetching() async throws {
        let asked = Asked()
        let ahead = PagesAhead(after: 0, maxPages: 8, maxBytes: 1 << 30) { cursor in
            asked.add(cursor)
            if cursor == 2 { throw Refused() }
            return (Self.page(cursor + 1, last: 10), 100)
        }
        defer { ahead.close() }
        #expect(try await ahead.take().get().cursor == 1)
        #expect(try await ahead.take().get().cursor == 2)
        let third = await ahead.take()
        #expect(throws: Refused.self) { try third.get() }
        try await Self.settle(asked, count: 3)
        #expect(asked.all == [0, 1, 2])
    }

    @Test func closingStopsAFetcherWaitingForRoom() async throws {
        let asked = Asked()
        let ahead = PagesAhead(after: 0, maxPages: 1, maxBytes: 1 << 30) { cursor in
            asked.add(cursor)
            return (Self.page(cursor + 1, last: 1_000), 100)
        }
        try await Self.settle(asked, count: 1)
        #expect(asked.all == [0])
        ahead.close()
        try await Self.settle(asked, count: 1)
        #expect(asked.all == [0])  // it stopped instead of asking for page 2
        #expect(!ahead.hasPage)
    }
}
