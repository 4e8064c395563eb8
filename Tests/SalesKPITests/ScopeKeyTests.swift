import SalesKPI
import Testing

@Suite("Scope keys")
struct ScopeKeyTests {
    @Test("the id's bytes (message keys) are the UTF-8 of the id, for every kind of scope")
    func idBytes() {
        let keys: [ScopeKey] = [
            .company, .region("east"), .region("华东"), .rep("r-1", in: "east"), .rep("王", in: "华东/北"),
        ]
        for key in keys { #expect(key.idBytes == Array(key.id.utf8), "\(key)") }
        #expect(ScopeKey.rep("r-1", in: "east").id == "east/r-1")
    }
}
