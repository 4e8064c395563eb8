import Foundation
import SalesKPI
import Synchronization

/// Encodes an aggregate stage's summaries to JSON on a thread of its own, while the stage goes
/// on applying events: encoding was about a seventh of the stage's thread, and the stage's
/// thread is what limits a worker's throughput.
///
/// Only the encoding moves: the stage hands over the summaries of a poll at a time and later
/// takes the encoded records back, in the order it handed them over, and produces them itself,
/// so its producer and its transaction stay on one thread. Before a commit it waits for all of
/// them (`take(wait: true)`), so a transaction holds every summary the committed input produced.
final class SummaryEncoder: Sendable {
    struct Encoded: Sendable {
        var key: [UInt8]
        var value: [UInt8]
    }

    private struct State {
        var jobs: [[Summary]] = []
        var done: [Encoded] = []
        /// Jobs handed over and not yet encoded (queued or being encoded).
        var pending = 0
        var stopping = false
    }

    private let state = Mutex(State())
    private let work = DispatchSemaphore(value: 0)
    private let progress = DispatchSemaphore(value: 0)
    private let currency: String
    private let calendar: BusinessCalendar

    init(name: String, currency: String, calendar: BusinessCalendar) {
        self.currency = currency
        self.calendar = calendar
        let thread = Thread { [self] in loop() }
        thread.name = "\(name)-encoder"
        thread.start()
    }

    /// Hands over summaries to encode, in order after everything handed over before.
    func submit(_ summaries: [Summary]) {
        guard !summaries.isEmpty else { return }
        state.withLock {
            $0.jobs.append(summaries)
            $0.pending += 1
        }
        work.signal()
    }

    /// The records encoded so far, in submission order; with `wait`, all of them.
    func take(wait: Bool) -> [Encoded] {
        while wait, state.withLock({ $0.pending > 0 }) { progress.wait() }
        return state.withLock { s in
            defer { s.done.removeAll() }
            return s.done
        }
    }

    /// Ends the thread once the jobs handed over are done; their results are dropped.
    func stop() {
        state.withLock { $0.stopping = true }
        work.signal()
    }

    private func loop() {
        // One signal per job handed over and one for `stop`: each wake takes one job, or ends
        // the thread once there are none left and it is stopping.
        while true {
            work.wait()
            let next = state.withLock { s -> (job: [Summary]?, exit: Bool) in
                s.jobs.isEmpty ? (nil, s.stopping) : (s.jobs.removeFirst(), false)
            }
            if next.exit { return }
            guard let job = next.job else { continue }
            let encoded = job.map { summary in
                Encoded(key: summary.scope.idBytes, value: summary.json(currency: currency, calendar: calendar))
            }
            state.withLock { s in
                s.done.append(contentsOf: encoded)
                s.pending -= 1
            }
            progress.signal()
        }
    }
}
