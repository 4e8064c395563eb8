import Foundation

/// What a client's librdkafka statistics (`statistics.interval.ms`) say about its round trips
/// with the brokers, summed over them: the trouble a client met even when it recovered on its
/// own, which no delivery report or consumer error shows.
package struct ClientStatistics: Sendable, Equatable {
    /// Requests that failed to send, or whose response could not be read.
    package var transmitErrors = 0
    package var receiveErrors = 0
    /// Requests sent again after a retriable error (`txretries`).
    package var retries = 0
    package var requestTimeouts = 0
    /// Connections lost after being up.
    package var disconnects = 0
    /// The longest round trip of the last statistics window, in milliseconds.
    package var maxRoundTripMillis = 0.0
    /// Requests sent per API name (`Produce`, `Fetch`, `Metadata`, …).
    package var requests: [String: Int] = [:]

    package init() {}

    /// Sums, and the longest round trip, of both.
    package static func + (a: ClientStatistics, b: ClientStatistics) -> ClientStatistics {
        var s = a
        s.transmitErrors += b.transmitErrors
        s.receiveErrors += b.receiveErrors
        s.retries += b.retries
        s.requestTimeouts += b.requestTimeouts
        s.disconnects += b.disconnects
        s.maxRoundTripMillis = max(a.maxRoundTripMillis, b.maxRoundTripMillis)
        for (api, n) in b.requests { s.requests[api, default: 0] += n }
        return s
    }

    /// Parsed from librdkafka's statistics JSON (its STATISTICS.md: `brokers.*.txerrs`, …);
    /// nil when it is not that document.
    init?(json: UnsafeRawBufferPointer) {
        guard let base = json.baseAddress,
            let root = try? JSONSerialization.jsonObject(with: Data(bytes: base, count: json.count)) as? [String: Any],
            let brokers = root["brokers"] as? [String: Any]
        else { return nil }
        func int(_ any: Any?) -> Int { (any as? NSNumber)?.intValue ?? 0 }
        for case let broker as [String: Any] in brokers.values {
            transmitErrors += int(broker["txerrs"])
            receiveErrors += int(broker["rxerrs"])
            retries += int(broker["txretries"])
            requestTimeouts += int(broker["req_timeouts"])
            disconnects += int(broker["disconnects"])
            if let rtt = broker["rtt"] as? [String: Any] {
                maxRoundTripMillis = max(maxRoundTripMillis, Double(int(rtt["max"])) / 1000)
            }
            for case let (api, n as NSNumber) in (broker["req"] as? [String: Any]) ?? [:] where n.intValue > 0 {
                requests[api, default: 0] += n.intValue
            }
        }
    }
}
