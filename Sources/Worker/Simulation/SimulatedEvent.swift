import SalesKPI

/// One message of the simulated feed, ready to produce.
package struct SimulatedEvent: Sendable {
    package var time: EpochMillis
    package var topic: Topic
    package var key: String
    package var json: String

    package enum Topic: Sendable {
        case deals, customers, spend
    }
}
