/// Turns rule decisions into complete alerts with ids and messages.
package struct AlertFactory {
    let settings: KPISettings

    package init(settings: KPISettings) { self.settings = settings }

    package func target(
        _ t: TargetTracker.Transition, scope: ScopeKey, period: WindowSpec.CalendarUnit, start: EpochMillis,
        end: EpochMillis, target: Money, eventTime: EpochMillis
    ) -> Alert {
        Alert(
            id: Alert.makeId(
                rule: t.rule, scope: scope, periodKind: period.rawValue, periodStart: start, sequence: t.sequence),
            rule: t.rule, severity: t.severity, scope: scope, periodKind: period.rawValue, periodStart: start,
            periodEnd: end, observed: t.ratio, threshold: t.threshold, baseline: nil,
            message: AlertText.targetTransition(
                t, scope: scope, period: period.rawValue, target: target, currency: settings.reportingCurrency,
                locale: settings.locale),
            eventTime: eventTime)
    }

    package func cacSpike(
        _ s: CACSpikeDetector.Spike, scope: ScopeKey, window: Window, windowName: String, newCustomers: Int,
        eventTime: EpochMillis
    ) -> Alert {
        let offset = settings.calendar.offsetSeconds(at: window.start)
        return Alert(
            id: Alert.makeId(
                rule: .cacSpike, scope: scope, periodKind: windowName, periodStart: window.start, sequence: 1),
            rule: .cacSpike, severity: .warning, scope: scope, periodKind: windowName, periodStart: window.start,
            periodEnd: window.end, observed: s.cac.doubleValue, threshold: s.threshold, baseline: s.baseline,
            message: AlertText.cacSpike(
                s, scope: scope, period: windowName,
                periodStart: String(Timestamp.format(window.start, offsetSeconds: offset).prefix(10)),
                newCustomers: newCustomers, factor: settings.rules.cacSpike.factor,
                currency: settings.reportingCurrency, locale: settings.locale),
            eventTime: eventTime)
    }
}
