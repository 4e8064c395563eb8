import Foundation

/// A webhook's rate limit: `perMinute` sends a minute, in bursts of up to that many (chat
/// robots limit per minute: DingTalk 20, WeCom 20, Feishu 100).
struct TokenBucket {
    private let capacity: Double
    private let perMillisecond: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(perMinute: Int) {
        capacity = Double(perMinute)
        perMillisecond = Double(perMinute) / 60_000
        tokens = capacity
        last = .now
    }

    /// Waits until a send is allowed and takes it (on the lane's own thread).
    mutating func take() {
        let now = ContinuousClock.now
        let elapsed = last.duration(to: now)
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        tokens = min(capacity, tokens + ms * perMillisecond)
        last = now
        if tokens < 1 {
            let wait = (1 - tokens) / perMillisecond
            Thread.sleep(forTimeInterval: wait / 1000)
            last = .now
            tokens = 1
        }
        tokens -= 1
    }
}
