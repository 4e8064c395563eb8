import Foundation
import Kafka
import SalesKPI
import Synchronization

/// Decodes a polled batch of raw events on a thread of its own, ahead of the aggregate stage,
/// which applies them in order: without the route stage, decoding was a quarter of the stage's
/// thread, and that thread is what limits a worker's throughput (README, Performance).
///
/// The thread claims the batch's messages one at a time from `from` on and decodes them in
/// order; the stage decodes the first ones itself, then takes what the thread has decoded. When
/// it reaches a message the thread has not claimed yet, the stage claims the next few (`split`)
/// and decodes them itself, and the thread goes on after them: the stage never waits for the
/// thread to wake or to catch up, only, at most, for the one message being decoded. (Claiming
/// all the rest instead left the stage seven eighths of nearly one batch in three, each time
/// before the thread had decoded any, while it waited for a core: the thread decoded 57–62 % of
/// a pre-keyed run's events, and 84–87 % this way.) The claims and `decoded` carry the batch's
/// number, so a thread late from one batch cannot claim messages of the next.
///
/// Every message the thread claimed is decoded before its batch is freed (`finish`, from
/// `KafkaConsumer.poll`'s `delivered`): the thread only reads the batch meanwhile.
final class DecodeAhead: @unchecked Sendable {
    /// A batch shorter than this is decoded by the stage: handing it over would cost more than
    /// it saves.
    static let minimumBatch = 64

    private struct Job: Sendable {
        var batch: PolledBatch
        var from: Int
        var now: EpochMillis
        var number: UInt64
    }

    /// The next message to claim, as (batch number << 32 | position).
    private let next = Atomic<UInt64>(0)
    /// How far the thread has decoded, as (batch number << 32 | position − `from` + 1 of the
    /// latest message it decoded): it decodes its claims in order, so every claim of its before
    /// that is decoded too.
    private let decoded = Atomic<UInt64>(0)
    private let job = Mutex<(job: Job?, stopping: Bool)>((nil, false))
    private let work = DispatchSemaphore(value: 0)
    private let decoder: EventDecoder
    /// The thread's outcomes, by position from `from` on. Each slot is written by the thread
    /// before `decoded` passes it and read by the stage only after.
    private let outcomes: UnsafeMutableBufferPointer<DecodeOutcome?>

    // The stage's side, only touched on its thread.
    private var current: Job?
    /// Where the stage's claims of the current batch end: it decodes the messages before this
    /// itself.
    private var ownUntil = 0
    /// Where the thread's claims of the current batch ended, as far as the stage knows.
    private var threadClaimEnd = 0
    private var number: UInt64 = 0

    init(name: String, decoder: EventDecoder, maxBatch: Int) {
        self.decoder = decoder
        outcomes = .allocate(capacity: maxBatch)
        outcomes.initialize(repeating: nil)
        let thread = Thread { [self] in loop() }
        thread.name = "\(name)-decoder"
        thread.start()
    }

    deinit {
        outcomes.deinitialize()
        outcomes.deallocate()
    }

    /// Where the thread starts in a batch of `count` messages, and how many the stage claims
    /// when it overtakes the thread: the stage decodes these while the thread wakes up.
    static func split(_ count: Int) -> Int { max(1, count / 32) }

    /// Starts decoding `batch` from position `from` on, as `decoder.decode(_:now:)` would.
    func start(_ batch: PolledBatch, from: Int, now: EpochMillis) {
        precondition(current == nil && batch.count <= outcomes.count)
        number &+= 1
        let job = Job(batch: batch, from: from, now: now, number: number)
        decoded.store(number << 32, ordering: .releasing)
        next.store(number << 32 | UInt64(from), ordering: .releasing)
        current = job
        (ownUntil, threadClaimEnd) = (from, from)
        self.job.withLock { $0.job = job }
        work.signal()
    }

    /// The outcome of the message at `position` of the current batch, nil before the thread's
    /// part and for messages the stage claimed. Positions are asked for in increasing order.
    func outcome(at position: Int) -> DecodeOutcome? {
        guard let job = current, position >= ownUntil else { return nil }
        let index = UInt64(position - job.from)
        if decodedCount(job) <= index {
            // Not decoded yet: claim it and the next ones unless the thread has claimed it
            // already (the messages before it that nobody claimed were not taken).
            var seen = next.load(ordering: .acquiring)
            while seen & 0xFFFF_FFFF <= UInt64(position) {
                let end = min(job.batch.count, position + Self.split(job.batch.count))
                let (taken, now) = next.compareExchange(
                    expected: seen, desired: job.number << 32 | UInt64(end), ordering: .acquiringAndReleasing)
                if taken {
                    noteThreadClaims(upTo: Int(seen & 0xFFFF_FFFF))
                    ownUntil = end
                    return nil
                }
                seen = now
            }
            waitForDecoded(index + 1, job)
        }
        return outcomes[Int(index)]
    }

    /// Ends the current batch: claims what the thread has not, and waits for what it has.
    func finish() {
        guard let job = current else { return }
        let was = next.exchange(job.number << 32 | UInt64(job.batch.count), ordering: .acquiringAndReleasing)
        noteThreadClaims(upTo: min(job.batch.count, Int(was & 0xFFFF_FFFF)))
        if threadClaimEnd > job.from { waitForDecoded(UInt64(threadClaimEnd - job.from), job) }
        current = nil
    }

    /// Notes where `next` stood when the stage moved it on: only the thread moves it on from
    /// where the stage's last claim ended, so if it is past that, the thread's claims end there.
    private func noteThreadClaims(upTo seen: Int) {
        if seen > ownUntil { threadClaimEnd = seen }
    }

    /// Ends the thread; any batch must be finished first.
    func stop() {
        job.withLock { $0.stopping = true }
        work.signal()
    }

    private func decodedCount(_ job: Job) -> UInt64 {
        let d = decoded.load(ordering: .acquiring)
        return d >> 32 == job.number ? d & 0xFFFF_FFFF : 0
    }

    /// Waits for the thread to finish a message it claimed: about a microsecond, unless the
    /// thread lost its core meanwhile.
    private func waitForDecoded(_ count: UInt64, _ job: Job) {
        var spins = 0
        while decodedCount(job) < count {
            spins += 1
            if spins > 64 { sched_yield() }
        }
    }

    private func loop() {
        while true {
            work.wait()
            let (job, stopping) = self.job.withLock { s in
                defer { s.job = nil }
                return s
            }
            guard let job else {
                if stopping { return }
                continue
            }
            decode(job)
        }
    }

    /// Claims and decodes the job's messages in order until none is left to claim.
    private func decode(_ job: Job) {
        let end = job.number << 32 | UInt64(job.batch.count)
        var claim = next.load(ordering: .acquiring)
        while claim >> 32 == job.number, claim < end {
            let (claimed, seen) = next.compareExchange(
                expected: claim, desired: claim + 1, ordering: .acquiringAndReleasing)
            guard claimed else {
                claim = seen
                continue
            }
            let position = Int(claim & 0xFFFF_FFFF)
            outcomes[position - job.from] = job.batch.value(at: position).map { decoder.decode($0, now: job.now) }
            decoded.store(job.number << 32 | UInt64(position - job.from + 1), ordering: .releasing)
            claim += 1
        }
    }
}
