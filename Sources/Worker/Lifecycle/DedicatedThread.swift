import Foundation

/// Runs `body` on a thread of its own and returns (or throws) what it does. The stages,
/// the simulator and the notifier block in librdkafka calls (poll, flush, commit): they keep
/// their own threads and never hold one of the concurrency pool's few threads.
func onDedicatedThread<T: Sendable>(
    _ name: String, _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}
