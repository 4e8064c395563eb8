import CRdKafka
import Foundation
import Logging
import Synchronization

/// Routes librdkafka's own log lines (connection failures, protocol errors) into swift-log, so
/// they share the worker's format, level and secret scrubbing instead of going raw to stderr.
package enum KafkaLog {
    fileprivate static let sink = Mutex<Logger?>(nil)

    /// Sends every client's librdkafka logs to `logger` from now on (nil: back to stderr).
    package static func route(to logger: Logger?) {
        sink.withLock { $0 = logger }
    }

    /// Installs the forwarding callback on a configuration about to become a client.
    static func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_log_cb(conf, kafkaLogTrampoline)
    }
}

/// Runs on librdkafka's threads: formats the line and hands it to the current sink.
private func kafkaLogTrampoline(
    _ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ buffer: UnsafePointer<CChar>?
) {
    let message = buffer.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    let client = rk.map { String(cString: rd_kafka_name($0)) } ?? ""
    guard let logger = KafkaLog.sink.withLock({ $0 }) else {
        FileHandle.standardError.write(Data("%\(level)|\(fac)|\(client)| \(message)\n".utf8))
        return
    }
    // syslog levels: 0 emerg … 7 debug.
    let mapped: Logger.Level =
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    logger.log(level: mapped, "\(message)", metadata: ["librdkafka": "\(fac)", "client": "\(client)"])
}
