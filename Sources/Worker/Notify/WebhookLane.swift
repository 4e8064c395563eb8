import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// One webhook's own queue and thread: alerts go out one at a time at its rate limit, with
/// retries and exponential backoff, so a webhook that is slow or down delays only itself
/// (docs/notify.md). A thread rather than a task: backoff and rate-limit waits, and requests
/// waited for on NIO's event loop, must not depend on the cooperative pool, which whatever else
/// runs in the process may keep busy.
final class WebhookLane: @unchecked Sendable {
    // @unchecked Sendable: `jobs` and `finished` are only touched under `condition`.
    struct Job: Sendable {
        var alert: AlertNotice
        var done: @Sendable (Outcome) -> Void
    }

    enum Outcome: Sendable, Equatable {
        case sent
        /// Every attempt failed (or the webhook refused the request for good): dead-lettered.
        case failed(String)
    }

    let webhook: NotifyConfig.Webhook
    private let config: NotifyConfig
    private let client: HTTPClient
    private let logger: Logger
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var finished = false
    private let ended = DispatchSemaphore(value: 0)

    init(webhook: NotifyConfig.Webhook, config: NotifyConfig, client: HTTPClient, logger: Logger) {
        self.webhook = webhook
        self.config = config
        self.client = client
        self.logger = logger
        let thread = Thread { [self] in
            loop()
            ended.signal()
        }
        thread.name = "notify-\(webhook.name)"
        thread.start()
    }

    func enqueue(_ job: Job) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the queue drain and ends the lane.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
        ended.wait()
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty, !finished { condition.wait() }
        return jobs.isEmpty ? nil : jobs.removeFirst()
    }

    private func loop() {
        var bucket = TokenBucket(perMinute: webhook.ratePerMinute)
        // After a dead letter, one try per alert until one gets through: a webhook that is down
        // costs one timeout per alert, not the whole backoff.
        var failing = false
        while let job = next() {
            let outcome = deliver(job.alert, attempts: failing ? 1 : config.attempts, bucket: &bucket)
            if case .failed(let why) = outcome {
                logger.error(
                    "webhook failed; alert dead-lettered",
                    metadata: ["webhook": "\(webhook.name)", "alert": "\(job.alert.alertId)", "error": "\(why)"])
            }
            failing = outcome != .sent
            job.done(outcome)
        }
    }

    private func deliver(_ alert: AlertNotice, attempts: Int, bucket: inout TokenBucket) -> Outcome {
        var backoff = config.initialBackoffMillis
        var lastError = ""
        for attempt in 1...attempts {
            bucket.take()
            let request = WebhookRequest.make(
                for: alert, to: webhook, nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
            do {
                let http = try HTTPClient.Request(
                    url: request.url, method: .POST,
                    headers: ["Content-Type": "application/json; charset=utf-8"], body: .bytes(request.body))
                let response = try client.execute(
                    request: http, deadline: .now() + .milliseconds(config.timeoutMillis)
                ).wait()
                let body = response.body.map { Array(buffer: $0) } ?? []
                let status = Int(response.status.code)
                if (200..<300).contains(status), WebhookRequest.accepted(kind: webhook.kind, body: body) {
                    return .sent
                }
                lastError = "HTTP \(status): \(String(decoding: body.prefix(300), as: UTF8.self))"
                // A request the webhook refuses as such will not get better by repeating it.
                if (400..<500).contains(status), status != 408, status != 429 { break }
                if status == 429, let seconds = response.headers.first(name: "Retry-After").flatMap({ Int64($0) }) {
                    backoff = max(backoff, min(seconds * 1000, config.maxBackoffMillis))
                }
            } catch {
                lastError = "\(error)"
            }
            if attempt < attempts {
                Thread.sleep(forTimeInterval: Double(backoff) / 1000)
                backoff = min(backoff * 2, config.maxBackoffMillis)
            }
        }
        return .failed(lastError)
    }
}
