import Testing

@testable import SalesKPI

@Suite("Changelog record keys")
struct RecordKeyTests {
    /// The key a kept final's record has always had: its parts joined by U+0001 after `c|`.
    /// Keys already on a compacted topic must be written the same, or a tombstone would miss
    /// the record it deletes.
    @Test("scope and kept-final keys, built from bytes, are the interpolated text they replaced")
    func closedKey() {
        let scopes: [ScopeKey] = [.region("east"), .rep("r-7", in: "华东"), .rep("", in: "")]
        let times: [(EpochMillis, EpochMillis)] = [
            (0, 86_400_000), (1_767_542_400_000, 1_768_147_200_000), (-62_135_596_800_000, -1),
            (.min, .max),
        ]
        for scope in scopes {
            for (start, end) in times {
                for kind: UInt8 in [0, 9, 255] {
                    let window = Window(kind: kind, start: start, end: end)
                    let expected =
                        "c|\(kind)\u{1}\(start)\u{1}\(end)\u{1}\(scope.kind.rawValue)\u{1}\(scope.region)\u{1}\(scope.rep)"
                    #expect(ShardProcessor.closedKey(ClosedKey(scope: scope, window: window)) == expected)
                }
            }
            #expect(ShardProcessor.scopeKey(scope) == "s|\(scope.kind.rawValue)\u{1}\(scope.region)\u{1}\(scope.rep)")
        }
    }
}
