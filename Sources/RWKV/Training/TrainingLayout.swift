// Sizes of a trainable RWKV-7, the single table of its parameter tensors, and the arenas carved from it.
//
// Legend: L layers, C embedding size, H heads of N channels, F = 4C FFN width, V vocabulary,
// Dw/Da/Dv/Dg low-rank widths (decay, in-context learning rate, value residual, gate).
// Parameters, their gradients and both Adam moments are each ONE allocation laid out by the same
// `ParameterLayout` (official names, shapes and order), so a gradient view has the weights' type and a
// checkpoint is the arena written out in table order. Not here: the activations (see RWKV7Training).

import Foundation

/// Shape of a trainable RWKV-7 model.
public struct RWKV7Dimensions: Sendable, Codable, Equatable {
    public var layers: Int            // L
    public var embedding: Int         // C
    public var headSize: Int          // N
    public var vocabulary: Int        // V
    public var decayRank: Int         // Dw
    public var iclrRank: Int          // Da
    public var valueRank: Int         // Dv
    public var gateRank: Int          // Dg
    public var heads: Int { embedding / headSize }   // H
    public var ffn: Int { 4 * embedding }            // F (CMix_x070 hard-codes 4C, spec §2.1)

    public init(layers: Int, embedding: Int, headSize: Int, vocabulary: Int,
                decayRank: Int, iclrRank: Int, valueRank: Int, gateRank: Int) {
        self.layers = layers; self.embedding = embedding; self.headSize = headSize; self.vocabulary = vocabulary
        self.decayRank = decayRank; self.iclrRank = iclrRank; self.valueRank = valueRank; self.gateRank = gateRank
    }

    /// A new model with the low-rank widths of current RWKV-LM `train_temp` (spec §2.1, "HEAD formula"):
    /// Dw = Da = max(32, round(2.5√C/32)·32), Dv = …1.7√C…, Dg = …5√C…, rounding half to even like Python.
    public static func official(layers: Int, embedding: Int, vocabulary: Int, headSize: Int = 64) throws -> RWKV7Dimensions {
        func rank(_ factor: Double) -> Int {
            max(32, Int((factor * Double(embedding).squareRoot() / 32).rounded(.toNearestOrEven)) * 32)
        }
        let d = RWKV7Dimensions(layers: layers, embedding: embedding, headSize: headSize, vocabulary: vocabulary,
                                decayRank: rank(2.5), iclrRank: rank(2.5), valueRank: rank(1.7), gateRank: rank(5))
        try d.validate()
        return d
    }

    /// Throws unless every size is positive, within the model limits of `ModelConfig`, C is a whole
    /// number of heads and the parameter count fits in memory arithmetic (no overflow).
    public func validate() throws {
        let all = [layers, embedding, headSize, vocabulary, decayRank, iclrRank, valueRank, gateRank]
        guard all.allSatisfy({ $0 > 0 }) else { throw TrainingError.invalidDimensions("every size must be positive, found \(self)") }
        for (name, value, limit) in [("layers", layers, ModelConfig.maxLayers), ("embedding", embedding, ModelConfig.maxWidth),
                                     ("head size", headSize, ModelConfig.maxHeadSize), ("vocabulary", vocabulary, ModelConfig.maxVocabulary),
                                     ("low-rank width", max(decayRank, iclrRank, valueRank, gateRank), ModelConfig.maxWidth)] where value > limit {
            throw TrainingError.invalidDimensions("\(name) \(value) exceeds the limit \(limit)")
        }
        guard embedding % headSize == 0 else {
            throw TrainingError.invalidDimensions("embedding \(embedding) is not a multiple of the head size \(headSize)")
        }
        guard checkedParameterCount != nil else { throw TrainingError.invalidDimensions("the parameter count of \(self) overflows") }
    }

    /// Number of parameters, or nil when it overflows `Int` (only meaningful for positive sizes).
    public var checkedParameterCount: Int? {
        // Per layer the table is a few dozen tensors; with L bounded by validate() this stays cheap.
        var total: Int? = 0
        for spec in parameterSpecs { total = total.flatMap { t in Checked.product(spec.shape).flatMap { Checked.add(t, $0) } } }
        return total
    }

    /// The parameter table: official `.pth` names and shapes, in the order the arenas use (spec §2.1).
    public var parameterSpecs: [TensorSpec] {
        let C = embedding, H = heads, N = headSize, V = vocabulary, F = ffn
        var specs = [TensorSpec("emb.weight", [V, C]),
                     TensorSpec("blocks.0.ln0.weight", [C]), TensorSpec("blocks.0.ln0.bias", [C])]
        for l in 0..<layers {
            let p = "blocks.\(l)."
            specs += [TensorSpec(p + "ln1.weight", [C]), TensorSpec(p + "ln1.bias", [C]),
                      TensorSpec(p + "ln2.weight", [C]), TensorSpec(p + "ln2.bias", [C])]
            for m in ["x_r", "x_w", "x_k", "x_v", "x_a", "x_g"] { specs.append(TensorSpec(p + "att." + m, [1, 1, C])) }
            specs += [TensorSpec(p + "att.w0", [1, 1, C]), TensorSpec(p + "att.w1", [C, decayRank]), TensorSpec(p + "att.w2", [decayRank, C]),
                      TensorSpec(p + "att.a0", [1, 1, C]), TensorSpec(p + "att.a1", [C, iclrRank]), TensorSpec(p + "att.a2", [iclrRank, C]),
                      TensorSpec(p + "att.v0", [1, 1, C]), TensorSpec(p + "att.v1", [C, valueRank]), TensorSpec(p + "att.v2", [valueRank, C]),
                      TensorSpec(p + "att.g1", [C, gateRank]), TensorSpec(p + "att.g2", [gateRank, C]),
                      TensorSpec(p + "att.k_k", [1, 1, C]), TensorSpec(p + "att.k_a", [1, 1, C]), TensorSpec(p + "att.r_k", [H, N]),
                      TensorSpec(p + "att.receptance.weight", [C, C]), TensorSpec(p + "att.key.weight", [C, C]),
                      TensorSpec(p + "att.value.weight", [C, C]), TensorSpec(p + "att.output.weight", [C, C]),
                      TensorSpec(p + "att.ln_x.weight", [C]), TensorSpec(p + "att.ln_x.bias", [C]),
                      TensorSpec(p + "ffn.x_k", [1, 1, C]), TensorSpec(p + "ffn.key.weight", [F, C]), TensorSpec(p + "ffn.value.weight", [C, F])]
        }
        specs += [TensorSpec("ln_out.weight", [C]), TensorSpec("ln_out.bias", [C]), TensorSpec("head.weight", [V, C])]
        return specs
    }
}

/// How the optimiser treats a parameter (spec §9.3).
public enum ParameterGroup: String, Sendable, Codable {
    /// `att.w0`: learning rate ×2, no weight decay.
    case decayBias
    /// Matrices named `*.weight` with ≥2 non-unit dims (emb, head, R/K/V/O, FFN): weight decay.
    case decayed
    /// Everything else (mixes, LoRA factors, norms, k_k, r_k, …): lr ×1, no weight decay.
    case plain
}

/// One row of the parameter table.
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var count: Int { shape.reduce(1, *) }
    /// Optimiser group, derived from name and shape exactly as RWKV-LM's `configure_optimizers` does.
    public var group: ParameterGroup {
        if name.hasSuffix("att.w0") { return .decayBias }
        if name.contains(".weight"), shape.filter({ $0 != 1 }).count >= 2 { return .decayed }
        return .plain
    }

    public init(_ name: String, _ shape: [Int]) { self.name = name; self.shape = shape }
}

/// Offsets of every parameter tensor inside an arena.
public struct ParameterLayout: Sendable {
    public let specs: [TensorSpec]
    public let offsets: [Int]
    public let count: Int
    private let index: [String: Int]

    public init(_ dims: RWKV7Dimensions) {
        specs = dims.parameterSpecs
        var offsets: [Int] = [], total = 0
        for s in specs { offsets.append(total); total += s.count }
        self.offsets = offsets
        count = total
        index = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
    }

    /// Offset of a tensor named in the table (names are generated from the same table, so a miss is a bug).
    func offset(_ name: String) -> Int {
        guard let i = index[name] else { preconditionFailure("no parameter named \(name) in the layout") }
        return offsets[i]
    }

    /// Position of `name` in the table, or nil.
    public func position(of name: String) -> Int? { index[name] }
}

/// One owned, zero-initialised block of scalars (an arena). Views point into it; it outlives them.
public final class Arena<S: TrainingScalar>: @unchecked Sendable {
    public let buffer: UnsafeMutableBufferPointer<S>
    public var count: Int { buffer.count }
    var base: UnsafeMutablePointer<S> { buffer.baseAddress! }  // allocate(capacity: ≥1) never returns nil

    public init(count: Int) {
        let b = UnsafeMutableBufferPointer<S>.allocate(capacity: max(count, 1))
        b.initialize(repeating: 0)
        buffer = UnsafeMutableBufferPointer(rebasing: b[0..<count])
    }

    public func zero() { buffer.update(repeating: 0) }

    deinit { UnsafeMutableBufferPointer(start: buffer.baseAddress, count: max(buffer.count, 1)).deallocate() }
}

/// Named views of one layer's parameters (or gradients, or moments: same layout type).
struct BlockTensors<S: TrainingScalar> {
    typealias P = UnsafeMutablePointer<S>
    var ln1W, ln1B, ln2W, ln2B: P                       // (C)
    var xR, xW, xK, xV, xA, xG: P                       // (C) token-shift mixes
    var w0, w1, w2, a0, a1, a2, v0, v1, v2, g1, g2: P   // (C), (C,D), (D,C) …
    var kK, kA, rK: P                                   // (C), (C), (H,N)
    var wR, wK, wV, wO: P                               // (C,C) nn.Linear [out,in]
    var lnxW, lnxB: P                                   // (C)
    var fxK, fKey, fValue: P                            // (C), (F,C), (C,F)

    init(_ layout: ParameterLayout, _ base: P, layer l: Int) {
        let p = "blocks.\(l).", a = p + "att."
        func at(_ n: String) -> P { base + layout.offset(n) }
        ln1W = at(p + "ln1.weight"); ln1B = at(p + "ln1.bias"); ln2W = at(p + "ln2.weight"); ln2B = at(p + "ln2.bias")
        xR = at(a + "x_r"); xW = at(a + "x_w"); xK = at(a + "x_k"); xV = at(a + "x_v"); xA = at(a + "x_a"); xG = at(a + "x_g")
        w0 = at(a + "w0"); w1 = at(a + "w1"); w2 = at(a + "w2"); a0 = at(a + "a0"); a1 = at(a + "a1"); a2 = at(a + "a2")
        v0 = at(a + "v0"); v1 = at(a + "v1"); v2 = at(a + "v2"); g1 = at(a + "g1"); g2 = at(a + "g2")
        kK = at(a + "k_k"); kA = at(a + "k_a"); rK = at(a + "r_k")
        wR = at(a + "receptance.weight"); wK = at(a + "key.weight"); wV = at(a + "value.weight"); wO = at(a + "output.weight")
        lnxW = at(a + "ln_x.weight"); lnxB = at(a + "ln_x.bias")
        fxK = at(p + "ffn.x_k"); fKey = at(p + "ffn.key.weight"); fValue = at(p + "ffn.value.weight")
    }
}

/// Named views of all parameters of the model (or of their gradients / moments).
struct ModelTensors<S: TrainingScalar> {
    typealias P = UnsafeMutablePointer<S>
    var emb: P                      // (V, C)
    var ln0W, ln0B: P               // (C)
    var blocks: [BlockTensors<S>]   // L
    var lnOutW, lnOutB: P           // (C)
    var head: P                     // (V, C)

    init(_ layout: ParameterLayout, _ arena: Arena<S>, layers: Int) {
        let base = arena.base
        emb = base + layout.offset("emb.weight")
        ln0W = base + layout.offset("blocks.0.ln0.weight"); ln0B = base + layout.offset("blocks.0.ln0.bias")
        blocks = (0..<layers).map { BlockTensors(layout, base, layer: $0) }
        lnOutW = base + layout.offset("ln_out.weight"); lnOutB = base + layout.offset("ln_out.bias")
        head = base + layout.offset("head.weight")
    }
}

/// Errors of the training code: bad sizes, data, options or checkpoint files, with what was found.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidDimensions(String)
    case invalidBatch(String)
    case data(String)
    case checkpoint(path: String, detail: String)
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .invalidDimensions(d): return "invalid model dimensions: \(d)"
        case let .invalidBatch(d): return "invalid training batch: \(d)"
        case let .data(d): return "training data: \(d)"
        case let .checkpoint(path, d): return "training checkpoint \(path): \(d)"
        case let .invalidOption(d): return "invalid training option: \(d)"
        }
    }
}
