// swift-tools-version:6.0
import PackageDescription

// Release builds need AVX2/FMA/F16C code generation on x86_64 (see docs/performance.md):
// without it `addingProduct` becomes a libcall per lane and fp16 loads convert element by element.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-march=x86-64-v3"], .when(platforms: [.linux])),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

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
        .target(
            name: "RWKV",
            resources: [.copy("Resources/rwkv_vocab_v20230424.txt"), .copy("Resources/LICENSE-rwkv-vocab.txt")],
            swiftSettings: kernelFlags
        ),
        .target(
            name: "RWKVServer",
            dependencies: ["RWKV", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: kernelFlags
        ),
        .target(
            name: "RWKVHub",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .executableTarget(
            name: "rwkv",
            dependencies: ["RWKV", "RWKVServer", "RWKVHub", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: kernelFlags
        ),
        .testTarget(
            name: "RWKVTests",
            dependencies: ["RWKV"],
            swiftSettings: kernelFlags
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
            dependencies: ["RWKVServer", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: kernelFlags
        ),
    ]
)
