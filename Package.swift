// swift-tools-version:6.0
import PackageDescription

// No compiler flags anywhere (SwiftPM refuses unsafeFlags in a dependency, and the root build should
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
        .executableTarget(
            name: "rwkv",
            dependencies: ["RWKV", "RWKVServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "RWKVTests",
            dependencies: ["RWKV"]
        ),
        .testTarget(
            name: "RWKVServerTests",
            dependencies: ["RWKVServer", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ]
)
