/// Exact conversion rates into the reporting currency, from configuration.
package struct FXTable: Sendable, Equatable {
    package var reportingCurrency: String
    /// Units of the reporting currency per one unit of the keyed currency.
    package var rates: [String: DecimalNumber]

    package init(reportingCurrency: String, rates: [String: DecimalNumber]) {
        self.reportingCurrency = reportingCurrency
        var rates = rates
        rates[reportingCurrency] = DecimalNumber(mantissa: 1, exponent: 0)
        self.rates = rates
    }

    package func rate(for currency: String) -> DecimalNumber? { rates[currency] }
}
