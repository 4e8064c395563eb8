import TestSupport
import Testing

@testable import SalesKPI

@Suite("Lower bound")
struct LowerBoundTests {
    /// Against a linear search, on sorted arrays with repeats, of every length up to 40, for
    /// values below, between, on and above their elements.
    @Test("finds the first element not before the one sought, as a linear search does")
    func matchesLinearSearch() {
        var rng = seededGenerator(19)
        for length in 0...40 {
            let values = (0..<length).map { _ in Int(rng.next() % 30) }.sorted()
            for sought in -1...31 {
                let expected = values.firstIndex { $0 >= sought } ?? values.count
                #expect(values.lowerBound { $0 < sought } == expected)
                // A slice keeps its own indices.
                let slice = values.dropFirst(length / 3)
                #expect(slice.lowerBound { $0 < sought } == (slice.firstIndex { $0 >= sought } ?? slice.endIndex))
            }
        }
    }
}
