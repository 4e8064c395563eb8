import Foundation
import SalesKPI
import TestSupport
import Testing

/// Every file of the committed bad-input corpus (Tests/Corpus/bad, named `<reason>--<what>`)
/// is rejected by the decoder for the reason its name gives.
@Suite("Bad-input corpus")
struct BadInputCorpusTests {
    @Test("each corpus file is rejected for the reason in its name")
    func corpus() throws {
        let files = try BadInputCorpus.load()
        #expect(files.count >= 60)
        let decoder = EventDecoder(
            fx: FXTable(reportingCurrency: "CNY", rates: ["USD": DecimalNumber.parse("7.10")!]))
        for file in files {
            guard case .rejected(let rejection) = decoder.decode(file.bytes) else {
                Issue.record("\(file.name) was accepted")
                continue
            }
            #expect(rejection.reason.rawValue == file.reason, "\(file.name): \(rejection.detail)")
            #expect(!rejection.detail.isEmpty)
        }
        let reasons = Set(files.map(\.reason))
        // Every reason a payload alone can have: not those that need the wall clock or a shard.
        let payloadReasons = Set(RejectReason.allCases.map(\.rawValue)).subtracting([
            "late", "unreadable_batch", "future_timestamp", "amount_overflow", "scope_limit", "unprocessable",
            "notify_failed",
        ])
        #expect(reasons == payloadReasons)
    }
}
