// `rwkv init`: a freshly initialised RWKV-7 in the official layout (RWKV-LM's init, spec §9.1),
// as a training start or a benchmark model of a released shape.

import ArgumentParser
import Foundation
import RWKV

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a randomly initialised RWKV-7 model (official layout and init) to a .pth or .safetensors file.")

    /// Released RWKV-7 World shapes and their low-rank widths (spec §2.1).
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case p0_1b = "0.1b", p0_4b = "0.4b", p1_5b = "1.5b", p2_9b = "2.9b"

        var dimensions: RWKV7Dimensions {
            switch self {
            case .p0_1b: RWKV7Dimensions(layers: 12, embedding: 768, headSize: 64, vocabulary: 65536, decayRank: 64, iclrRank: 64, valueRank: 32, gateRank: 128)
            case .p0_4b: RWKV7Dimensions(layers: 24, embedding: 1024, headSize: 64, vocabulary: 65536, decayRank: 64, iclrRank: 64, valueRank: 32, gateRank: 128)
            case .p1_5b: RWKV7Dimensions(layers: 24, embedding: 2048, headSize: 64, vocabulary: 65536, decayRank: 96, iclrRank: 96, valueRank: 64, gateRank: 256)
            case .p2_9b: RWKV7Dimensions(layers: 32, embedding: 2560, headSize: 64, vocabulary: 65536, decayRank: 96, iclrRank: 96, valueRank: 64, gateRank: 320)
            }
        }
    }

    @Option(help: "A released shape: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")).") var preset: Preset?
    @Option(help: "Layers (overrides the preset).") var layers: Int?
    @Option(help: "Embedding size (overrides the preset; new low-rank widths follow RWKV-LM's formula).") var dim: Int?
    @Option(help: "Vocabulary rows (65536 for World, 256 for bytes).") var vocab: Int?
    @Option(help: "Head size.") var headSize = 64
    @Option(help: "Stored float type: bf16, f16 or f32.") var dtype: Convert.FloatType = .bf16
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(name: [.short, .customLong("output")], help: "Output file (.pth or .safetensors).") var output: String

    func validate() throws {
        guard preset != nil || (layers != nil && dim != nil) else { throw ValidationError("give --preset, or --layers and --dim") }
        guard let f = CheckpointFormat(pathExtensionOf: output), f != .gguf else { throw ValidationError("-o must end in .pth or .safetensors") }
        try requireModelSize(layers: layers, dim: dim, headSize: headSize, vocab: vocab)
    }

    func run() throws {
        var d = preset?.dimensions ?? RWKV7Dimensions(layers: 1, embedding: headSize, headSize: headSize, vocabulary: 65536,
                                                       decayRank: 32, iclrRank: 32, valueRank: 32, gateRank: 32)
        if let dim, dim != d.embedding {
            d = try RWKV7Dimensions.official(layers: d.layers, embedding: dim, vocabulary: d.vocabulary, headSize: headSize)
        }
        if let layers { d.layers = layers }
        if let vocab { d.vocabulary = vocab }
        try requireMemory(for: d, arrays: 2)   // fp32 values, then the stored copy
        let checkpoint = try RWKV7Initializer.checkpoint(dimensions: d, seed: seed, dtype: dtype.dtype) { i, n, name in
            FileHandle.standardError.write(Data("\rinitialising \(i + 1)/\(n) \(name)\u{1B}[K".utf8))
        }
        try checkpoint.write(to: output)
        let count = checkpoint.tensors.values.reduce(0) { $0 + $1.count }
        printError("\nwrote \(output): RWKV-7 L\(d.layers) C\(d.embedding) V\(d.vocabulary), \(count) parameters, \(dtype.rawValue)")
    }
}

/// Usage errors for model sizes outside the library's limits (`ModelConfig.max…`), shared by init and train.
func requireModelSize(layers: Int?, dim: Int?, headSize: Int, vocab: Int?) throws {
    if let layers { try requireOption("--layers", layers, in: 1...ModelConfig.maxLayers) }
    if let dim { try requireOption("--dim", dim, in: 1...ModelConfig.maxWidth) }
    try requireOption("--head-size", headSize, in: 1...ModelConfig.maxHeadSize)
    if let vocab { try requireOption("--vocab", vocab, in: 1...ModelConfig.maxVocabulary) }
}

/// A runtime error (exit 1) when `arrays` fp32 copies of the parameters would not fit in this machine's
/// memory: allocating them would abort the process instead.
func requireMemory(for d: RWKV7Dimensions, arrays: Int) throws {
    try d.validate()
    let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    guard let count = d.checkedParameterCount, let bytes = Checked.multiply(count, 4 * arrays), bytes <= physical else {
        let gib = { (n: Double) in String(format: "%.1f GiB", n / Double(1 << 30)) }
        let needed = Double(d.checkedParameterCount ?? .max) * 4 * Double(arrays)
        throw TrainingError.invalidDimensions("L\(d.layers) C\(d.embedding) V\(d.vocabulary) needs \(gib(needed)) for its parameters, "
            + "this machine has \(gib(Double(physical))); choose fewer --layers or a smaller --dim")
    }
}
