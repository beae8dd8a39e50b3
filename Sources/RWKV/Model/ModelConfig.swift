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
    /// A size read from the checkpoint is zero, absurd, or inconsistent with another.
    case invalidConfig(field: String, reason: String)
    /// A state's arrays do not fit its model (wrong length, non-finite value).
    case invalidState(field: String, reason: String)
    /// Another error, with the path of the checkpoint it was found in (`RWKVModel.load(path:)`).
    indirect case inFile(path: String, ModelError)

    /// The error without `.inFile` wrappers.
    public var underlying: ModelError {
        if case let .inFile(_, inner) = self { return inner.underlying }
        return self
    }

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
        case let .invalidConfig(field, reason): return "model \(field): \(reason)"
        case let .invalidState(field, reason): return "state \(field): \(reason)"
        case let .inFile(path, inner): return "\(path): \(inner.description)"
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
        let layerCount = try detectLayerCount(tensors.keys)
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
            guard Checked.multiply(config.headCount, config.headSize) == c else {
                throw ModelError.wrongShape(tensor: "blocks.0.att.r_k", expected: [c / max(config.headSize, 1), config.headSize], found: rk)
            }
        case .v5_2, .v6:
            let decay = try shape(tensors, "blocks.0.att.time_decay", rank: nil)
            let heads = tensors["blocks.0.att.time_faaaa"]?.shape.first ?? decay.first ?? 0
            config.headCount = heads
            config.headSize = heads > 0 ? c / heads : 0   // validate() rejects heads that do not divide C
            config.ffnSize = try shape(tensors, "blocks.0.ffn.key.weight", rank: 2)[0]
        case .v4:
            throw ModelError.unsupportedVersion(version, detail: "found blocks.0.att.time_first; RWKV-4 is not supported (RWKV-5.2, 6 and 7 are)")
        case .v5_0, .v5_1:
            throw ModelError.unsupportedVersion(version, detail: "this pre-release RWKV-5 format (no gate or 1-D time_decay) is obsolete; RWKV-5.2 is supported")
        }
        try config.validate()
        return config
    }

    /// Number of layers: block indices must be 0, 1, …, L−1 with none missing, and L at most `maxLayers`.
    static func detectLayerCount<S: Sequence>(_ names: S) throws -> Int where S.Element == String {
        var seen = Set<Int>()
        for name in names {
            guard name.hasPrefix("blocks.") else { continue }
            guard let l = blockIndex(name), l < maxLayers else {
                throw ModelError.invalidConfig(field: "layer index of '\(name)'",
                                               reason: "expected a number in 0..<\(maxLayers)")
            }
            seen.insert(l)
        }
        let count = (seen.max() ?? 0) + 1
        if seen.count != count, let gap = (0..<count).first(where: { !seen.contains($0) }) {
            throw ModelError.invalidConfig(field: "layers", reason: "tensors exist for block \(count - 1) but none for block \(gap); layer indices must be contiguous from 0")
        }
        return count
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

    /// N of a `blocks.N.…` name; nil when N is not a plain non-negative decimal number.
    static func blockIndex(_ name: String) -> Int? {
        guard name.hasPrefix("blocks.") else { return nil }
        return decimalIndex(name.dropFirst(7).prefix { $0 != "." })
    }

    /// A plain decimal number (no sign, no spaces); nil otherwise or when it does not fit an Int.
    static func decimalIndex(_ digits: Substring) -> Int? {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(digits)
    }

    static func shape(_ t: [String: Tensor], _ name: String, rank: Int?) throws -> [Int] {
        guard let s = t[name]?.shape else { throw ModelError.missingTensor(name) }
        if let rank, s.count != rank { throw ModelError.wrongShape(tensor: name, expected: Array(repeating: -1, count: rank), found: s) }
        return s
    }
}

extension ModelConfig {
    /// Upper bounds far above any released RWKV model, so a hostile header cannot make us allocate
    /// per-layer state or weights for billions of layers or channels before the tensors are checked.
    public static let maxLayers = 1 << 12
    public static let maxWidth = 1 << 16
    public static let maxHeadSize = 1 << 10
    public static let maxVocabulary = 1 << 24

    /// Throws `ModelError.invalidConfig` unless every size is positive, bounded and consistent
    /// (H·N = C, low-rank widths within C); called before any model or state is built from it.
    public func validate() throws {
        try validateStateShape()
        try Self.check(vocabularySize, "vocabulary size (emb.weight rows)", 1...Self.maxVocabulary)
        try Self.check(ffnSize, "FFN width (ffn.key.weight rows)", 1...(16 * Self.maxWidth))
        for (rank, name) in [(decayRank, "decay"), (iclrRank, "in-context learning rate"), (valueRank, "value residual"), (gateRank, "gate")] {
            try Self.check(rank, "\(name) low-rank width", 0...Self.maxWidth)
        }
    }

    /// The part of `validate()` a state depends on: L, C, H, N positive, bounded, and H·N = C.
    public func validateStateShape() throws {
        try Self.check(layerCount, "layer count", 1...Self.maxLayers)
        try Self.check(embeddingSize, "embedding size (emb.weight columns)", 1...Self.maxWidth)
        try Self.check(headCount, "head count", 1...embeddingSize)
        try Self.check(headSize, "head size", 1...Self.maxHeadSize)
        guard Checked.multiply(headCount, headSize) == embeddingSize else {
            throw ModelError.invalidConfig(field: "heads", reason: "\(headCount) heads × head size \(headSize) ≠ embedding size \(embeddingSize)")
        }
    }

    private static func check(_ value: Int, _ field: String, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ModelError.invalidConfig(field: field, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
    }
}
