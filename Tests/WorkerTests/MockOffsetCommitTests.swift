import Kafka
import Testing

@testable import Worker

/// The second, non-transactional offset commit exists for librdkafka's mock cluster only
/// (docs/guarantees.md#exactly-once): these tests pin down that a stage's output turns it on
/// for the mock, recognized through the brokers' metadata, and for nothing else.
@Suite("Offsets committed again only on the mock cluster")
struct MockOffsetCommitTests {
    @Test("the mock's cluster id, read from its metadata, is recognized; a real cluster's is not")
    func recognition() throws {
        let cluster = try MockCluster(brokers: 1)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        let id = try #require(producer.clusterId())
        #expect(MockCluster.isMock(clusterId: id), "mock cluster id \(id)")
        // Kafka's cluster ids are base64 UUIDs (kafka-storage random-uuid).
        #expect(!MockCluster.isMock(clusterId: "MkU3OEVBNTcwNTJENDM2Qk"))
        #expect(!MockCluster.isMock(clusterId: ""))
    }

    @Test("an exactly-once output commits again on the mock; an at-least-once output has no transaction to repeat")
    func stageOutput() throws {
        let cluster = try MockCluster(brokers: 1)
        let properties = ["bootstrap.servers": cluster.bootstrapServers]
        let transactional = try StageOutput(properties: properties, transactionalId: "mock-offsets-test")
        #expect(transactional.exactlyOnce)
        #expect(transactional.commitsAgainForMock)
        let plain = try StageOutput(properties: properties, transactionalId: nil)
        #expect(!plain.commitsAgainForMock)
    }
}
