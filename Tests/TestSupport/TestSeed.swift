import Foundation
import Worker

/// The generator of a random test: seeded, with the seed printed so a failure can be replayed,
/// and replaceable with `SALESPULSE_TEST_SEED` to run the test on other draws.
package func seededGenerator(_ seed: UInt64, test: String = #function) -> SplitMix64 {
    let chosen = ProcessInfo.processInfo.environment["SALESPULSE_TEST_SEED"].flatMap { UInt64($0) } ?? seed
    print("random test \(test): seed \(chosen) (SALESPULSE_TEST_SEED=\(chosen) replays it)")
    return SplitMix64(seed: chosen)
}
