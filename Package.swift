// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "SalesPulse",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "salespulse", targets: ["salespulse"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(name: "SalesKPI", swiftSettings: strict),
        .target(name: "Kafka", dependencies: ["CRdKafka"], swiftSettings: strict),
        .target(
            name: "Worker",
            dependencies: [
                "SalesKPI", "Kafka",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "salespulse",
            dependencies: [
                "Worker", "Kafka", "SalesKPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport",
            dependencies: ["SalesKPI", "Kafka", "Worker"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "SalesKPITests", dependencies: ["SalesKPI", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "WorkerTests",
            dependencies: ["Worker", "Kafka", "SalesKPI", "TestSupport"],
            swiftSettings: strict
        ),
    ]
)
