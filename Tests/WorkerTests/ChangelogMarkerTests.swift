import Kafka
import SalesKPI
import Testing

@testable import Worker

@Suite("Changelog markers")
struct ChangelogMarkerTests {
    @Test("a marker reads back as its positions; another version, or the JSON form without one, is refused")
    func versioned() throws {
        let positions = [TopicPartition("crm.deals", 0): Int64(42), TopicPartition("crm.spend", 3): 7]
        let value = try #require(ChangelogMarker(positions).record.value)
        #expect(value.first == ChangelogMarker.version)
        #expect(try ChangelogMarker.read(value).positions == positions)
        var other = value
        other[0] = 0xD2
        #expect(throws: StateEncoding.UnknownVersion.self) { try ChangelogMarker.read(other) }
        let error = #expect(throws: StateEncoding.UnknownVersion.self) {
            try ChangelogMarker.read(Array(value.dropFirst()))
        }
        #expect(error?.description.contains("0x7B") == true && error?.description.contains("0xD1") == true)
    }
}
