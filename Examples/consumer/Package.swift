// swift-tools-version:6.0
// A package that depends on swift-rwkv as any other package would, built with no flags:
// `swift build -c release` here must give the same kernel speed as the root build (docs/performance.md).
import PackageDescription

let package = Package(
    name: "consumer",
    platforms: [.macOS(.v14)],
    // `name:` pins the identity, which otherwise is the checkout directory name.
    dependencies: [.package(name: "swift-rwkv", path: "../..")],
    targets: [
        .executableTarget(name: "consumer", dependencies: [.product(name: "RWKV", package: "swift-rwkv")]),
    ]
)
