import Kafka
import Prometheus
import SalesKPI
import TestSupport
import Testing

@testable import Worker

/// A restart under another `time.time_zone` (README, Operations): restored windows were cut in
/// the old zone, so the restore is refused with the reason on `/healthz` (or, in a bounded run,
/// as the run's error), nothing is counted, and the state waits unchanged for a worker with the
/// zone it was written under.
@Suite("time.time_zone changed between runs", .serialized)
struct TimeZoneRestartTests {
    @Test(
        "a run under another zone is refused and counts nothing; the recorded zone's run is exact",
        .timeLimit(.minutes(6)))
    func otherZoneRefused() throws {
        // 1. Half the bulk in Asia/Shanghai: both changelogs hold windows cut in it.
        let before = try RestartAfterChange()
        let bootstrap = before.bootstrap

        // 2. The same group in UTC, while the rest of the input arrives: both restores are
        // refused, again at every rebuild, and /healthz says why.
        try produce(before.rest, bootstrap: bootstrap)
        let health = HealthState()
        let server = try ObservabilityServer(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), health: health)
        defer { server.shutdown() }
        let utc = try RestartAfterChange.config(timeZone: "UTC")
        let two = PipelineHarness(config: utc, bootstrap: bootstrap, health: health)
        two.start()
        var body = ""
        let reported = waitFor(.seconds(150)) {
            guard let r = httpGet("http://127.0.0.1:\(server.port)/healthz"), r.status == 503 else { return false }
            body = r.body
            return body.contains("aggregate: rebuilt 3 times") && body.contains("rollup: rebuilt 3 times")
        }
        #expect(reported, "healthz did not report both stages: \(body)")
        let reason = "the state was written with time.time_zone Asia/Shanghai, and this worker has UTC"
        #expect(body.split(separator: "\n").filter { $0.contains(reason) }.count == 2, "\(body)")
        #expect(body.contains("Set time.time_zone back to Asia/Shanghai"), "\(body)")
        #expect(httpGet("http://127.0.0.1:\(server.port)/readyz")?.status == 503)
        let refusedStats = two.pipeline.stats.snapshot
        #expect(refusedStats.aggregated == 0 && refusedStats.restoredRecords == 0, "\(refusedStats)")
        #expect(two.stop(), "the refused run did not stop")
        let afterRefused = try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"]).count

        // 3. Back in Asia/Shanghai: the state is as the first run left it, and every final of
        // both runs equals the reference, none twice.
        let three = PipelineHarness(
            config: before.first, bootstrap: bootstrap)
        three.start()
        defer { three.stop() }
        let finalWatermark = before.finalWatermark
        #expect(
            three.wait(timeout: .seconds(120)) {
                $0.aggregated > 0 && $0.isSettled && $0.companyWatermark >= finalWatermark
            }, "the third run did not process the rest")
        #expect(three.stop(), "the third run did not stop")
        let stats = three.pipeline.stats.snapshot
        #expect(stats.restoredRecords > 0, "the third run restored the first run's state")
        // The refused run's route stage forwarded some of the rest; this run the others.
        #expect(two.pipeline.stats.snapshot.consumed + stats.consumed >= before.rest.count)
        #expect(try before.checkFinals().count > afterRefused)
    }

    /// A bounded run has nobody watching /healthz: it ends with the reason instead of waiting
    /// (README, Bounded runs), and the state is left for a run with the recorded zone.
    @Test(
        "a bounded run under another zone ends by itself with the reason; one under the recorded zone then finishes exact",
        .timeLimit(.minutes(6)))
    func boundedRunRefused() throws {
        let before = try RestartAfterChange()
        let bootstrap = before.bootstrap
        // The rest of the bulk without the closing events: a bounded run ends every stream.
        try produce(Array(before.scenario.bulk[before.half...]), bootstrap: bootstrap)
        // Two instances share the run, as a backfill scaled out would: each must end, the
        // second at the latest when it takes over the first's partitions.
        let utc = try RestartAfterChange.config(timeZone: "UTC")
        let ends = try BoundedRun.endOffsets(utc, bootstrap: bootstrap)
        let refused = (0..<2).map { _ in PipelineHarness(config: utc, bootstrap: bootstrap, until: ends) }
        for instance in refused { instance.start() }
        defer { for instance in refused { instance.stop() } }
        #expect(waitFor(.seconds(150)) { refused.allSatisfy(\.isDone) }, "a refused bounded run did not end by itself")
        for (k, instance) in refused.enumerated() {
            let error = instance.error ?? ""
            #expect(error.contains("bounded run abandoned"), "instance \(k): \(error)")
            #expect(
                error.contains("the state was written with time.time_zone Asia/Shanghai, and this worker has UTC"),
                "the refusal did not reach instance \(k): \(error)")
            // The adapter's own failures carry no librdkafka code to show.
            #expect(!error.contains("(code"), "\(error)")
            #expect(!instance.pipeline.completedBoundedRun)
            let stats = instance.pipeline.stats.snapshot
            #expect(stats.aggregated == 0 && stats.restoredRecords == 0, "instance \(k): \(stats)")
        }

        let shanghai = before.first
        let bounded = PipelineHarness(
            config: shanghai, bootstrap: bootstrap, until: try BoundedRun.endOffsets(shanghai, bootstrap: bootstrap))
        bounded.start()
        defer { bounded.stop() }
        #expect(waitFor(.seconds(150)) { bounded.isDone }, "the bounded run in the recorded zone did not finish")
        #expect(bounded.error == nil && bounded.pipeline.completedBoundedRun, "\(bounded.error ?? "")")
        #expect(bounded.pipeline.stats.snapshot.restoredRecords > 0, "it restored the first run's state")
        _ = try before.checkFinals(through: .max)
    }
}
