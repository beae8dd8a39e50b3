// RWKV-7 "Goose" (x070) inference, top to bottom: weights → time mix → channel mix → forward.
//
// Legend: T tokens in the chunk, C embedding size, H heads of N channels (C = H·N), F FFN width,
// V vocabulary, L layers. Activations are (T, C) row-major. One code path serves a single token
// (T = 1, matrix-vector products) and a chunk (T > 1, each weight row applied to four tokens at once);
// every row-independent step is batched and only the WKV recurrence walks the tokens in order
// (spec §5), so both give the reference's logits and state. Equations: spec §2.3.
// Large matrices are `WeightMatrix` (file dtype viewed in place, or converted/quantised at load);
// small tensors are fp32. All arithmetic is fp32.

import Foundation

/// Weights of one RWKV-7 block. Shapes as used (nn.Linear weights are [out, in]).
struct RWKV7Layer: Sendable {
    var ln1Weight, ln1Bias, ln2Weight, ln2Bias: [Float]            // (C)
    var mixR, mixW, mixK, mixV, mixA, mixG: [Float]                 // (C) token-shift weights of the previous token
    var w0: [Float]; var w1: Matrix; var w2: Matrix                 // (C), (C, Dw), (Dw, C): decay LoRA
    var a0: [Float]; var a1: Matrix; var a2: Matrix                 // (C), (C, Da), (Da, C): in-context learning rate
    var v0: [Float]; var v1: Matrix; var v2: Matrix                 // (C), (C, Dv), (Dv, C): value residual (unused in layer 0)
    var g1: Matrix; var g2: Matrix                                  // (C, Dg), (Dg, C): output gate
    var keyScale, keyICLRMix: [Float]                               // k_k, k_a (C)
    var bonus: [Float]                                              // r_k (H·N)
    var receptance, key, value, output: WeightMatrix                // (C, C)
    var lnxWeight, lnxBias: [Float]                                 // (C) GroupNorm(H)
    var ffnMixK: [Float]                                            // (C)
    var ffnKey: WeightMatrix; var ffnValue: WeightMatrix            // (F, C), (C, F)

    /// Bytes one token streams through this block's products.
    var byteCount: Int {
        [receptance, key, value, output, ffnKey, ffnValue].reduce(0) { $0 + $1.byteCount }
            + [w1, w2, a1, a2, v1, v2, g1, g2].reduce(0) { $0 + $1.byteCount }
    }
}

/// An RWKV-7 model.
public struct RWKV7Model: Sendable {
    public let config: ModelConfig
    var embedding: WeightMatrix                 // (V, C) in the file's dtype, ln0 applied per looked-up row
    var ln0Weight, ln0Bias: [Float]             // (C)
    var layers: [RWKV7Layer]
    var lnOutWeight, lnOutBias: [Float]         // (C)
    var head: WeightMatrix                      // (V, C)
    /// Run every product on the scalar reference kernels (for tests and debugging).
    public var useReferenceKernels = false

    /// exp(−1/2) as pip writes it; the constant differs from e^{-1/2} by 3e-7 relative (spec §2.3).
    static let decayScale: Float = 0.606531

    public init(tensors: [String: Tensor], config: ModelConfig, options: LoadOptions = LoadOptions()) throws {
        guard config.version == .v7 else { throw ModelError.unsupportedVersion(config.version, detail: "expected RWKV-7") }
        try config.validate()
        let w = WeightReader(tensors: tensors)
        let c = config.embeddingSize, v = config.vocabularySize, f = config.ffnSize
        self.config = config
        let format = options.weightFormat
        embedding = try w.weights("emb.weight", v, c, format: nil)
        ln0Weight = try w.vector("blocks.0.ln0.weight", c)
        ln0Bias = try w.vector("blocks.0.ln0.bias", c)
        lnOutWeight = try w.vector("ln_out.weight", c)
        lnOutBias = try w.vector("ln_out.bias", c)
        head = try w.weights("head.weight", v, c, format: format)
        layers = try (0..<config.layerCount).map { l in
            let p = "blocks.\(l).", a = p + "att.", ffn = p + "ffn."
            let (dw, da, dv, dg) = (config.decayRank, config.iclrRank, config.valueRank, config.gateRank)
            // Layer 0 never reads v0/v1/v2 (it defines v_first), and converters may drop them.
            let hasValueResidual = l > 0
            return RWKV7Layer(
                ln1Weight: try w.vector(p + "ln1.weight", c), ln1Bias: try w.vector(p + "ln1.bias", c),
                ln2Weight: try w.vector(p + "ln2.weight", c), ln2Bias: try w.vector(p + "ln2.bias", c),
                mixR: try w.vector(a + "x_r", c), mixW: try w.vector(a + "x_w", c), mixK: try w.vector(a + "x_k", c),
                mixV: try w.vector(a + "x_v", c), mixA: try w.vector(a + "x_a", c), mixG: try w.vector(a + "x_g", c),
                w0: try w.vector(a + "w0", c), w1: try w.matrix(a + "w1", c, dw), w2: try w.matrix(a + "w2", dw, c),
                a0: try w.vector(a + "a0", c), a1: try w.matrix(a + "a1", c, da), a2: try w.matrix(a + "a2", da, c),
                v0: hasValueResidual ? try w.vector(a + "v0", c) : [],
                v1: hasValueResidual ? try w.matrix(a + "v1", c, dv) : Matrix(rows: 0, cols: 0),
                v2: hasValueResidual ? try w.matrix(a + "v2", dv, c) : Matrix(rows: 0, cols: 0),
                g1: try w.matrix(a + "g1", c, dg), g2: try w.matrix(a + "g2", dg, c),
                keyScale: try w.vector(a + "k_k", c), keyICLRMix: try w.vector(a + "k_a", c),
                bonus: try w.exact(a + "r_k", [config.headCount, config.headSize]),
                receptance: try w.weights(a + "receptance.weight", c, c, format: format),
                key: try w.weights(a + "key.weight", c, c, format: format),
                value: try w.weights(a + "value.weight", c, c, format: format),
                output: try w.weights(a + "output.weight", c, c, format: format),
                lnxWeight: try w.vector(a + "ln_x.weight", c), lnxBias: try w.vector(a + "ln_x.bias", c),
                ffnMixK: try w.vector(ffn + "x_k", c),
                ffnKey: try w.weights(ffn + "key.weight", f, c, format: format),
                ffnValue: try w.weights(ffn + "value.weight", c, f, format: format))
        }
    }

    /// Bytes one decoded token streams from memory: every product's weights plus one embedding row.
    var streamedBytesPerToken: Int {
        layers.reduce(0) { $0 + $1.byteCount } + head.byteCount + embedding.rowBytes
    }

    /// The forward pass; `states` holds one state (a sequence) or one per token (a batch).
    func run(_ tokens: [Int], states: inout [ModelState], allLogits: Bool) -> Matrix {
        let T = tokens.count, C = config.embeddingSize
        let ws = Workspace()
        // x = LN_ln0(emb[token]): the reference folds ln0 into the embedding at load; per row it is the same.
        let x = ws.buffer(T * C)
        lookUp(tokens, in: embedding, into: x)
        layerNorm(x.readOnly, rows: T, weight: ln0Weight, bias: ln0Bias, into: x)

        let vFirst = ws.buffer(T * C)
        for l in 0..<layers.count {
            // Scratch of one layer is freed before the next, so a long chunk needs one layer's worth.
            let layerScratch = Workspace()
            LayerStates.with(layer: l, of: &states) { rows in
                timeMix(layer: l, x: x, vFirst: vFirst, states: &rows, tokens: T, ws: layerScratch)
                channelMix(layer: l, x: x, states: &rows, tokens: T, ws: layerScratch)
            }
        }

        return outputLogits(x: x, tokens: T, allLogits: allLogits, lnWeight: lnOutWeight, lnBias: lnOutBias, head: head,
                            reference: useReferenceKernels, ws: ws)
    }

    // MARK: Time mix (attention replacement), spec §2.3

    private func timeMix(layer l: Int, x: UnsafeMutableBufferPointer<Float>, vFirst: UnsafeMutableBufferPointer<Float>,
                         states: inout LayerStates, tokens T: Int, ws: Workspace) {
        let p = layers[l]
        let C = config.embeddingSize, H = config.headCount, N = config.headSize
        let ops = KernelSet(reference: useReferenceKernels)
        let xa = ws.buffer(T * C)
        layerNorm(x.readOnly, rows: T, weight: p.ln1Weight, bias: p.ln1Bias, into: xa)
        // d = previous − current (previous of token 0 comes from the state)
        let d = states.shiftDelta(xa, \.attentionShift, tokens: T, width: C, ws: ws)
        let xr = mix(xa, d, p.mixR, T, C, ws), xw = mix(xa, d, p.mixW, T, C, ws), xk = mix(xa, d, p.mixK, T, C, ws)
        let xv = mix(xa, d, p.mixV, T, C, ws), xA = mix(xa, d, p.mixA, T, C, ws), xg = mix(xa, d, p.mixG, T, C, ws)

        let r = ws.buffer(T * C), k = ws.buffer(T * C), v = ws.buffer(T * C)
        ops.linear(p.receptance, xr.readOnly, T, r)
        ops.linear(p.key, xk.readOnly, T, k)
        ops.linear(p.value, xv.readOnly, T, v)

        // decay = exp(−e^{−1/2}·σ(w0 + tanh(xw·w1)·w2))  ∈ (0.545, 1)
        let decay = ops.lora(xw, p.w1, p.w2, T, ws, inner: { tanh($0) })
        for i in decay.indices { decay[i] = exp(-RWKV7Model.decayScale * sigmoid(p.w0[i % C] + decay[i])) }
        // α = σ(a0 + (xα·a1)·a2)
        let alpha = ops.lora(xA, p.a1, p.a2, T, ws)
        for i in alpha.indices { alpha[i] = sigmoid(p.a0[i % C] + alpha[i]) }
        // g = σ(xg·g1)·g2
        let g = ops.lora(xg, p.g1, p.g2, T, ws, inner: { sigmoid($0) })

        // κ̂ = per-head L2-normalised k ⊙ k_k;  k ← k ⊙ (1 + (α − 1) ⊙ k_a)
        let kk = ws.buffer(T * C)
        for i in kk.indices { kk[i] = k[i] * p.keyScale[i % C] }
        for t in 0..<T {
            for h in 0..<H {
                let o = t * C + h * N
                var sq: Float = 0
                for j in 0..<N { sq += kk[o + j] * kk[o + j] }
                let inv = 1 / max(sq.squareRoot(), 1e-12)
                for j in 0..<N { kk[o + j] *= inv }
            }
        }
        for i in k.indices { k[i] *= 1 + (alpha[i] - 1) * p.keyICLRMix[i % C] }

        // Value residual: layer 0 defines v_first, later layers pull v towards it.
        if l == 0 {
            _ = vFirst.update(fromContentsOf: v)
        } else {
            let gate = ops.lora(xv, p.v1, p.v2, T, ws)
            for i in v.indices { v[i] += (vFirst[i] - v[i]) * sigmoid(p.v0[i % C] + gate[i]) }
        }

        // WKV recurrence with a = −κ̂, b = κ̂ ⊙ α.
        let aNeg = ws.buffer(T * C), b = ws.buffer(T * C), o = ws.buffer(T * C)
        for i in aNeg.indices { aNeg[i] = -kk[i]; b[i] = kk[i] * alpha[i] }
        states.scanWKV(tokens: T) { rows, s in
            func slice(_ b: UnsafeMutableBufferPointer<Float>) -> UnsafeBufferPointer<Float> { rowSlice(b, rows, width: C).readOnly }
            let inputs = WKV7Inputs(tokens: rows.count, heads: H, headSize: N, r: slice(r), w: slice(decay), k: slice(k),
                                    v: slice(v), a: slice(aNeg), b: slice(b))
            let out = rowSlice(o, rows, width: C)
            if useReferenceKernels { wkv7Reference(inputs, state: s, out: out) } else { wkv7(inputs, state: s, out: out) }
        }

        // o = GN(o) + (Σ_j r_j k_j r_k,j)·v per head, then gate and project.
        groupNorm(o.readOnly, rows: T, groups: H, weight: p.lnxWeight, bias: p.lnxBias, eps: 64e-5, into: o)
        for t in 0..<T {
            for h in 0..<H {
                let base = t * C + h * N
                var s: Float = 0
                for j in 0..<N { s += r[base + j] * k[base + j] * p.bonus[h * N + j] }
                for j in 0..<N { o[base + j] += s * v[base + j] }
            }
        }
        for i in o.indices { o[i] *= g[i] }
        let out = ws.buffer(T * C)
        ops.linear(p.output, o.readOnly, T, out)
        for i in x.indices { x[i] += out[i] }
    }

    // MARK: Channel mix (FFN): x += Wv · relu²(Wk · mix(ln2(x)))

    private func channelMix(layer l: Int, x: UnsafeMutableBufferPointer<Float>, states: inout LayerStates, tokens T: Int, ws: Workspace) {
        let p = layers[l]
        let C = config.embeddingSize, F = config.ffnSize
        let ops = KernelSet(reference: useReferenceKernels)
        let xf = ws.buffer(T * C)
        layerNorm(x.readOnly, rows: T, weight: p.ln2Weight, bias: p.ln2Bias, into: xf)
        let d = states.shiftDelta(xf, \.ffnShift, tokens: T, width: C, ws: ws)
        let xk = mix(xf, d, p.ffnMixK, T, C, ws)
        let hidden = ws.buffer(T * F)
        ops.linear(p.ffnKey, xk.readOnly, T, hidden)
        for i in hidden.indices { let r = max(hidden[i], 0); hidden[i] = r * r }
        let out = ws.buffer(T * C)
        ops.linear(p.ffnValue, hidden.readOnly, T, out)
        for i in x.indices { x[i] += out[i] }
    }
}
