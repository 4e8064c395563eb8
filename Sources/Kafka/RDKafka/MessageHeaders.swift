import CRdKafka

/// The headers of a message borrowed from librdkafka: valid only inside the poll callback
/// that delivered the message, and read without copying.
package struct MessageHeaders {
    let list: OpaquePointer

    /// The last value of header `name`, pointing into librdkafka's buffer.
    package func value(_ name: String) -> UnsafeRawBufferPointer? {
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get_last(list, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return UnsafeRawBufferPointer(start: value, count: value == nil ? 0 : size)
    }

    /// Every header, copied, in order.
    package var all: [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        var k = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, k, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            out.append((name.map { String(cString: $0) } ?? "", bytes))
            k += 1
        }
        return out
    }
}
