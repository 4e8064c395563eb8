/// An amount in the reporting currency, in integer minor units (fen for CNY, cents for USD).
///
/// Sums stay exact; division (average deal size, CAC) rounds half-to-even once, at the end.
package struct Money: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    package var minorUnits: Int64

    package init(minorUnits: Int64) { self.minorUnits = minorUnits }

    package static let zero = Money(minorUnits: 0)

    package static func + (a: Money, b: Money) -> Money { Money(minorUnits: a.minorUnits + b.minorUnits) }
    package static func - (a: Money, b: Money) -> Money { Money(minorUnits: a.minorUnits - b.minorUnits) }
    package static func += (a: inout Money, b: Money) { a.minorUnits += b.minorUnits }
    package static func -= (a: inout Money, b: Money) { a.minorUnits -= b.minorUnits }
    package static func < (a: Money, b: Money) -> Bool { a.minorUnits < b.minorUnits }

    /// `self / count`, rounded half to even to a minor unit; nil when count is 0.
    package func divided(by count: Int) -> Money? {
        guard count > 0 else { return nil }
        return Money(minorUnits: Int64(Money.divideHalfEven(Int128(minorUnits), Int128(count))))
    }

    /// Converts a decimal amount at an exact rate into minor units (two decimals), half to even.
    /// Returns nil when the result does not fit.
    package static func convert(_ amount: DecimalNumber, rate: DecimalNumber) -> Money? {
        let product = Int128(amount.mantissa) * Int128(rate.mantissa)
        let exponent = Int(amount.exponent) + Int(rate.exponent) + 2
        var value: Int128
        if exponent >= 0 {
            guard exponent <= 38 else { return product == 0 ? .zero : nil }
            value = product
            for _ in 0..<exponent {
                let (next, overflow) = value.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                value = next
            }
        } else if exponent < -38 {
            value = 0
        } else {
            var divisor: Int128 = 1
            for _ in 0..<(-exponent) { divisor *= 10 }
            value = divideHalfEven(product, divisor)
        }
        guard value <= Int128(Int64.max), value >= Int128(Int64.min) else { return nil }
        return Money(minorUnits: Int64(value))
    }

    static func divideHalfEven(_ n: Int128, _ d: Int128) -> Int128 {
        var q = n / d
        let r = n % d
        let twice = r.magnitude * 2
        if twice > d.magnitude || (twice == d.magnitude && q % 2 != 0) {
            q += (n < 0) != (d < 0) ? -1 : 1
        }
        return q
    }

    /// "1234.50", "-0.07": always two decimals, no grouping, so JSON consumers parse it exactly.
    package var description: String {
        let negative = minorUnits < 0
        let magnitude = minorUnits.magnitude
        let cents = magnitude % 100
        return (negative ? "-" : "") + String(magnitude / 100) + "." + (cents < 10 ? "0" : "") + String(cents)
    }

    /// The amount nearest `minorUnits`, or nil when that is not finite or beyond an Int64: a
    /// projection from the first millisecond of a quarter can be (state fuzzer, scripts/fuzz.sh).
    package init?(rounding minorUnits: Double) {
        guard let units = Int64(exactly: minorUnits.rounded()) else { return nil }
        self.minorUnits = units
    }

    /// The amount as a Double, for ratios only (never for sums).
    package var doubleValue: Double { Double(minorUnits) / 100 }
}
