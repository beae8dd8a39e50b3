// swift-tools-version:6.0
// libFuzzer targets for the parsers that read untrusted bytes. Built and run by ../scripts/fuzz.sh:
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld
// Each target exports LLVMFuzzerTestOneInput (libFuzzer's main needs it) and `<Target>_main`, the entry
// SwiftPM links executables to, which starts libFuzzer's driver (FuzzSupport). gold crashes on this
// link, hence lld. Thrown errors are ignored: only crashes, traps and sanitizer reports are findings.
import PackageDescription

let names = ["FuzzZip", "FuzzPickle", "FuzzSafetensors", "FuzzGGUF", "FuzzStateFile", "FuzzWorldTokenizer", "FuzzChatTemplate"]

let package = Package(
    name: "swift-rwkv-fuzz",
    dependencies: [.package(name: "swift-rwkv", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"]),
    ] + names.map { name in
        .executableTarget(name: name, dependencies: ["FuzzSupport", .product(name: "RWKV", package: "swift-rwkv")], path: "Sources/\(name)")
    }
)
