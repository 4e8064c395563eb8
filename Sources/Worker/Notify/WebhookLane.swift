import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// One webhook's own queue: alerts go out one at a time at its rate limit, with retries and
/// exponential backoff, so a webhook that is slow or down delays only itself (docs/notify.md).
final class WebhookLane: Sendable {
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
    private let continuation: AsyncStream<Job>.Continuation
    private let task: Task<Void, Never>

    init(webhook: NotifyConfig.Webhook, config: NotifyConfig, client: HTTPClient, logger: Logger) {
        self.webhook = webhook
        let (stream, continuation) = AsyncStream<Job>.makeStream()
        self.continuation = continuation
        task = Task {
            var bucket = TokenBucket(perMinute: webhook.ratePerMinute)
            // After a dead letter, one try per alert until one gets through: a webhook that is
            // down costs one timeout per alert, not the whole backoff.
            var failing = false
            for await job in stream {
                let outcome = await Self.deliver(
                    job.alert, webhook: webhook, config: config, attempts: failing ? 1 : config.attempts,
                    bucket: &bucket, client: client)
                if case .failed(let why) = outcome {
                    logger.error(
                        "webhook failed; alert dead-lettered",
                        metadata: ["webhook": "\(webhook.name)", "alert": "\(job.alert.alertId)", "error": "\(why)"])
                }
                failing = outcome != .sent
                job.done(outcome)
            }
        }
    }

    func enqueue(_ job: Job) { continuation.yield(job) }

    /// Lets the queue drain and ends the lane.
    func finish() async {
        continuation.finish()
        await task.value
    }

    private static func deliver(
        _ alert: AlertNotice, webhook: NotifyConfig.Webhook, config: NotifyConfig, attempts: Int,
        bucket: inout TokenBucket, client: HTTPClient
    ) async -> Outcome {
        var backoff = config.initialBackoffMillis
        var lastError = ""
        for attempt in 1...attempts {
            await bucket.take()
            let request = WebhookRequest.make(
                for: alert, to: webhook, nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
            var http = HTTPClientRequest(url: request.url)
            http.method = .POST
            http.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            http.body = .bytes(ByteBuffer(bytes: request.body))
            do {
                let response = try await client.execute(http, timeout: .milliseconds(config.timeoutMillis))
                let body = Array(buffer: try await response.body.collect(upTo: 1 << 20))
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
                try? await Task.sleep(for: .milliseconds(backoff))
                backoff = min(backoff * 2, config.maxBackoffMillis)
            }
        }
        return .failed(lastError)
    }
}
