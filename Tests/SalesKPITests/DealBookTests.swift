import TestSupport
import Testing
import Worker

@testable import SalesKPI

@Suite("Deal book")
struct DealBookTests {
    /// Against a plain dictionary that keeps the superseding outcome and forgets by scanning.
    @Test("decisions and pruning match a plain model under random outcomes over many days")
    func matchesPlainModel() {
        var rng = seededGenerator(3)
        var book = DealBook()
        var model: [DealBook.Key: DealBook.Outcome] = [:]
        let day = Timestamp.millisPerDay
        var horizon: EpochMillis = 0
        var log = ChangelogModel()
        for step in 0..<20_000 {
            let key = DealBook.Key(region: "r\(rng.next() % 3)", dealId: "d\(rng.next() % 400)")
            let t = horizon + EpochMillis(rng.next() % UInt64(5 * day))
            let outcome = DealBook.Outcome(
                occurredAt: t, eventId: "e\(step)", rep: "x", amount: .zero, cycleMillis: 0)
            let expected: DealBook.Decision
            if let existing = model[key] {
                expected = outcome.supersedes(existing) ? .replace(existing) : .superseded
            } else {
                expected = .count
            }
            if expected != .superseded { model[key] = outcome }
            let decision = book.record(key, outcome)
            #expect(decision == expected)
            if step % 500 == 499 {
                horizon += day / 2 + EpochMillis(rng.next() % UInt64(day))
                book.prune(olderThan: horizon)
                model = model.filter { $0.value.occurredAt >= horizon }
                #expect(book.count == model.count)
            }
            if step % 1300 == 0 { log.take(book.takeChanges()) }
        }
        // What the changelog holds restores the same book: every slot written once, under its
        // latest outcome, and no part deleted while an outcome in it is current.
        log.take(book.takeChanges())
        var restored = DealBook()
        for (part, outcomes) in log.parts.sorted(by: { $0.key < $1.key }) { restored.restore(.chunk(part), outcomes) }
        restored.prune(olderThan: horizon)
        #expect(restored == book)
        #expect(restored.count == model.count)
    }

    /// The parts a compacted changelog topic would keep.
    private struct ChangelogModel {
        var parts: [Int64: [(DealBook.Key, DealBook.Outcome)]] = [:]

        mutating func take(
            _ changes: (
                removed: [DealBook.Part], written: [(part: DealBook.Part, outcomes: [(DealBook.Key, DealBook.Outcome)])]
            )
        ) {
            for case .chunk(let n) in changes.removed { parts[n] = nil }
            for (part, outcomes) in changes.written {
                guard case .chunk(let n) = part else { continue }
                parts[n] = outcomes
            }
        }
    }
}

@Suite("Changelog chunk sizes")
struct ChunkSizeTests {
    @Test("a flush interval with more ids than one record should hold is written as several chunks")
    func dedupeChunks() {
        var window = DedupeWindow()
        let ids = (0..<40_000).map { "event-\($0)-0123456789abcdef" }
        for (k, id) in ids.enumerated() {
            let inserted = window.insert(id, at: EpochMillis(k))
            #expect(inserted)
        }
        var written: [[String]] = []
        for case .written(_, _, let chunk) in window.takeChanges() { written.append(chunk) }
        #expect(written.count > 1)
        for chunk in written { #expect(chunk.reduce(0) { $0 + $1.utf8.count + 2 } < DedupeWindow.chunkBytes + 64) }
        #expect(Array(written.joined()) == ids)
        var restored = DedupeWindow()
        for (k, chunk) in written.enumerated() { restored.restore(.chunk(Int64(k)), newest: 40_000, ids: chunk) }
        #expect(ids.allSatisfy { restored.contains($0) })
    }

    @Test("deal outcomes of one flush interval are split the same way, each written once")
    func dealChunks() {
        var book = DealBook()
        for k in 0..<12_000 {
            let key = DealBook.Key(region: "east", dealId: "deal-\(k % 10_000)")
            let outcome = DealBook.Outcome(
                occurredAt: EpochMillis(k), eventId: "event-\(k)-0123456789", rep: "rep-\(k % 50)", amount: .zero,
                cycleMillis: 0)
            _ = book.record(key, outcome)
        }
        let (_, written) = book.takeChanges()
        #expect(written.count > 1)
        let keys = written.flatMap { $0.outcomes.map(\.0.dealId) }
        #expect(keys.count == 10_000 && Set(keys).count == 10_000)
        var restored = DealBook()
        for (part, outcomes) in written { restored.restore(part, outcomes) }
        #expect(restored == book)
        // Everything was written once: a second take has nothing.
        let again = book.takeChanges()
        #expect(again.written.isEmpty)
    }
}
