// Option groups shared by subcommands, and the one place that turns library errors into exit codes.

import ArgumentParser
import Foundation
import RWKV

/// Where the model comes from: `-m PATH`, else `$RWKV_MODEL`.
struct ModelOptions: ParsableArguments {
    @Option(name: [.short, .customLong("model")], help: "Model file (.pth or .safetensors). Default: $RWKV_MODEL.")
    var model: String?

    @Option(help: "Threads for the matrix kernels.")
    var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @Option(help: "Hold the large matrices as f32, f16, bf16, q8_0 or q4_0 (default: the file's dtype, memory-mapped).")
    var weights: WeightFormat?

    /// The model path, or a usage error that says how to get a model.
    func resolvedPath() throws -> String {
        if let model { return model }
        if let env = ProcessInfo.processInfo.environment["RWKV_MODEL"], !env.isEmpty { return env }
        throw ValidationError("""
            no model given. Pass -m PATH or set RWKV_MODEL. The repository ships a small model it trained: \
            -m models/rwkv7-shakespeare-L6-D256.pth. Official RWKV-7 checkpoints (.pth) load directly.
            """)
    }

    /// Loads the model, setting the kernel thread count first.
    func validate() throws {
        try requireOption("--threads", threads, in: 1...maxThreadsOption)
    }

    func load() throws -> RWKVModel {
        KernelThreads.count = max(1, threads)
        let path = try resolvedPath()
        return try RWKVModel.load(path: path, options: LoadOptions(weightFormat: weights))
    }
}

/// A usage error (exit 64) unless `value` lies in `range`; names the option and the accepted range.
func requireOption(_ name: String, _ value: Int, in range: ClosedRange<Int>) throws {
    guard range.contains(value) else {
        throw ValidationError("\(name) must be in \(range.lowerBound)...\(range.upperBound), found \(value)")
    }
}

/// Upper bound for thread-count options: more threads than this only adds overhead.
let maxThreadsOption = 1024

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
