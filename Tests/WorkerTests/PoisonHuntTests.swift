import Kafka
import Testing

@testable import Worker

/// The rules that decide when a stage takes one record per transaction and which record it
/// dead-letters, without Kafka.
@Suite("Poison hunt")
struct PoisonHuntTests {
    let tooLarge = KafkaError(code: 10, message: "Message size too large")
    let down = KafkaError(code: -195, message: "all brokers down", isRetriable: true)
    let record = PoisonHunt.Position(source: TopicPartition("crm.deals", 4), offset: 100)

    func failed(_ error: KafkaError, alone: PoisonHunt.Position? = nil, commits: Int = 0) -> PoisonHunt.RunReport {
        PoisonHunt.RunReport(failure: error, inputCommits: commits, failedAlone: alone)
    }

    @Test("errors that are not about a record never make the stage isolate or condemn anything")
    func brokerTroubleIsNotARecord() {
        var hunt = PoisonHunt()
        for _ in 0..<10 { hunt.runEnded(failed(down, alone: record)) }
        #expect(!hunt.isolating && hunt.condemned.isEmpty)
    }

    @Test("three record failures in a row isolate; the record that fails alone is condemned, then released")
    func isolatesThenCondemns() {
        var hunt = PoisonHunt()
        for k in 1...PoisonHunt.rebuildsBeforeIsolation {
            #expect(!hunt.isolating, "after \(k - 1) failures")
            // Failing with several records in the transaction names none of them.
            hunt.runEnded(failed(tooLarge, alone: nil))
        }
        #expect(hunt.isolating && hunt.condemned.isEmpty)
        // Good records commit one by one, then the culprit fails alone.
        hunt.runEnded(failed(tooLarge, alone: record, commits: 100))
        #expect(hunt.condemned[record]?.code == 10)
        #expect(hunt.isolating)
        // Dead-lettered and committed past: back to normal.
        hunt.runEnded(PoisonHunt.RunReport(inputCommits: 1, condemnedCommitted: [record]))
        #expect(!hunt.isolating && hunt.condemned.isEmpty)
    }

    @Test("a run that commits input in between starts the count again")
    func commitsReset() {
        var hunt = PoisonHunt()
        hunt.runEnded(failed(tooLarge))
        hunt.runEnded(failed(tooLarge))
        hunt.runEnded(failed(tooLarge, commits: 3))
        #expect(!hunt.isolating, "the third run committed before it failed")
        hunt.runEnded(failed(tooLarge))
        hunt.runEnded(failed(tooLarge))
        #expect(hunt.isolating)
    }

    @Test("isolation without a culprit ends after enough one-record commits")
    func givesUp() {
        var hunt = PoisonHunt()
        for _ in 0..<PoisonHunt.rebuildsBeforeIsolation { hunt.runEnded(failed(tooLarge)) }
        hunt.runEnded(PoisonHunt.RunReport(inputCommits: PoisonHunt.isolatedCommitsToGiveUp))
        #expect(!hunt.isolating)
    }
}
