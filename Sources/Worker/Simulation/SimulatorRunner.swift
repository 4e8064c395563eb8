import Foundation
import Kafka
import Logging
import SalesKPI
import Synchronization

/// Feeds the simulated CRM into the raw topics on an accelerated clock: first `backfillDays` of
/// history as fast as the producer goes, then `speedMillis` of business time per wall second,
/// never past the wall clock: the worker dead-letters events from the future (`time.max_future`),
/// so once the simulated clock has caught up with the real one it follows it.
package final class SimulatorRunner: Sendable {
    let config: ResolvedConfig
    let bootstrap: String
    let logger: Logger
    let backfillDays: Int
    let maxDays: Int?
    private let stopRequested = StopSignal()
    private let producedCount = Atomic<Int>(0)
    private let simulatedTime = Atomic<Int64>(0)

    package init(config: ResolvedConfig, bootstrap: String, logger: Logger, backfillDays: Int = 28, maxDays: Int? = nil)
    {
        self.config = config
        self.bootstrap = bootstrap
        self.logger = logger
        self.backfillDays = backfillDays
        self.maxDays = maxDays
    }

    package func stop() { stopRequested.stop() }
    package var produced: Int { producedCount.load(ordering: .relaxed) }
    /// The simulated business time reached so far.
    package var clock: EpochMillis { simulatedTime.load(ordering: .relaxed) }

    package func run() throws(KafkaError) {
        let producer = try KafkaProducer(
            properties: KafkaProperties.producer(config.worker.kafka, bootstrap: bootstrap))
        let live = min(config.simulatorStart, Pipeline.wallClock())
        let day = Timestamp.millisPerDay
        // History starts at a month start so month targets see whole months.
        let first = config.settings.calendar.interval(.month, containing: live - EpochMillis(backfillDays) * day).start
        var crm = SimulatedCRM(seed: UInt64(config.worker.simulator.seed), firstDay: first, spikeFrom: live)
        let topics = config.worker.topics
        func send(_ e: SimulatedEvent) throws(KafkaError) {
            let topic =
                switch e.topic {
                case .deals: topics.deals
                case .customers: topics.customers
                case .spend: topics.spend
                }
            try producer.send(OutgoingMessage(topic: topic, key: e.key, value: e.json))
            producedCount.add(1, ordering: .relaxed)
        }
        logger.info(
            "simulator: backfilling history",
            metadata: ["days": "\(backfillDays)", "from": "\(Timestamp.format(first))"])
        var dayStart = first
        var pending: [SimulatedEvent] = []
        while dayStart < live, !stopRequested.isRequested {
            for e in crm.events(forDay: dayStart) {
                if e.time <= live { try send(e) } else { pending.append(e) }
            }
            dayStart += day
        }
        producer.flush(timeoutMs: 30_000)
        simulatedTime.store(live, ordering: .relaxed)
        logger.info("simulator: live", metadata: ["speed": "\(config.worker.simulator.speed) per second"])
        let wallStart = ContinuousClock.now
        let lastDay = maxDays.map { live + EpochMillis($0) * day }
        repeat {
            let elapsed = ContinuousClock.now - wallStart
            let wallMillis = elapsed.milliseconds
            let now = min(live + wallMillis * config.simulatorSpeedMillis / 1000, Pipeline.wallClock())
            if let lastDay, now >= lastDay { break }
            while dayStart <= now {
                pending.append(contentsOf: crm.events(forDay: dayStart))
                dayStart += day
            }
            var k = 0
            while k < pending.count, pending[k].time <= now {
                try send(pending[k])
                k += 1
            }
            pending.removeFirst(k)
            simulatedTime.store(now, ordering: .relaxed)
            producer.pollDeliveries(timeoutMs: 0)
        } while !stopRequested.wait(upTo: .milliseconds(50))
        producer.flush(timeoutMs: 10_000)
        logger.info("simulator stopped", metadata: ["produced": "\(produced)"])
    }
}
