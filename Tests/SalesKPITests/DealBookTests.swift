import Testing
import Worker

@testable import SalesKPI

@Suite("Deal book")
struct DealBookTests {
    /// Against a plain dictionary that keeps the superseding outcome and forgets by scanning.
    @Test("decisions and pruning match a plain model under random outcomes over many days")
    func matchesPlainModel() {
        var rng = SplitMix64(seed: 3)
        var book = DealBook()
        var model: [DealBook.Key: DealBook.Outcome] = [:]
        let day = Timestamp.millisPerDay
        var horizon: EpochMillis = 0
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
            #expect(book.record(key, outcome) == expected)
            if step % 500 == 499 {
                horizon += day / 2 + EpochMillis(rng.next() % UInt64(day))
                book.prune(olderThan: horizon)
                model = model.filter { $0.value.occurredAt >= horizon }
                #expect(book.count == model.count)
            }
            if step % 1300 == 0 { _ = book.takeChanges() }
        }
    }
}
