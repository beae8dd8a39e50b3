// `rwkv inspect MODEL`: what a checkpoint is, without running it.

import ArgumentParser
import RWKV

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a model's version, sizes, tensors and dtypes.")

    @Argument(help: "Model file (.pth or .safetensors).")
    var path: String

    @Flag(help: "List every tensor with its shape and dtype.")
    var tensors = false

    @Flag(help: "Print JSON.")
    var json = false

    struct Report: Encodable {
        var path: String
        var config: ModelConfig
        var parameters: Int
        var bytes: Int
        var dtypes: [String: Int]
        var stateFloats: Int
        var tensors: [TensorInfo]?
    }

    struct TensorInfo: Encodable {
        var name: String
        var shape: [Int]
        var dtype: String
    }

    func run() throws {
        let checkpoint = try Checkpoint.load(path: path).inOfficialLayout()
        let config = try ModelConfig.detect(from: checkpoint.tensors)
        var dtypes: [String: Int] = [:]
        var parameters = 0, bytes = 0
        for t in checkpoint.tensors.values {
            dtypes[t.dtype.rawValue, default: 0] += t.count
            parameters += t.count
            bytes += t.byteCount
        }
        let list = checkpoint.tensors.keys.sorted().map { name in
            TensorInfo(name: name, shape: checkpoint.tensors[name]!.shape, dtype: checkpoint.tensors[name]!.dtype.rawValue)
        }
        let stateFloats = config.layerCount * (2 * config.embeddingSize + config.headCount * config.headSize * config.headSize)
        let report = Report(path: path, config: config, parameters: parameters, bytes: bytes, dtypes: dtypes,
                            stateFloats: stateFloats, tensors: tensors ? list : nil)
        if json { try printJSON(report); return }
        print("\(path): \(config.version)")
        print("  layers \(config.layerCount), embedding \(config.embeddingSize), heads \(config.headCount) × \(config.headSize), vocabulary \(config.vocabularySize), FFN \(config.ffnSize)")
        if config.version == .v7 {
            print("  low-rank widths: decay \(config.decayRank), iclr \(config.iclrRank), value \(config.valueRank), gate \(config.gateRank)")
        }
        print("  parameters \(parameters) (\(dtypes.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", "))), \(bytes) bytes")
        print("  state \(stateFloats) floats per sequence")
        if tensors {
            for t in list { print("  \(t.name) \(t.shape) \(t.dtype)") }
        }
    }
}
