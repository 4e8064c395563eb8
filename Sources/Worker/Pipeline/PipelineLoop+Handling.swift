import Foundation
import Kafka
import Logging
import SalesKPI

/// Decoding, applying, publishing and committing.
extension PipelineLoop {
    func take(_ message: ConsumedMessage) {
        counters.consumed += 1
        let tp = message.topicPartition
        received[tp] = message.offset + 1
        switch pipeline.config.decoder.decode(message.value) {
        case .event(let event):
            let pending = InputAligner.Pending(
                source: tp, event: event, offset: message.offset, key: message.key.map { Array($0) },
                raw: Array(message.value), consumedAt: DispatchTime.now().uptimeNanoseconds)
            lastEventTime[tp] = max(lastEventTime[tp] ?? .min, event.occurredAt)
            if aligner.push(tp, pending) { consumer.pause([tp]) }
        case .unknownType(let type):
            counters.unknownTypes += 1
            logger.debug("skipped event of unknown type", metadata: [LogKey.reason: "\(type)"])
        case .rejected(let rejection):
            deadLetter(
                rejection, source: tp, offset: message.offset, key: message.key.map { Array($0) },
                value: Array(message.value))
        }
    }

    /// Applies every event the aligner lets go at this moment.
    func release(now: EpochMillis) {
        while let (tp, item, resume) = aligner.next(now: now, caughtUp: caughtUp) {
            apply(item)
            if resume { consumer.resume([tp]) }
        }
    }

    private func caughtUp(_ tp: TopicPartition) -> Bool {
        guard let next = received[tp], let high = consumer.cachedHighWatermark(tp) else { return false }
        return next >= high
    }

    func apply(_ item: InputAligner.Pending) {
        let k = router.shard(for: item.event.region)
        let before = shards[k].watermark
        switch shards[k].apply(item.event, effects: &effects) {
        case .counted, .timeOnly:
            counters.eventsByType[item.event.type, default: 0] += 1
        case .duplicate:
            counters.duplicates += 1
        case .superseded:
            counters.eventsByType[item.event.type, default: 0] += 1
            counters.superseded += 1
        case .late:
            let behind = (shards[k].watermark - item.event.occurredAt) / 1000
            deadLetter(
                Rejection(
                    .late, "occurred_at is \(behind)s behind the watermark \(Timestamp.format(shards[k].watermark))"),
                source: item.source, offset: item.offset, key: item.key, value: item.raw)
        }
        shards[k].noteInput(now: pipeline.clock())
        pipeline.metrics?.recordLatency(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - item.consumedAt))
        if !effects.isEmpty { publishEffects() }
        if shards[k].watermark != before {
            rollup.shardWatermark(k, shards[k].watermark, effects: &effects)
            if !effects.isEmpty { publishEffects() }
        }
    }

    func deadLetter(_ rejection: Rejection, source: TopicPartition, offset: Int64, key: [UInt8]?, value: [UInt8]) {
        counters.deadLettersByReason[rejection.reason, default: 0] += 1
        send(
            DeadLetter.message(
                topic: topics.dlq, reason: rejection.reason, detail: rejection.detail, source: source,
                offset: offset, key: key, value: value))
    }

    /// Publishes queued effects; region summaries also feed the company rollup.
    func publishEffects() {
        let settings = pipeline.config.settings
        while !effects.isEmpty {
            let batch = effects
            effects.removeAll(keepingCapacity: true)
            for effect in batch {
                switch effect {
                case .summary(let summary):
                    send(
                        OutgoingMessage(
                            topic: topics.summaries, key: summary.scope.id,
                            value: summary.json(currency: settings.reportingCurrency, calendar: settings.calendar)))
                    counters.summariesPublished += 1
                    if summary.final {
                        counters.finalSummariesPublished += 1
                        if summary.scope.kind == .region {
                            counters.windowsClosedByKind[summary.windowName, default: 0] += 1
                        }
                    }
                    if summary.scope.kind == .region { rollup.ingest(summary) }
                    pipeline.hooks.onSummary(summary)
                case .alert(let alert):
                    send(
                        OutgoingMessage(
                            topic: topics.alerts, key: alert.scope.id,
                            value: alert.json(detectedAt: pipeline.clock(), calendar: settings.calendar)))
                    counters.alertsPublished += 1
                    counters.alertsByRule[alert.rule.rawValue, default: 0] += 1
                    logger.notice(
                        "alert", metadata: [LogKey.rule: "\(alert.rule.rawValue)", LogKey.scope: "\(alert.scope.id)"])
                    pipeline.hooks.onAlert(alert)
                }
            }
        }
    }

    private func send(_ message: OutgoingMessage) {
        do {
            try producer.send(message)
        } catch {
            // Only a fatal producer state gets here (a full queue blocks instead): count it, the
            // offsets of this batch will not be committed.
            counters.deliveryFailures += 1
            logger.error("cannot produce", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Wall-clock duties: idle watermarks, provisional summaries, rollup, stats.
    func tick(now: EpochMillis) {
        lastTick = now
        for k in shards.indices {
            let before = shards[k].watermark
            shards[k].tick(now: now, effects: &effects)
            publishEffects()
            if shards[k].watermark != before { rollup.shardWatermark(k, shards[k].watermark, effects: &effects) }
        }
        rollup.tick(now: now, effects: &effects)
        publishEffects()
        producer.pollDeliveries(timeoutMs: 0)
        publishStats()
    }

    /// Waits for every published message to be delivered, then commits the offsets of all input
    /// that is fully handled (nothing still buffered for alignment).
    func commit(now: EpochMillis) {
        lastCommit = now
        guard producer.flush(timeoutMs: 30_000) else {
            logger.warning("outputs not delivered within 30s; offsets not committed yet")
            return
        }
        let failures = producer.takeFailures()
        if !failures.isEmpty {
            counters.deliveryFailures += failures.count
            logger.error("deliveries failed; offsets not committed", metadata: [LogKey.error: "\(failures[0])"])
            return
        }
        var offsets: [TopicPartition: Int64] = [:]
        for (tp, next) in received {
            let safe = aligner.firstBufferedOffset(tp) ?? next
            if committed[tp] != safe { offsets[tp] = safe }
        }
        guard !offsets.isEmpty else { return }
        do {
            try consumer.commit(offsets)
            committed.merge(offsets) { _, new in new }
            counters.commits += 1
        } catch {
            logger.warning("offset commit failed; will retry", metadata: [LogKey.error: "\(error)"])
        }
    }

    func publishStats() {
        counters.buffered = aligner.buffered
        counters.companyWatermark = rollup.watermark
        pipeline.stats.publish(counters)
        guard let metrics = pipeline.metrics else { return }
        metrics.update(counters)
        metrics.recordReady(pipeline.health.isReady)
        let now = pipeline.clock()
        for (tp, next) in received {
            let high = consumer.cachedHighWatermark(tp) ?? next
            let seconds = lastEventTime[tp].map { max(0, Double(now - $0) / 1000) }
            metrics.recordLag(tp, messages: max(0, high - next), seconds: seconds)
        }
    }
}
