import ArgumentParser
import Kafka

/// Proves the benchmark broker deleted nothing: every partition of every topic whose name starts
/// with one of the prefixes (and the input) must still have log start offset 0.
struct CheckOffsetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-offsets", abstract: "Check that no partition's log start offset moved.")

    @Option var brokers: String
    @Option(help: "Comma-separated topic name prefixes.") var prefixes: String
    @Option var topic = "bench.crm"

    func run() throws {
        let producer = try KafkaProducer(properties: ["bootstrap.servers": brokers])
        let wanted = prefixes.split(separator: ",").map { "\($0)." }
        var checked = 0
        var moved: [String] = []
        for (name, partitions) in try producer.topics() where name == topic || wanted.contains(where: name.hasPrefix) {
            for p in 0..<Int32(partitions) {
                let marks = try producer.watermarks(TopicPartition(name, p))
                checked += 1
                if marks.low != 0 { moved.append("\(name)[\(p)]=\(marks.low)") }
            }
        }
        guard moved.isEmpty else { throw ValidationError("log start offsets moved: \(moved.joined(separator: " "))") }
        print("all \(checked) partitions still start at offset 0")
    }
}
