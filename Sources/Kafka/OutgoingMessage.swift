/// A message to produce. Bytes are copied into librdkafka when it is sent.
package struct OutgoingMessage: Sendable {
    package var topic: String
    /// nil lets the partitioner choose from the key.
    package var partition: Int32?
    package var key: [UInt8]?
    package var value: [UInt8]
    package var headers: [(String, [UInt8])]

    package init(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }

    package init(topic: String, key: String?, value: String, headers: [(String, String)] = []) {
        self.init(
            topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8),
            headers: headers.map { ($0.0, Array($0.1.utf8)) })
    }
}
