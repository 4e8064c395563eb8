import Foundation
import ServiceLifecycle
import Worker

/// The live KPI table of `salespulse run`: redrawn every second on a terminal; elsewhere,
/// alerts as they come and the table every five seconds.
struct LiveView: Service {
    let board: LiveBoard
    let pipeline: Pipeline
    let header: String

    func run() async throws {
        let tty = isatty(STDOUT_FILENO) != 0
        try? await cancelWhenGracefulShutdown {
            var lastTable = ContinuousClock.now - .seconds(60)
            while true {
                try await Task.sleep(for: .milliseconds(250))
                let now = ContinuousClock.now
                if tty {
                    guard now - lastTable >= .seconds(1) else { continue }
                    lastTable = now
                    _ = board.takeNewAlerts()
                    print("\u{1B}[H\u{1B}[2J" + header + board.table(stats: pipeline.stats.snapshot), terminator: "")
                } else {
                    for alert in board.takeNewAlerts() { print("ALERT " + board.line(alert)) }
                    if now - lastTable >= .seconds(5) {
                        lastTable = now
                        print(board.table(stats: pipeline.stats.snapshot))
                    }
                }
                fflush(nil)
            }
        }
    }
}
