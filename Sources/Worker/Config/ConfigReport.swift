import Yams

/// What `check-config` prints: the effective configuration (files plus environment overrides)
/// with every secret librdkafka property redacted.
package enum ConfigReport {
    package static func render(_ config: ResolvedConfig) throws -> String {
        var worker = config.worker
        worker.kafka.properties = SecretRedaction.redact(worker.kafka.properties)
        let yaml = try YAMLEncoder().encode(worker)
        return "# effective worker configuration (secrets redacted)\n" + yaml
            + "# \(config.targetsFile.targets.count) targets, \(config.marketsFile.regions.count) regions with market sizes\n"
            + "configuration OK"
    }
}
