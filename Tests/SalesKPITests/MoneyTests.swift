import Testing

@testable import SalesKPI

@Suite("Money and decimals")
struct MoneyTests {
    @Test(
        "decimal strings and JSON numbers parse exactly",
        arguments: [
            ("12.34", 1234, -2), ("0", 0, 0), ("-5", -5, 0), ("1e3", 1, 3), ("2.50E-1", 250, -3), ("0.000001", 1, -6),
        ])
    func parsesDecimals(text: String, mantissa: Int64, exponent: Int32) {
        #expect(DecimalNumber.parse(text) == DecimalNumber(mantissa: mantissa, exponent: exponent))
    }

    @Test(
        "malformed or too precise decimals are refused",
        arguments: ["", "-", "1.", ".5", "1e", "abc", "1.2.3", "12345678901234567890", "NaN", "Infinity", "1 "])
    func refusesMalformed(text: String) {
        #expect(DecimalNumber.parse(text) == nil)
    }

    @Test("conversion rounds half to even once, at the minor unit")
    func convertsHalfEven() {
        let rate = DecimalNumber.parse("7.10")!
        #expect(Money.convert(DecimalNumber.parse("100")!, rate: rate)?.minorUnits == 71000)
        // 0.005 CNY rounds to the even cent 0.00; 0.015 to 0.02.
        let one = DecimalNumber(mantissa: 1, exponent: 0)
        #expect(Money.convert(DecimalNumber.parse("0.005")!, rate: one)?.minorUnits == 0)
        #expect(Money.convert(DecimalNumber.parse("0.015")!, rate: one)?.minorUnits == 2)
        #expect(Money.convert(DecimalNumber.parse("0.025")!, rate: one)?.minorUnits == 2)
        #expect(
            Money.convert(DecimalNumber.parse("1234.5678")!, rate: DecimalNumber.parse("0.048")!)?.minorUnits == 5926)
    }

    @Test("overflowing conversions are refused, not wrapped")
    func refusesOverflow() {
        #expect(
            Money.convert(
                DecimalNumber(mantissa: 999_999_999_999_999_999, exponent: 5),
                rate: DecimalNumber(mantissa: 7, exponent: 0)) == nil)
    }

    @Test("division for averages rounds half to even")
    func dividesHalfEven() {
        #expect(Money(minorUnits: 1001).divided(by: 2)?.minorUnits == 500)
        #expect(Money(minorUnits: 1003).divided(by: 2)?.minorUnits == 502)
        #expect(Money(minorUnits: 1000).divided(by: 3)?.minorUnits == 333)
        #expect(Money(minorUnits: 5).divided(by: 0) == nil)
    }

    @Test("money formats with exactly two decimals")
    func formats() {
        #expect(Money(minorUnits: 123_450).description == "1234.50")
        #expect(Money(minorUnits: -7).description == "-0.07")
        #expect(Money(minorUnits: 0).description == "0.00")
    }
}
