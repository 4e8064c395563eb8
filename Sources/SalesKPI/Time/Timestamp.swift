/// Event time: milliseconds since the UTC epoch.
package typealias EpochMillis = Int64

/// RFC 3339 timestamps, parsed straight from bytes and formatted without Foundation's formatters.
package enum Timestamp {
    package static let millisPerDay: Int64 = 86_400_000
    /// Years 1 to 2999, the widest event times the decoder can be configured to accept: state
    /// read back with times outside them was not written by this worker.
    package static let representableYears: ClosedRange<EpochMillis> = -62_135_596_800_000...32_503_680_000_000

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil when it is not RFC 3339.
    /// Fractions beyond milliseconds are truncated.
    package static func parse(_ b: UnsafeRawBufferPointer) -> EpochMillis? {
        let n = b.count
        guard n >= 20 else { return nil }
        func digits(_ at: Int, _ count: Int) -> Int? {
            var v = 0
            for k in at..<(at + count) {
                let d = b[k] &- 48
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            return v
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), b[10] | 0x20 == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var i = 19
        var millis = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var count = 0
            while i < n, b[i] &- 48 < 10 {
                if count < 3 { millis = millis * 10 + Int(b[i] &- 48) }
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
        }
        guard i < n else { return nil }
        var offsetSeconds = 0
        if b[i] | 0x20 == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == n, let oh = digits(i + 1, 2), b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2),
                oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        // A leap second is folded into the last millisecond of its minute.
        let clampedSecond = min(second, 59)
        if second == 60 { millis = 999 }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + clampedSecond) - Int64(offsetSeconds)
        return seconds * 1000 + Int64(millis)
    }

    package static func parse(_ text: String) -> EpochMillis? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Formats in UTC with milliseconds when they are not zero: `2026-11-29T01:02:03Z`.
    package static func format(_ t: EpochMillis) -> String { format(t, offsetSeconds: 0) }

    /// Formats at a fixed UTC offset, e.g. `2026-11-01T00:00:00+08:00` for business-time boundaries.
    package static func format(_ t: EpochMillis, offsetSeconds: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        write(t, offsetSeconds: offsetSeconds, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the RFC 3339 text of `t` at a fixed UTC offset (milliseconds only when non-zero).
    ///
    /// Written with one capacity check: appending byte by byte checked the array's capacity and
    /// uniqueness 25 times per timestamp, three timestamps per summary.
    package static func write(_ t: EpochMillis, offsetSeconds: Int, into out: inout [UInt8]) {
        let local = t + Int64(offsetSeconds) * 1000
        let days = floorDiv(local, millisPerDay)
        var msOfDay = Int(local - days * millisPerDay)
        let (y, m, d) = civilFromDays(Int(days))
        let ms = msOfDay % 1000
        msOfDay /= 1000
        // A sign and up to 19 year digits, then at most 26 bytes.
        out.append(addingCapacity: 46) { s in
            if y < 0 { s.append(UInt8(ascii: "-")) }
            DecimalDigits.write(UInt64(y.magnitude), width: 4, &s)
            s.append(UInt8(ascii: "-"))
            DecimalDigits.two(m, &s)
            s.append(UInt8(ascii: "-"))
            DecimalDigits.two(d, &s)
            s.append(UInt8(ascii: "T"))
            DecimalDigits.two(msOfDay / 3600, &s)
            s.append(UInt8(ascii: ":"))
            DecimalDigits.two(msOfDay / 60 % 60, &s)
            s.append(UInt8(ascii: ":"))
            DecimalDigits.two(msOfDay % 60, &s)
            if ms != 0 {
                s.append(UInt8(ascii: "."))
                DecimalDigits.write(UInt64(ms), width: 3, &s)
            }
            if offsetSeconds == 0 { return s.append(UInt8(ascii: "Z")) }
            s.append(UInt8(ascii: offsetSeconds < 0 ? "-" : "+"))
            let o = abs(offsetSeconds)
            DecimalDigits.two(o / 3600, &s)
            s.append(UInt8(ascii: ":"))
            DecimalDigits.two(o / 60 % 60, &s)
        }
    }

    package static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    package static func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    package static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    package static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
