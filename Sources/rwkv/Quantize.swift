// `rwkv quantize IN OUT --type q8_0|q4_0`: a checkpoint whose large matrices are block-quantised.

import ArgumentParser
import RWKV

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantise a model's large matrices to Q8_0 or Q4_0 blocks (written as .safetensors).",
        discussion: "Norms, mixes, low-rank factors and the embedding stay in their float type. The output loads directly (no dequantisation).")

    @Argument(help: "Input model (.pth, .safetensors; any supported layout).") var input: String
    @Argument(help: "Output .safetensors file.") var output: String
    @Option(name: .customLong("type"), help: "q8_0 or q4_0.") var type: WeightFormat = .q8_0

    func validate() throws {
        guard output.hasSuffix(".safetensors") else { throw ValidationError("the output must be a .safetensors file") }
        guard type.isQuantized else { throw ValidationError("--type must be q8_0 or q4_0 (use `rwkv convert --dtype` for float types)") }
    }

    func run() throws {
        let checkpoint = try Checkpoint.load(path: input).inOfficialLayout()
        _ = try ModelConfig.detect(from: checkpoint.tensors)
        let quantized = try checkpoint.quantized(to: type)
        try quantized.writeSafetensors(to: output)
        let bytes = { (c: Checkpoint) in c.tensors.values.reduce(0) { $0 + $1.byteCount } }
        print("wrote \(output): \(type) weights, \(bytes(quantized)) bytes (from \(bytes(checkpoint)))")
    }
}
