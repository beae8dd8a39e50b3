// Fresh-model initialisation exactly as RWKV-LM `train_temp` writes it (spec §9.1), and the seeded
// random numbers it needs.
//
// Legend: layer i of L, C channels, N head size, n channel index. The formulas follow the spec table
// line by line; only the random draws differ from PyTorch's (a different generator cannot reproduce
// torch's stream), the distributions are the same: uniform emb, orthogonal matrices via QR of a
// Gaussian matrix with the same gains. Not here: LoRA-dim choice (RWKV7Dimensions.official).

import Foundation

/// SplitMix64: small, seedable, good enough for initialisation and data sampling.
public struct TrainingRandom: Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0..<bound (bound > 0).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Writes the official fresh-model values (spec §9.1) into a parameter arena.
public enum RWKV7Initializer {
    /// Initialises every tensor of `model` (all parameters; the gradients are left alone).
    public static func initialize<S: TrainingScalar>(_ model: RWKV7TrainingModel<S>, seed: UInt64) {
        var rng = TrainingRandom(seed: seed)
        for (index, spec) in model.layout.specs.enumerated() {
            let values = initialValues(spec, dimensions: model.dimensions, rng: &rng)
            let base = model.layout.offsets[index]
            for i in values.indices { model.parameters.buffer[base + i] = S(values[i]) }
        }
    }

    /// The initial values of one tensor, row-major in its official shape.
    public static func initialValues(_ spec: TensorSpec, dimensions d: RWKV7Dimensions, rng: inout TrainingRandom) -> [Double] {
        let C = d.embedding, N = d.headSize, L = d.layers
        let name = spec.name
        if name == "emb.weight" { return (0..<spec.count).map { _ in (rng.uniform() * 2 - 1) * 1e-4 } }
        if name == "head.weight" {
            let gain = d.vocabulary > C ? 0.5 * (Double(d.vocabulary) / Double(C)).squareRoot() : 0.5
            return orthogonal(rows: d.vocabulary, cols: C, gain: gain, rng: &rng)
        }
        if name.hasSuffix(".weight") || name.hasSuffix(".bias"), name.contains("ln0") || name.contains("ln1")
            || name.contains("ln2") || name.hasPrefix("ln_out") {
            return [Double](repeating: name.hasSuffix(".weight") ? 1 : 0, count: spec.count)
        }
        // Per-layer tensors: blocks.{i}.…
        let parts = name.split(separator: ".")
        let i = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let field = parts.dropFirst(2).joined(separator: ".")
        let r0 = L > 1 ? Double(i) / Double(L - 1) : 0        // 0 → 1 over depth
        let r1 = 1 - Double(i) / Double(L)                     // 1 → ~0 over depth
        let ddd = (0..<C).map { Double($0) / Double(C) }
        let linear = (0..<C).map { Double($0) / Double(C - 1) - 0.5 }
        let zigzag = (0..<C).map { n -> Double in
            let z = (Double(n % N) - Double(N - 1) / 2) / (Double(N - 1) / 2)
            return z * abs(z)
        }
        func mix(_ p: Double) -> [Double] { ddd.map { 1 - Foundation.pow($0, p) } }
        switch field {
        case "att.x_r": return mix(0.2 * r1)
        case "att.x_w": return mix(0.9 * r1)
        case "att.x_k": return mix(0.7 * r1)
        case "att.x_v": return mix(0.7 * r1)
        case "att.x_a": return mix(0.9 * r1)
        case "att.x_g": return mix(0.2 * r1)
        case "ffn.x_k": return mix(Foundation.pow(r1, 4))
        case "att.w0":
            // www = −6 + 6·(n/(C−1))^(1 + r0^0.3); w0 = www + 0.5 + 2.5·zigzag
            let exponent: Double = 1 + Foundation.pow(r0, 0.3)
            return (0..<C).map { (n: Int) -> Double in
                let www: Double = -6 + 6 * Foundation.pow(Double(n) / Double(C - 1), exponent)
                return www + 0.5 + 2.5 * zigzag[n]
            }
        case "att.a0": return (0..<C).map { (n: Int) -> Double in -0.19 + 0.3 * zigzag[n] + 0.4 * linear[n] }
        case "att.v0": return linear.map { 0.73 - 0.4 * $0 }
        case "att.k_k": return linear.map { 0.71 - 0.1 * $0 }
        case "att.k_a": return [Double](repeating: 1.02, count: C)
        case "att.r_k": return [Double](repeating: -0.04, count: spec.count)
        case "att.ln_x.weight": return [Double](repeating: Foundation.pow(Double(i + 1) / Double(L), 0.7), count: C)
        case "att.w2", "att.a2", "att.v2", "att.g2":
            return orthogonal(rows: spec.shape[0], cols: spec.shape[1], gain: 0.1, rng: &rng)
        case "att.receptance.weight", "att.value.weight", "ffn.key.weight":
            return orthogonal(rows: spec.shape[0], cols: spec.shape[1], gain: 1, rng: &rng)
        case "att.key.weight":
            return orthogonal(rows: spec.shape[0], cols: spec.shape[1], gain: 0.1, rng: &rng)
        default:
            // w1, a1, v1, g1, output.weight, ffn.value.weight, ln_x.bias: zeros.
            return [Double](repeating: 0, count: spec.count)
        }
    }

    /// `nn.init.orthogonal_` with RWKV-LM's gain rule `ortho(M, s)`: gain s·√(rows/cols) when rows > cols.
    /// Orthonormalises the columns of a Gaussian (max × min) matrix (modified Gram–Schmidt, i.e. the Q of
    /// a QR with positive diagonal, as torch's sign fix makes it), transposing when rows < cols.
    public static func orthogonal(rows: Int, cols: Int, gain s: Double, rng: inout TrainingRandom) -> [Double] {
        let gain = rows > cols ? s * (Double(rows) / Double(cols)).squareRoot() : s
        let n = max(rows, cols), k = min(rows, cols)
        // q[c][r]: k columns of length n
        var q = (0..<k).map { _ in (0..<n).map { _ in rng.normal() } }
        for c in 0..<k {
            for p in 0..<c {
                var dot = 0.0
                for r in 0..<n { dot += q[p][r] * q[c][r] }
                for r in 0..<n { q[c][r] -= dot * q[p][r] }
            }
            var norm = 0.0
            for r in 0..<n { norm += q[c][r] * q[c][r] }
            let inv = 1 / max(norm.squareRoot(), 1e-300)
            for r in 0..<n { q[c][r] *= inv }
        }
        var out = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                // rows ≥ cols: element (r, c) = Q[r][c]; otherwise the transpose.
                out[r * cols + c] = gain * (rows >= cols ? q[c][r] : q[r][c])
            }
        }
        return out
    }
}

extension RWKV7Initializer {
    /// A freshly initialised model (spec §9.1) as official-layout tensors of `dtype`, built one tensor at a
    /// time so that even a multi-billion-parameter model needs only its own size in memory.
    /// `progress` is called with (tensor index, tensor count, name) before each tensor.
    public static func checkpoint(dimensions d: RWKV7Dimensions, seed: UInt64, dtype: DType = .bfloat16,
                                  progress: (Int, Int, String) -> Void = { _, _, _ in }) throws -> Checkpoint {
        try d.validate()
        var rng = TrainingRandom(seed: seed)
        let specs = d.parameterSpecs
        var tensors: [String: Tensor] = [:]
        for (i, spec) in specs.enumerated() {
            progress(i, specs.count, spec.name)
            let values = initialValues(spec, dimensions: d, rng: &rng)
            tensors[spec.name] = try Tensor(values.map { Float($0) }, shape: spec.shape)
        }
        return try Checkpoint(tensors: tensors).convertingFloats(to: dtype)
    }
}
