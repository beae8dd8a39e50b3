// Option groups shared by subcommands, and the one place that turns library errors into exit codes.

import ArgumentParser
import Foundation
import RWKV
import RWKVHub

/// Where the model comes from: `-m PATH`, else `$RWKV_MODEL`, else the model the repository ships.
struct ModelOptions: ParsableArguments {
    @Option(name: [.short, .customLong("model")], help: "Model file (.pth, .safetensors or .gguf) or OWNER/NAME[/FILE] from the hub cache. Default: $RWKV_MODEL, else the bundled model.")
    var model: String?

    @Flag(help: "Download -m OWNER/NAME[/FILE] from the Hugging Face hub when it is not in the cache yet.")
    var pull = false

    @Option(name: .customLong("threads"), help: "Threads for the matrix kernels.")
    var threadCount = ThreadCount.allCores
    var threads: Int { threadCount.value }

    @Option(help: "Hold the large matrices as f32, f16, bf16, q8_0 or q4_0 (default: the file's dtype, memory-mapped).")
    var weights: WeightFormat?

    /// The model path, or a usage error that says how to get a model.
    func resolvedPath() throws -> String { try resolvedModel(model, pull: pull).path }

    func validate() throws {
        try requireOption("--threads", threads, in: 1...maxThreadsOption)
    }

    /// Loads the model, setting the kernel thread count first; `verbose` says on stderr which file it is.
    func load(verbose: Bool = false) throws -> RWKVModel {
        KernelThreads.count = max(1, threads)
        let (path, origin) = try resolvedModel(model, pull: pull)
        if verbose { printError("model: \(path) (\(origin))") }
        return try RWKVModel.load(path: path, options: LoadOptions(weightFormat: weights))
    }
}

/// The model the repository ships (README default), as a path relative to the repository root.
let bundledModelRelativePath = "models/rwkv7-shakespeare-L6-D256.pth"

/// `explicit`, else `$RWKV_MODEL`, else the bundled model, with where it came from. A name that is not
/// a file but reads as OWNER/NAME[/FILE] is looked up in the hub cache (and pulled with `pull`).
func resolvedModel(_ explicit: String?, pull: Bool = false) throws -> (path: String, origin: String) {
    let named = explicit.map { ($0, "from -m") }
        ?? ProcessInfo.processInfo.environment["RWKV_MODEL"].flatMap { $0.isEmpty ? nil : ($0, "from $RWKV_MODEL") }
    if let (path, origin) = named {
        guard !FileManager.default.fileExists(atPath: path), let reference = HubReference(path) else { return (path, origin) }
        return (try hubModel(reference, pull: pull).path, "\(reference) from the hub cache")
    }
    if let found = bundledModelPath() { return found }
    throw ValidationError("""
        no model given and the bundled model (\(bundledModelRelativePath)) was not found beside the executable \
        or in the current directory. Pass -m PATH or set RWKV_MODEL; official RWKV-7 checkpoints (.pth) load directly.
        """)
}

/// A model in the hub cache: the file named, or a repository's only model file, or its snapshot folder
/// (Hugging Face format: config.json with safetensors shards).
func hubModel(_ reference: HubReference, pull: Bool) throws -> URL {
    let cache = HubCache.fromEnvironment()
    if let file = reference.file, let url = cache.cachedFile(reference.repository, file: file) { return url }
    if reference.file == nil, let folder = cache.cachedSnapshot(reference.repository) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let weights = files.filter { [".pth", ".safetensors", ".gguf"].contains(where: $0.hasSuffix) }
        if files.contains("config.json") && !weights.isEmpty && weights.allSatisfy({ $0.hasSuffix(".safetensors") }) { return folder }
        if weights.count == 1 { return folder.appendingPathComponent(weights[0]) }
        if weights.count > 1 { throw ValidationError("\(reference) holds several model files; name one: " + weights.sorted().joined(separator: ", ")) }
    }
    guard pull else {
        throw ValidationError("\(reference) is neither a file nor in the hub cache (\(cache.root.path)); run `rwkv pull \(reference)` or add --pull")
    }
    return try runBlocking {
        let client = HubClient()
        let bar = PullProgressLine(quiet: false)
        do {
            let url = try await client.pull(reference) { bar.show($0) }
            bar.finish()
            try await client.shutdown()
            return url
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// Runs async work to completion from synchronous code (the CLI's model resolution).
func runBlocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>(), done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }

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
