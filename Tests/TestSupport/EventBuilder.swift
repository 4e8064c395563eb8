import SalesKPI

/// Terse construction of domain events for unit tests.
package struct EventBuilder {
    private var counter = 0

    package init() {}

    package static func t(_ text: String) -> EpochMillis {
        guard let t = Timestamp.parse(text) else { fatalError("bad test timestamp \(text)") }
        return t
    }

    private mutating func nextId() -> String {
        counter += 1
        return "ev-\(counter)"
    }

    package mutating func won(
        _ deal: String, _ yuan: Int64, at: String, created: String? = nil, region: String = "east",
        rep: String = "r1", id: String? = nil
    ) -> SalesEvent {
        SalesEvent(
            eventId: id ?? nextId(), type: .dealWon, occurredAt: Self.t(at), region: region, repId: rep, dealId: deal,
            amount: Money(minorUnits: yuan * 100), createdAt: Self.t(created ?? at))
    }

    package mutating func lost(_ deal: String, at: String, region: String = "east", rep: String = "r1") -> SalesEvent {
        SalesEvent(
            eventId: nextId(), type: .dealLost, occurredAt: Self.t(at), region: region, repId: rep, dealId: deal,
            amount: Money(minorUnits: 100), createdAt: Self.t(at))
    }

    package mutating func created(_ deal: String, at: String, region: String = "east", rep: String = "r1") -> SalesEvent
    {
        SalesEvent(
            eventId: nextId(), type: .dealCreated, occurredAt: Self.t(at), region: region, repId: rep, dealId: deal,
            amount: .zero, createdAt: Self.t(at))
    }

    package mutating func acquired(at: String, region: String = "east", rep: String = "r1") -> SalesEvent {
        SalesEvent(
            eventId: nextId(), type: .customerAcquired, occurredAt: Self.t(at), region: region, repId: rep,
            customerId: "c-\(counter)")
    }

    package mutating func churned(at: String, region: String = "east", rep: String = "r1") -> SalesEvent {
        SalesEvent(
            eventId: nextId(), type: .customerChurned, occurredAt: Self.t(at), region: region, repId: rep,
            customerId: "c-\(counter)")
    }

    package mutating func spend(_ yuan: Int64, at: String, region: String = "east", rep: String? = nil) -> SalesEvent {
        SalesEvent(
            eventId: nextId(), type: .spendRecorded, occurredAt: Self.t(at), region: region, repId: rep,
            amount: Money(minorUnits: yuan * 100), channel: "ads")
    }
}

/// Settings for domain tests: Asia/Shanghai, the given windows, no rules unless switched on.
package func testSettings(_ windows: [String] = ["day", "week", "month", "quarter"], lateness: Int64 = 3_600_000)
    -> KPISettings
{
    var s = KPISettings(
        windows: windows.map { WindowSpec.parse($0)! }, calendar: BusinessCalendar(timeZoneIdentifier: "Asia/Shanghai")!
    )
    s.allowedLatenessMillis = lateness
    s.locale = .en
    return s
}

/// Drives a shard and keeps every effect, for event-sequence-in, effects-out tests.
package struct ShardHarness {
    package var shard: ShardProcessor
    package var effects: [ShardEffect] = []

    package init(_ settings: KPISettings) { shard = ShardProcessor(settings: settings) }

    /// Applies events as one source delivering them in this order: after each, event time
    /// progresses to the newest event seen (what the runtime does for a single input partition).
    @discardableResult
    package mutating func apply(_ events: SalesEvent...) -> [Disposition] {
        events.map { event in
            let d = shard.apply(event, effects: &effects)
            shard.advanceProgress(to: shard.maxEventTime, effects: &effects)
            return d
        }
    }

    /// Pushes event time far ahead so every open window closes.
    package mutating func closeAll(through text: String = "2030-01-01T00:00:00Z") {
        shard.advanceWatermark(to: EventBuilder.t(text), effects: &effects)
    }

    package var finals: [Summary] {
        effects.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
    }

    /// Hands the rollup what the runtime would: region summaries and customer changes. Returns
    /// what the rollup published on the way (revised company finals).
    @discardableResult
    package func report(to rollup: inout CompanyRollup) -> [ShardEffect] {
        var published: [ShardEffect] = []
        for effect in effects {
            switch effect {
            case .summary(let s) where s.scope.kind == .region: rollup.ingest(s, effects: &published)
            case .customers(_, let time, let delta): rollup.customersChanged(at: time, delta: delta)
            default: continue
            }
        }
        return published
    }

    package var alerts: [Alert] {
        effects.compactMap { if case .alert(let a) = $0 { a } else { nil } }
    }

    package func final(_ scope: ScopeKey, _ kind: String, startingAt start: String) -> Summary? {
        finals.first { $0.scope == scope && $0.windowName == kind && $0.window.start == EventBuilder.t(start) }
    }

    /// The last final published for the window: a revised one if a correction reached it.
    package func latestFinal(_ scope: ScopeKey, _ kind: String, startingAt start: String) -> Summary? {
        finals.last { $0.scope == scope && $0.windowName == kind && $0.window.start == EventBuilder.t(start) }
    }
}

extension CompanyRollup {
    /// A company of one region: its shard takes `events` and reaches `time`, publishing
    /// provisional summaries of its open windows too when `provisional`, and a rollup of that
    /// one shard takes what it published, then the shard's watermark. Returns the rollup and
    /// its changelog, taken before the watermark and after it.
    package static func ofOneRegion(
        _ settings: KPISettings, _ events: [SalesEvent], through time: String, provisional: Bool = false
    ) -> (rollup: CompanyRollup, log: [StateRecord]) {
        var region = ShardHarness(settings)
        for event in events { region.apply(event) }
        region.shard.advanceProgress(to: EventBuilder.t(time), effects: &region.effects)
        if provisional { region.shard.emitProvisional(effects: &region.effects) }
        var rollup = CompanyRollup(settings: settings, shards: 1)
        _ = region.report(to: &rollup)
        var log = rollup.takeChangelog()
        var out: [ShardEffect] = []
        rollup.shardWatermark(0, EventBuilder.t(time), effects: &out)
        log += rollup.takeChangelog()
        return (rollup, log)
    }
}

extension EventBuilder {
    /// Any event the decoder could produce, with every optional field present or absent at
    /// random and strings of any Unicode (binary forms must carry them all).
    package static func random(using rng: inout some RandomNumberGenerator) -> SalesEvent {
        let alphabet: [Character] = ["a", "Z", "0", "-", "/", " ", "\"", "\\", "é", "华", "东", "😀", "\u{0}"]
        func text() -> String {
            String((0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        }
        func maybe<T>(_ make: () -> T) -> T? { Bool.random(using: &rng) ? make() : nil }
        return SalesEvent(
            eventId: text(), type: EventType.allCases.randomElement(using: &rng)!,
            occurredAt: Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &rng), region: text(),
            repId: maybe(text), dealId: maybe(text), customerId: maybe(text),
            amount: Money(minorUnits: Int64.random(in: Int64.min...Int64.max, using: &rng)),
            createdAt: maybe { Int64.random(in: Int64.min...Int64.max, using: &rng) }, stage: maybe(text),
            channel: maybe(text))
    }
}
