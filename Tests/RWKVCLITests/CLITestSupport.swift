// Runs the built `rwkv` executable as a user would: arguments, stdin, exit code, stdout and stderr.

import Foundation
import Testing

enum CLI {
    /// `<repo>`, found from this file's path.
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    static let bundledModel = repo.appendingPathComponent("models/rwkv7-shakespeare-L6-D256.pth").path

    /// The `rwkv` binary SwiftPM built beside the test bundle.
    static var executable: URL {
        let bundleDirectory = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundleDirectory.appendingPathComponent("rwkv")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `rwkv arguments…` in `directory` (default: a fresh temporary one) and waits for it.
    static func run(_ arguments: [String], stdin: String? = nil, directory: URL? = nil,
                    environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = try directory ?? temporaryDirectory()
        var env = ProcessInfo.processInfo.environment
        env["RWKV_MODEL"] = nil
        env["COLUMNS"] = "100"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let errData = ReadAll(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.wait(), as: UTF8.self))
    }

    /// A small byte-level RWKV-7 written by `rwkv init` into `directory` (debug builds run the
    /// bundled 5 M-parameter model at only a few tokens per second).
    static func tinyModel(in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("tiny.pth").path
        let result = try run(["init", "--layers", "2", "--dim", "64", "--vocab", "256", "--seed", "3", "-o", path])
        try #require(result.status == 0, "rwkv init failed: \(result.stderr)")
        return path
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rwkv-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Reads a pipe to its end on a background thread.
final class ReadAll: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
