/// What a changelog's state is in: the `time.time_zone` its calendar windows are cut in and the
/// `money.reporting_currency` its sums are kept in (README, Operations).
///
/// Restored under another zone, open day, week, month and quarter windows would keep their old
/// bounds while new events opened the new zone's windows over them: two overlapping "day"
/// windows, each with part of the day's events, for as long as a quarter. Restored under another
/// currency, sums in yuan would go on in dollars. Neither is an error any record could show, so
/// both changelogs record the units in a `u` record, and a restore under other units is refused
/// (`StateUnitsChanged`).
package struct StateUnits: Sendable, Equatable, Codable {
    package var timeZone: String
    package var currency: String

    /// The changelog key, in the shard's changelog and the rollup's.
    package static let recordKey = "u"

    package init(timeZone: String, currency: String) {
        self.timeZone = timeZone
        self.currency = currency
    }

    package init(_ settings: KPISettings) {
        timeZone = settings.calendar.zoneIdentifier
        currency = settings.reportingCurrency
    }

    /// Refuses `settings` unless they keep these units: the same currency, and a zone that cuts
    /// days where this one did. A zone this machine does not know cannot be compared, so it is
    /// refused too.
    package func check(against settings: KPISettings) throws {
        // Bytes from a topic: only what could be a currency code or name a zone (`Asia/Shanghai`,
        // `Etc/GMT+8`) is looked up by Foundation, or quoted in the error `/healthz` shows.
        guard Self.isPlain(currency, 3...3, extra: ""), Self.isPlain(timeZone, 1...64, extra: "/_+-") else {
            throw BinaryReader.Malformed()
        }
        if currency != settings.reportingCurrency {
            throw StateUnitsChanged(
                setting: "money.reporting_currency", recorded: currency, configured: settings.reportingCurrency,
                consequence: "restored sums in \(currency) would go on in \(settings.reportingCurrency)")
        }
        let configured = settings.calendar
        guard timeZone != configured.zoneIdentifier else { return }
        guard let recorded = BusinessCalendar(timeZoneIdentifier: timeZone), recorded.cutsSameDays(as: configured)
        else {
            throw StateUnitsChanged(
                setting: "time.time_zone", recorded: timeZone, configured: configured.zoneIdentifier,
                consequence: "its days begin at other instants, so restored windows, target periods and "
                    + "comparisons would overlap new ones")
        }
    }

    private static func isPlain(_ s: String, _ length: ClosedRange<Int>, extra: String) -> Bool {
        length.contains(s.utf8.count)
            && s.utf8.allSatisfy { c in
                (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
                    || extra.utf8.contains(c)
            }
    }
}

/// A restore refused: the changelog's state was written under another time zone or currency.
package struct StateUnitsChanged: Error, Equatable, CustomStringConvertible {
    package var setting: String
    package var recorded: String
    package var configured: String
    package var consequence: String

    package var description: String {
        "the state was written with \(setting) \(recorded), and this worker has \(configured): \(consequence). "
            + "Set \(setting) back to \(recorded), or start under a new kafka.group_id to compute every window "
            + "again from the input in \(configured) (README, Operations)"
    }
}
