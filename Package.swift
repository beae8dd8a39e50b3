// swift-tools-version:6.0
import PackageDescription

// No compiler flags anywhere (SwiftPM refuses unsafe compiler flags in a dependency, and the root build should
// be exactly what a dependent gets): the hot kernels are C functions in CRWKVKernels that carry their
// own AVX2/FMA/F16C target attributes and are chosen at run time (docs/performance.md).
let package = Package(
    name: "swift-rwkv",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "RWKV", targets: ["RWKV"]),
        .executable(name: "rwkv", targets: ["rwkv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CRWKVKernels"),
        .target(
            name: "RWKV",
            dependencies: ["CRWKVKernels"],
            resources: [.copy("Resources/rwkv_vocab_v20230424.txt"), .copy("Resources/LICENSE-rwkv-vocab.txt")]
        ),
        .target(
            name: "RWKVServer",
            dependencies: ["RWKV", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .target(
            name: "RWKVHub",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .executableTarget(
            name: "rwkv",
            dependencies: ["RWKV", "RWKVServer", "RWKVHub", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "RWKVTests",
            dependencies: ["RWKV"]
        ),
        .testTarget(
            name: "RWKVHubTests",
            dependencies: ["RWKVHub", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "RWKVCLITests",
            dependencies: ["rwkv"]
        ),
        .testTarget(
            name: "RWKVServerTests",
            dependencies: ["RWKVServer", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ]
)
