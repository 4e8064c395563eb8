import Foundation
import TestSupport
import Testing
import Worker

@testable import SalesKPI

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("what it writes parses back to the same values: escapes, nesting, numbers, money, nulls")
    func roundTrip() throws {
        let awkward = "q\"b\\s/\n\r\t\u{1}\u{1F} 华东 🚀 end"
        var w = JSONWriter()
        w.beginObject()
        w.field("text", awkward)
        w.field("none", nil as String?)
        w.field(dynamic: "dyn\"key", awkward)
        w.field("int", Int64.min)
        w.field("max", Int64.max)
        w.field("zero", 0)
        w.field("yes", true)
        w.field("no", false)
        w.field("ratio", 1.0 / 3)
        w.field("nan", Double.nan)
        w.field("money", Money(minorUnits: -123_456_789))
        w.field("cents", Money(minorUnits: 5))
        w.field("at", timestamp: 1_767_542_400_123, offsetSeconds: 28_800)
        w.beginObject("inner")
        w.beginArray("pairs")
        w.pairElement(-1, 2)
        w.pairElement(30, 0)
        w.endArray()
        w.beginArray("empty")
        w.endArray()
        w.endObject()
        w.field("after", 1)
        w.field("joined", "华东\"", UInt8(ascii: "/"), "r\n1")
        w.endObject()
        let parsed = try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any]
        let json = try #require(parsed, "\(w.text)")
        #expect(json["text"] as? String == awkward)
        #expect(json["none"] is NSNull)
        #expect(json["dyn\"key"] as? String == awkward)
        #expect((json["int"] as? NSNumber)?.int64Value == Int64.min)
        #expect((json["max"] as? NSNumber)?.int64Value == Int64.max)
        #expect(json["zero"] as? Int == 0)
        #expect(json["yes"] as? Bool == true && json["no"] as? Bool == false)
        #expect(json["ratio"] as? Double == 1.0 / 3)
        #expect(json["nan"] is NSNull)
        #expect(json["money"] as? String == "-1234567.89")
        #expect(json["cents"] as? String == "0.05")
        #expect(json["at"] as? String == "2026-01-05T00:00:00.123+08:00")
        let inner = json["inner"] as? [String: Any] ?? [:]
        #expect((inner["pairs"] as? [[Int]]) == [[-1, 2], [30, 0]])
        #expect((inner["empty"] as? [Any])?.isEmpty == true)
        #expect(json["after"] as? Int == 1)
        #expect(json["joined"] as? String == "华东\"/r\n1")
    }

    @Test("a number is written exactly as its description: shortest round-trip digits, exponents, signs")
    func doubles() throws {
        var rng = seededGenerator(102)
        var values: [Double] = [
            0, -0.0, 1, 0.1, 1.0 / 3, 2.0 / 3, 1e-7, 1e16, 1e300, -.leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        for _ in 0..<20_000 {
            values.append(Double(bitPattern: rng.next()))
            values.append(
                Double(Int.random(in: 0...1_000_000, using: &rng)) / Double(Int.random(in: 1...10_000, using: &rng)))
        }
        for v in values where v.isFinite {
            var w = JSONWriter()
            w.beginObject()
            w.field("v", v)
            w.endObject()
            #expect(w.text == "{\"v\":\(v.description)}")
            // Valid JSON (the digits themselves round-trip: that is what `description` promises).
            #expect((try? JSONSerialization.jsonObject(with: Data(w.bytes))) != nil)
        }
    }
}
