// Option groups shared by subcommands, and the one place that turns library errors into exit codes.

import ArgumentParser
import Foundation
import RWKV

/// Where the model comes from: `-m PATH`, else `$RWKV_MODEL`, else the model the repository ships.
struct ModelOptions: ParsableArguments {
    @Option(name: [.short, .customLong("model")], help: "Model file (.pth, .safetensors or .gguf). Default: $RWKV_MODEL, else the bundled model.")
    var model: String?

    @Option(name: .customLong("threads"), help: "Threads for the matrix kernels.")
    var threadCount = ThreadCount.allCores
    var threads: Int { threadCount.value }

    @Option(help: "Hold the large matrices as f32, f16, bf16, q8_0 or q4_0 (default: the file's dtype, memory-mapped).")
    var weights: WeightFormat?

    /// The model path, or a usage error that says how to get a model.
    func resolvedPath() throws -> String { try resolvedModel(model).path }

    /// Loads the model, setting the kernel thread count first; `verbose` says on stderr which file it is.
    func load(verbose: Bool = false) throws -> RWKVModel {
        KernelThreads.count = max(1, threads)
        let (path, origin) = try resolvedModel(model)
        if verbose { printError("model: \(path) (\(origin))") }
        return try RWKVModel.load(path: path, options: LoadOptions(weightFormat: weights))
    }
}

/// The model the repository ships (README default), as a path relative to the repository root.
let bundledModelRelativePath = "models/rwkv7-shakespeare-L6-D256.pth"

/// `explicit`, else `$RWKV_MODEL`, else the bundled model, with where it came from.
func resolvedModel(_ explicit: String?) throws -> (path: String, origin: String) {
    if let explicit { return (explicit, "from -m") }
    if let env = ProcessInfo.processInfo.environment["RWKV_MODEL"], !env.isEmpty { return (env, "from $RWKV_MODEL") }
    if let found = bundledModelPath() { return found }
    throw ValidationError("""
        no model given and the bundled model (\(bundledModelRelativePath)) was not found beside the executable \
        or in the current directory. Pass -m PATH or set RWKV_MODEL; official RWKV-7 checkpoints (.pth) load directly.
        """)
}

/// The bundled model: in the repository that holds the executable (`<repo>/.build/<config>/rwkv`), in an
/// installed layout (`<prefix>/bin/rwkv` with `<prefix>/share/swift-rwkv/models/`), or under the current directory.
func bundledModelPath() -> (path: String, origin: String)? {
    let fm = FileManager.default
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    for _ in 0..<4 {
        directory = directory.deletingLastPathComponent()
        for root in [directory, directory.appendingPathComponent("share/swift-rwkv")] {
            let candidate = root.appendingPathComponent(bundledModelRelativePath).standardizedFileURL.path
            if fm.fileExists(atPath: candidate) { return (candidate, "bundled model, found beside the executable") }
        }
    }
    let local = URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent(bundledModelRelativePath).path
    if fm.fileExists(atPath: local) { return (local, "bundled model, found in the current directory") }
    return nil
}

/// A `--threads` value; its default, every core, is shown as such (help text is the same on every machine).
struct ThreadCount: ExpressibleByArgument {
    var value: Int
    static var allCores: ThreadCount { ThreadCount(value: max(1, ProcessInfo.processInfo.activeProcessorCount)) }
    init(value: Int) { self.value = value }
    init?(argument: String) {
        guard let n = Int(argument) else { return nil }
        value = n
    }
    var defaultValueDescription: String { "all cores" }
}

/// Parses "1,2,3" (spaces allowed) into token ids.
func parseTokenList(_ text: String) throws -> [Int] {
    let parts = text.split(whereSeparator: { $0 == "," || $0 == " " })
    return try parts.map { part in
        guard let id = Int(part) else { throw ValidationError("'\(part)' is not a token id (expected integers like 1,2,3)") }
        return id
    }
}

/// Encodes a value as compact JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// Writes to stderr (progress, diagnostics).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
