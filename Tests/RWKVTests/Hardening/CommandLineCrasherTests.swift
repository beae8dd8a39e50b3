// Numeric options that used to trap the CLI (issue 13) are usage errors (exit 64); hostile files given to
// it are runtime errors (exit 1). Runs the `rwkv` executable built next to the test bundle
// (`swift build --build-tests` builds both).

import Foundation
import Testing
@testable import RWKV

@Suite("Hostile command lines")
struct CommandLineCrasherTests {
    /// `rwkv` in the build directory of the running tests.
    static let executable: URL? = {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent(), dir.deletingLastPathComponent().deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("rwkv")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue { return url }
        }
        return nil
    }()

    /// Exit status and stderr of `rwkv arguments`.
    func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let url = try #require(Self.executable, "the rwkv executable is not built next to the tests; run `swift build --build-tests`")
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    static let usageErrors: [[String]] = [
        ["quality", "-m", "x.pth", "--file", "x.txt", "--tokens=-1"],
        ["bench", "--kernels", "-p=-5"],
        ["bench", "--kernels", "-p", "4611686018427387904"],
        ["bench", "--preset", "0.1b", "--threads", "0"],
        ["init", "--vocab", "4611686018427387904", "--layers", "2", "--dim", "64", "-o", "/tmp/never-written.pth"],
        ["init", "--layers", "4611686018427387904", "--dim", "64", "-o", "/tmp/never-written.pth"],
        ["init", "--layers", "2", "--dim", "64", "--head-size", "0", "-o", "/tmp/never-written.pth"],
        ["train", "--data", "x.txt", "--ctx", "4611686018427387904"],
        ["train", "--data", "x.txt", "--batch", "4611686018427387904"],
        ["train", "--data", "x.txt", "--layers", "4611686018427387904"],
        ["generate", "-m", "x.pth", "--threads=-1", "hi"],
    ]

    @Test("Absurd numeric options: usage error, exit 64", arguments: usageErrors)
    func usageError(arguments: [String]) throws {
        let (status, stderr) = try run(arguments)
        #expect(status == 64, "\(arguments.joined(separator: " ")): exit \(status), \(stderr)")
        #expect(stderr.contains("must be"), "\(stderr)")
    }

    @Test("bench on a vocabulary-0 model and generate --state DIRECTORY: clean runtime errors")
    func hostileFiles() throws {
        let dir = try TestPaths.temporaryDirectory()
        var tensors = try HostileInput.tinyV7().tensors
        tensors["emb.weight"] = try HostileInput.zeros([0, 16])
        tensors["head.weight"] = try HostileInput.zeros([0, 16])
        let vocab0 = dir.appendingPathComponent("vocab0.safetensors").path
        try Checkpoint(tensors: tensors).write(to: vocab0)
        let bench = try run(["bench", "-m", vocab0, "-p", "2", "-n", "1", "--repetitions", "1"])
        #expect(bench.status == 1 && bench.stderr.contains("vocabulary"), "\(bench)")

        let model = dir.appendingPathComponent("tiny.safetensors").path
        try HostileInput.tinyV7().write(to: model)
        let generate = try run(["generate", "-m", model, "--state", dir.path, "-n", "1", "hi"])
        #expect(generate.status == 1 && generate.stderr.contains("directory"), "\(generate)")
    }
}

extension CommandLineCrasherTests {
    @Test("init of a model larger than memory: a clean runtime error, not an allocation abort")
    func modelLargerThanMemory() throws {
        let (status, stderr) = try run(["init", "--layers", "4096", "--dim", "65536", "--vocab", "65536", "-o", "/tmp/never-written.pth"])
        #expect(status == 1 && stderr.contains("GiB"), "\(status) \(stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written.pth"))
    }
}
