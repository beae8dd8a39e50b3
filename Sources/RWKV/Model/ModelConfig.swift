// Model description read from the tensors themselves (spec §1 "Version detection", §2.1, §2.6).
//
// Official checkpoints carry no config file: the version follows from which tensors exist, and every
// size from their shapes. This file decides both and names the tensor whenever something is off.

/// The RWKV architecture generations we know how to recognise.
public enum ModelVersion: String, Sendable, Codable, CustomStringConvertible {
    case v4 = "4"
    case v5_0 = "5.0"
    case v5_1 = "5.1"
    case v5_2 = "5.2"
    case v6 = "6"
    case v7 = "7"

    public var description: String {
        switch self {
        case .v4: return "RWKV-4"
        case .v5_0, .v5_1: return "RWKV-\(rawValue) (pre-release)"
        case .v5_2: return "RWKV-5.2 \"Eagle\""
        case .v6: return "RWKV-6 \"Finch\""
        case .v7: return "RWKV-7 \"Goose\""
        }
    }
}

/// Errors about a checkpoint's tensors as a model: what is missing or mis-shaped, and where.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingTensor(String)
    case wrongShape(tensor: String, expected: [Int], found: [Int])
    case unsupportedVersion(ModelVersion, detail: String)
    case unrecognised(detail: String)
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    case emptyInput
    case stateMismatch(expected: String, found: String)

    public var description: String {
        switch self {
        case let .missingTensor(name): return "tensor '\(name)' is missing from the checkpoint"
        case let .wrongShape(name, expected, found):
            return "tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unsupportedVersion(v, detail): return "\(v) checkpoints are not supported: \(detail)"
        case let .unrecognised(detail): return "not an RWKV checkpoint: \(detail)"
        case let .tokenOutOfRange(t, v): return "token id \(t) is outside the vocabulary (0..<\(v))"
        case .emptyInput: return "no input tokens"
        case let .stateMismatch(expected, found): return "state is for a \(found) model, this model is \(expected)"
        }
    }
}

/// Architecture and sizes of a model. Names follow the spec: C = embedding size, N = head size.
public struct ModelConfig: Sendable, Codable, Equatable {
    public var version: ModelVersion
    public var layerCount: Int          // L
    public var embeddingSize: Int       // C
    public var headCount: Int           // H
    public var headSize: Int            // N
    public var vocabularySize: Int      // V
    public var ffnSize: Int             // F (4C for v7)
    /// Low-rank widths. v7: decay, in-context learning rate (a), value residual, gate.
    public var decayRank: Int = 0
    public var iclrRank: Int = 0
    public var valueRank: Int = 0
    public var gateRank: Int = 0

    /// A short signature used to check that a state belongs to this model.
    public var signature: String { "v\(version.rawValue) L\(layerCount) C\(embeddingSize) H\(headCount) N\(headSize)" }
}

extension ModelConfig {
    /// Reads version and sizes from the tensor names and shapes.
    public static func detect(from tensors: [String: Tensor]) throws -> ModelConfig {
        guard let emb = tensors["emb.weight"] else {
            if tensors.keys.contains(where: { $0.hasPrefix("model.") || $0.hasPrefix("rwkv.") }) {
                throw ModelError.unrecognised(detail: "Hugging Face layout (no 'emb.weight'); convert it to the official layout first")
            }
            throw ModelError.missingTensor("emb.weight")
        }
        guard emb.shape.count == 2 else { throw ModelError.wrongShape(tensor: "emb.weight", expected: [-1, -1], found: emb.shape) }
        let version = try detectVersion(tensors)
        let layerCount = 1 + (tensors.keys.compactMap(blockIndex).max() ?? 0)
        let v = emb.shape[0], c = emb.shape[1]
        var config = ModelConfig(version: version, layerCount: layerCount, embeddingSize: c, headCount: 0, headSize: 0,
                                 vocabularySize: v, ffnSize: 0)
        switch version {
        case .v7:
            let rk = try shape(tensors, "blocks.0.att.r_k", rank: 2)
            config.headCount = rk[0]
            config.headSize = rk[1]
            config.ffnSize = try shape(tensors, "blocks.0.ffn.key.weight", rank: 2)[0]
            config.decayRank = try shape(tensors, "blocks.0.att.w1", rank: 2)[1]
            config.iclrRank = try shape(tensors, "blocks.0.att.a1", rank: 2)[1]
            config.gateRank = try shape(tensors, "blocks.0.att.g1", rank: 2)[1]
            // Layer 0's v1 is unused and some converters drop it: read the width from layer 1 when present.
            let vName = layerCount > 1 ? "blocks.1.att.v1" : "blocks.0.att.v1"
            config.valueRank = tensors[vName].map { $0.shape.count == 2 ? $0.shape[1] : 0 } ?? 0
            guard config.headCount * config.headSize == c else {
                throw ModelError.wrongShape(tensor: "blocks.0.att.r_k", expected: [c / max(config.headSize, 1), config.headSize], found: rk)
            }
        case .v5_2, .v6:
            let decay = try shape(tensors, "blocks.0.att.time_decay", rank: nil)
            let heads = tensors["blocks.0.att.time_faaaa"]?.shape.first ?? decay.first ?? 0
            config.headCount = heads
            config.headSize = heads > 0 ? c / heads : 0
            config.ffnSize = try shape(tensors, "blocks.0.ffn.key.weight", rank: 2)[0]
        case .v4:
            throw ModelError.unsupportedVersion(version, detail: "found blocks.0.att.time_first; RWKV-4 is not supported (RWKV-5.2, 6 and 7 are)")
        case .v5_0, .v5_1:
            throw ModelError.unsupportedVersion(version, detail: "this pre-release RWKV-5 format (no gate or 1-D time_decay) is obsolete; RWKV-5.2 is supported")
        }
        return config
    }

    /// Version from tensor names (spec §1): v7 has r_k/k_k/w0, v6 has time_maa, v5.2 has ln_x + gate + 2-D decay.
    static func detectVersion(_ t: [String: Tensor]) throws -> ModelVersion {
        if t["blocks.0.att.r_k"] != nil || t["blocks.0.att.k_k"] != nil || t["blocks.0.att.w0"] != nil {
            // rwkv7a/rwkv7b (DeepEmbed, attention side path) are not plain x070 (spec §2.6).
            if let extra = t.keys.first(where: { $0.contains("s_emb") || $0.contains(".qq.") || $0.hasSuffix(".x_q") }) {
                throw ModelError.unsupportedVersion(.v7, detail: "'\(extra)' belongs to an RWKV-7 variant (DeepEmbed rwkv7a/rwkv7b), not plain x070")
            }
            return .v7
        }
        if t.keys.contains(where: { $0.contains("time_maa") }) { return .v6 }
        if t["blocks.0.att.ln_x.weight"] != nil {
            guard t["blocks.0.att.gate.weight"] != nil else { return .v5_0 }
            if let d = t["blocks.0.att.time_decay"], d.shape.count == 1 { return .v5_1 }
            if let d = t["blocks.0.att.time_decay"], d.shape.count >= 2, (d.shape.last ?? 0) > 1 { return .v5_2 }
            return .v5_1
        }
        if t["blocks.0.att.time_first"] != nil { return .v4 }
        throw ModelError.unrecognised(detail: "no RWKV block tensors (blocks.0.att.*) found")
    }

    static func blockIndex(_ name: String) -> Int? {
        guard name.hasPrefix("blocks.") else { return nil }
        return Int(name.dropFirst(7).prefix { $0 != "." })
    }

    static func shape(_ t: [String: Tensor], _ name: String, rank: Int?) throws -> [Int] {
        guard let s = t[name]?.shape else { throw ModelError.missingTensor(name) }
        if let rank, s.count != rank { throw ModelError.wrongShape(tensor: name, expected: Array(repeating: -1, count: rank), found: s) }
        return s
    }
}
