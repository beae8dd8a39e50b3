// `rwkv bench`: prefill and decode speed, memory use and the fraction of memory bandwidth decode reaches.

import ArgumentParser
import Foundation
import RWKV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prefill and decode tokens/s of a model file or a random model of a preset size.")

    @Option(name: [.short, .customLong("model")], help: "Model file (.pth, .safetensors or .gguf). Default: $RWKV_MODEL, else the bundled model.")
    var model: String?

    @Option(help: "Instead of a file, a random RWKV-7 model of this size: \(RandomModelSpec.presetNames.joined(separator: ", ")).")
    var preset: String?

    @Option(name: [.short, .customLong("prompt")], help: "Prompt tokens for the prefill measurement (one chunk; default 512, or 1 with --kernels).")
    var promptTokens: Int?

    private var prompt: Int { promptTokens ?? (kernels ? 1 : 512) }

    @Option(name: [.customShort("n"), .customLong("decode")], help: "Tokens to decode one at a time.")
    var decode = 128

    @Option(name: [.short, .customLong("threads")], help: "Kernel threads.")
    var threadCount = ThreadCount.allCores
    var threads: Int { threadCount.value }

    @Option(help: "Repetitions; medians and ranges are reported.")
    var repetitions = 5

    @Option(help: "Weight format of the large matrices: f32, f16, bf16, q8_0, q4_0 (default: the file's dtype; f16 for --preset).")
    var weights: WeightFormat?

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Measure the product kernel of every weight format instead of a model (--prompt sets the token count).")
    var kernels = false

    func validate() throws {
        // Checked for --kernels too: a negative token count would size the kernel buffers.
        try requireOption("--prompt", prompt, in: 1...(1 << 16))
        try requireOption("--decode", decode, in: 1...(1 << 20))
        try requireOption("--repetitions", repetitions, in: 1...1000)
        try requireOption("--threads", threads, in: 1...maxThreadsOption)
        if kernels { return }
        guard model == nil || preset == nil else { throw ValidationError("give -m MODEL or --preset SIZE, not both (neither: the bundled model)") }
        if let preset, RandomModelSpec.preset(preset) == nil {
            throw ValidationError("unknown preset '\(preset)'; expected one of \(RandomModelSpec.presetNames.joined(separator: ", "))")
        }
    }

    struct Stats: Encodable {
        var median: Double, min: Double, max: Double
        init(_ values: [Double]) {
            let s = values.sorted()
            median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            min = s.first ?? 0
            max = s.last ?? 0
        }
    }

    struct Report: Encodable {
        var model: String, weights: String, kernels: String, threads: Int, repetitions: Int
        var promptTokens: Int, decodeTokens: Int
        var loadSeconds: Double
        var prefillTokensPerSecond: Stats, decodeTokensPerSecond: Stats
        var peakRSSBytes: Int, weightBytesPerToken: Int
        var readBandwidthBytesPerSecond: Double, decodeLimitTokensPerSecond: Double, decodeFractionOfLimit: Double
    }

    func run() throws {
        KernelThreads.count = threads
        if kernels {
            let speeds = try measureKernels(threads: threads, tokens: prompt)
            if json { try printJSON(speeds); return }
            print("kernels: \(KernelPath.automatic.rawValue) (RWKV_PORTABLE_KERNELS=1 forces the Swift path)")
            for s in speeds {
                print(String(format: "%@ %d×%d × %d tokens, %d threads: %.1f GB/s, %.1f GFLOP/s", s.format, s.rows, s.cols,
                             s.tokens, s.threads, s.gigabytesPerSecond, s.gigaflopsPerSecond))
            }
            return
        }
        let loadStart = Date()
        let (rwkv, name, format) = try load()
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let vocabulary = rwkv.config.vocabularySize
        var random = SystemRandomNumberGenerator()
        let promptTokens = (0..<prompt).map { _ in Int.random(in: 0..<vocabulary, using: &random) }
        var warm = rwkv.makeState()
        for t in promptTokens.prefix(4) { _ = try rwkv.step(t, state: &warm) }

        var prefillRates: [Double] = [], decodeRates: [Double] = []
        for _ in 0..<repetitions {
            var state = rwkv.makeState()
            let start = Date()
            var logits = try rwkv.forward(promptTokens, state: &state).data
            prefillRates.append(Double(prompt) / Date().timeIntervalSince(start))
            let decodeStart = Date()
            for _ in 0..<decode {
                let next = logits.indices.max { logits[$0] < logits[$1] } ?? 0
                logits = try rwkv.step(next, state: &state)
            }
            decodeRates.append(Double(decode) / Date().timeIntervalSince(decodeStart))
        }
        let peak = peakRSSBytes()   // before the bandwidth probe allocates its buffer
        let bandwidth = MemoryBandwidth.measureRead(threads: threads)
        let bytesPerToken = rwkv.streamedBytesPerToken
        let limit = bandwidth / Double(bytesPerToken)
        let decodeStats = Stats(decodeRates)
        let report = Report(model: name, weights: format, kernels: KernelPath.automatic.rawValue, threads: threads, repetitions: repetitions, promptTokens: prompt,
                            decodeTokens: decode, loadSeconds: loadSeconds, prefillTokensPerSecond: Stats(prefillRates),
                            decodeTokensPerSecond: decodeStats, peakRSSBytes: peak, weightBytesPerToken: bytesPerToken,
                            readBandwidthBytesPerSecond: bandwidth, decodeLimitTokensPerSecond: limit,
                            decodeFractionOfLimit: decodeStats.median / limit)
        if json { try printJSON(report) } else { printText(report) }
    }

    /// The model, its display name and the weight format used.
    private func load() throws -> (RWKVModel, String, String) {
        if let preset, let spec = RandomModelSpec.preset(preset) {
            let format = weights ?? .f16
            // Plain formats are generated directly; quantised ones are quantised from fp16 at load.
            let dtype: DType = switch format {
            case .f32: .float32
            case .bf16: .bfloat16
            default: .float16
            }
            let checkpoint = try spec.checkpoint(dtype: dtype)
            let options = LoadOptions(weightFormat: format.isQuantized ? format : nil)
            return (try RWKVModel(checkpoint: checkpoint, options: options), "random \(preset)", format.rawValue)
        }
        let path = try resolvedModel(model).path
        let rwkv = try RWKVModel.load(path: path, options: LoadOptions(weightFormat: weights))
        return (rwkv, path, weights?.rawValue ?? "file dtype")
    }

    private func printText(_ r: Report) {
        func rate(_ s: Stats) -> String { String(format: "%.1f tok/s (min %.1f, max %.1f)", s.median, s.min, s.max) }
        print("model \(r.model), weights \(r.weights), \(r.kernels) kernels, \(r.threads) threads, \(r.repetitions) repetitions, load \(String(format: "%.1f", r.loadSeconds)) s")
        print("prefill pp\(r.promptTokens): \(rate(r.prefillTokensPerSecond))")
        print("decode tg\(r.decodeTokens):  \(rate(r.decodeTokensPerSecond))")
        print(String(format: "weights per token %.1f MB, read bandwidth %.1f GB/s → limit %.1f tok/s, decode at %.2f of it",
                     Double(r.weightBytesPerToken) / 1e6, r.readBandwidthBytesPerSecond / 1e9, r.decodeLimitTokensPerSecond,
                     r.decodeFractionOfLimit))
        print(String(format: "peak RSS %.1f MB", Double(r.peakRSSBytes) / 1e6))
    }
}

extension WeightFormat: ExpressibleByArgument {}

/// Peak resident set size of this process, in bytes.
func peakRSSBytes() -> Int {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Int(usage.ru_maxrss) * 1024
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Int(usage.ru_maxrss)
    #endif
}
