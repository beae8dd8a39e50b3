// RWKV-6 "Finch" (x060) and RWKV-5.2 "Eagle" (x052) inference (fp32 arithmetic; large matrices
// in the file's dtype or converted/quantised at load, as in RWKV7.swift).
//
// The two share everything but the token shift and the decay: v6 computes both from the input
// through low-rank factors (data-dependent), v5.2 uses static per-channel values (and stores its mix
// coefficient as the weight of the *current* token, spec §1). So one block serves both, with the
// difference confined to `Mixing`. Legend and sequence-mode design as in RWKV7.swift; equations:
// spec §3.3 (v6) and §4.3 (v5.2). The WKV state layout is pip's [head][key][value].

import Foundation

/// How a block turns (current, previous) into the five mixed inputs and the decay.
enum Mixing: Sendable {
    /// v5.2: x_s = cur·μ_s + prev·(1 − μ_s) with static μ; decay = exp(−exp(time_decay)) precomputed.
    case eagle(k: [Float], v: [Float], r: [Float], g: [Float], decay: [Float])
    /// v6: data-dependent mixes through time_maa_w1/w2 and decay through time_decay_w1/w2.
    case finch(FinchMixing)
}

struct FinchMixing: Sendable {
    var maaX, maaW, maaK, maaV, maaR, maaG: [Float]   // (C)
    var maaW1: Matrix                                  // (C, 5·Dm), slots w,k,v,r,g
    var maaW2: [Matrix]                                // 5 × (Dm, C)
    var decay: [Float]                                 // (C) time_decay (log-log)
    var decayW1: Matrix, decayW2: Matrix               // (C, Dd), (Dd, C)
}

struct RWKV6Layer: Sendable {
    var ln1Weight, ln1Bias, ln2Weight, ln2Bias: [Float]
    var mixing: Mixing
    var bonus: [Float]                                 // time_faaaa (H·N)
    var receptance, key, value, gate, output: WeightMatrix   // (C, C)
    var lnxWeight, lnxBias: [Float]
    var ffnMixK, ffnMixR: [Float]
    var ffnKey: WeightMatrix, ffnReceptance: WeightMatrix, ffnValue: WeightMatrix   // (F, C), (C, C), (C, F)

    /// Bytes one token streams through this block's products.
    var byteCount: Int {
        var small = 0
        if case let .finch(m) = mixing {
            small = m.maaW1.byteCount + m.maaW2.reduce(0) { $0 + $1.byteCount } + m.decayW1.byteCount + m.decayW2.byteCount
        }
        return [receptance, key, value, gate, output, ffnKey, ffnReceptance, ffnValue].reduce(small) { $0 + $1.byteCount }
    }
}

/// An RWKV-5.2 or RWKV-6 model.
public struct RWKV6Model: Sendable {
    public let config: ModelConfig
    var embedding: WeightMatrix    // (V, C) in the file's dtype; ln0 is folded in per looked-up row
    var ln0: FoldedLayerNorm0
    var layers: [RWKV6Layer]
    var lnOutWeight, lnOutBias: [Float]
    var head: WeightMatrix
    /// Initial WKV state per layer from `time_state` tensors ([head][key][value]), if the file has them.
    var initialWKV: [[Float]]?
    public var useReferenceKernels = false

    public init(tensors: [String: Tensor], config: ModelConfig, options: LoadOptions = LoadOptions()) throws {
        guard config.version == .v6 || config.version == .v5_2 else {
            throw ModelError.unsupportedVersion(config.version, detail: "expected RWKV-5.2 or RWKV-6")
        }
        try config.validate()
        let w = WeightReader(tensors: tensors)
        let c = config.embeddingSize, v = config.vocabularySize, f = config.ffnSize
        let h = config.headCount, n = config.headSize
        self.config = config
        let format = options.weightFormat
        embedding = try w.weights("emb.weight", v, c, format: nil)
        ln0 = try FoldedLayerNorm0(w, width: c, rounding: embedding.format)
        lnOutWeight = try w.vector("ln_out.weight", c)
        lnOutBias = try w.vector("ln_out.bias", c)
        head = try w.weights("head.weight", v, c, format: format)
        layers = try (0..<config.layerCount).map { l in
            let p = "blocks.\(l).", a = p + "att.", ffn = p + "ffn."
            let mixing: Mixing
            if config.version == .v6 {
                let w1 = try w.tensor(a + "time_maa_w1")
                guard w1.shape.count == 2, w1.shape[0] == c, w1.shape[1] % 5 == 0 else {
                    throw ModelError.wrongShape(tensor: a + "time_maa_w1", expected: [c, -1], found: w1.shape)
                }
                let dm = w1.shape[1] / 5
                let w2 = try w.exact(a + "time_maa_w2", [5, dm, c])
                let dd = try w.tensor(a + "time_decay_w1").shape.last ?? 0
                mixing = .finch(FinchMixing(
                    maaX: try w.vector(a + "time_maa_x", c), maaW: try w.vector(a + "time_maa_w", c),
                    maaK: try w.vector(a + "time_maa_k", c), maaV: try w.vector(a + "time_maa_v", c),
                    maaR: try w.vector(a + "time_maa_r", c), maaG: try w.vector(a + "time_maa_g", c),
                    maaW1: try w.matrix(a + "time_maa_w1", c, 5 * dm),
                    maaW2: (0..<5).map { s in Matrix(rows: dm, cols: c, data: Array(w2[(s * dm * c)..<((s + 1) * dm * c)])) },
                    decay: try w.vector(a + "time_decay", c),
                    decayW1: try w.matrix(a + "time_decay_w1", c, dd), decayW2: try w.matrix(a + "time_decay_w2", dd, c)))
            } else {
                let decay = try w.exact(a + "time_decay", [h, n]).map { Float(exp(-exp(Double($0)))) }
                mixing = .eagle(k: try w.vector(a + "time_mix_k", c), v: try w.vector(a + "time_mix_v", c),
                                r: try w.vector(a + "time_mix_r", c), g: try w.vector(a + "time_mix_g", c), decay: decay)
            }
            let ffnK = config.version == .v6 ? "time_maa_k" : "time_mix_k", ffnR = config.version == .v6 ? "time_maa_r" : "time_mix_r"
            return RWKV6Layer(
                ln1Weight: try w.vector(p + "ln1.weight", c), ln1Bias: try w.vector(p + "ln1.bias", c),
                ln2Weight: try w.vector(p + "ln2.weight", c), ln2Bias: try w.vector(p + "ln2.bias", c),
                mixing: mixing, bonus: try w.exact(a + "time_faaaa", [h, n]),
                receptance: try w.weights(a + "receptance.weight", c, c, format: format),
                key: try w.weights(a + "key.weight", c, c, format: format),
                value: try w.weights(a + "value.weight", c, c, format: format),
                gate: try w.weights(a + "gate.weight", c, c, format: format),
                output: try w.weights(a + "output.weight", c, c, format: format),
                lnxWeight: try w.vector(a + "ln_x.weight", c), lnxBias: try w.vector(a + "ln_x.bias", c),
                ffnMixK: try w.vector(ffn + ffnK, c), ffnMixR: try w.vector(ffn + ffnR, c),
                ffnKey: try w.weights(ffn + "key.weight", f, c, format: format),
                ffnReceptance: try w.weights(ffn + "receptance.weight", c, c, format: format),
                ffnValue: try w.weights(ffn + "value.weight", c, f, format: format))
        }
        if tensors["blocks.0.att.time_state"] != nil {
            // Stored [head][value][key]; our (pip's) layout is [head][key][value].
            initialWKV = try (0..<config.layerCount).map { l in
                let s = try w.exact("blocks.\(l).att.time_state", [h, n, n])
                return transposeHeads(s, heads: h, size: n)
            }
        }
    }

    /// The state a sequence starts from: zeros, or the checkpoint's tuned `time_state`.
    func initialState() -> ModelState {
        var state = (try? ModelState(config: config)) ?? .placeholder   // the config was validated at load
        if let initialWKV, state.shape.layers == initialWKV.count {
            for l in 0..<config.layerCount { state.setWKV(initialWKV[l], layer: l) }
        }
        return state
    }

    /// Bytes one decoded token streams from memory: every product's weights plus one embedding row.
    var streamedBytesPerToken: Int {
        layers.reduce(0) { $0 + $1.byteCount } + head.byteCount + embedding.rowBytes
    }

    /// The forward pass; `states` holds one state (a sequence) or one per token (a batch).
    func run(_ tokens: [Int], states: inout [ModelState], allLogits: Bool) -> Matrix {
        let T = tokens.count, C = config.embeddingSize
        let ws = Workspace()
        let x = ws.buffer(T * C)
        lookUp(tokens, in: embedding, into: x)
        ln0.apply(x, rows: T)
        for l in 0..<layers.count {
            // Scratch of one layer is freed before the next, so a long chunk needs one layer's worth.
            let layerScratch = Workspace()
            LayerStates.with(layer: l, of: &states) { rows in
                timeMix(layers[l], x: x, states: &rows, tokens: T, ws: layerScratch)
                channelMix(layers[l], x: x, states: &rows, tokens: T, ws: layerScratch)
            }
        }
        return outputLogits(x: x, tokens: T, allLogits: allLogits, lnWeight: lnOutWeight, lnBias: lnOutBias, head: head,
                            reference: useReferenceKernels, ws: ws)
    }

    // MARK: Time mix

    private func timeMix(_ p: RWKV6Layer, x: UnsafeMutableBufferPointer<Float>, states: inout LayerStates, tokens T: Int, ws: Workspace) {
        let C = config.embeddingSize, H = config.headCount, N = config.headSize
        let ops = KernelSet(reference: useReferenceKernels)
        let xa = ws.buffer(T * C)
        layerNorm(x.readOnly, rows: T, weight: p.ln1Weight, bias: p.ln1Bias, into: xa)
        let d = states.shiftDelta(xa, \.attentionShift, tokens: T, width: C, ws: ws)
        let xr: UnsafeMutableBufferPointer<Float>, xk: UnsafeMutableBufferPointer<Float>
        let xv: UnsafeMutableBufferPointer<Float>, xg: UnsafeMutableBufferPointer<Float>
        let decay = ws.buffer(T * C)
        switch p.mixing {
        case let .eagle(mk, mv, mr, mg, staticDecay):
            // cur·μ + prev·(1 − μ) = cur + d·(1 − μ), d = prev − cur
            xk = mixCurrent(xa, d, mk, T, ws); xv = mixCurrent(xa, d, mv, T, ws)
            xr = mixCurrent(xa, d, mr, T, ws); xg = mixCurrent(xa, d, mg, T, ws)
            for i in decay.indices { decay[i] = staticDecay[i % C] }
        case let .finch(m):
            // m = tanh((cur + d·maa_x)·W1), five slots each projected by W2[s] (spec §3.3)
            let xxx = mix(xa, d, m.maaX, T, C, ws)
            let dm = m.maaW2[0].rows
            let slots = ws.buffer(T * 5 * dm)
            ops.vecmat(xxx.readOnly, m.maaW1, T, slots)
            mapInPlace(slots) { tanh($0) }
            let offsets = ws.buffer(T * dm), delta = ws.buffer(T * C)
            func dynamicMix(_ s: Int, _ base: [Float]) -> UnsafeMutableBufferPointer<Float> {
                for t in 0..<T { for j in 0..<dm { offsets[t * dm + j] = slots[t * 5 * dm + s * dm + j] } }
                ops.vecmat(offsets.readOnly, m.maaW2[s], T, delta)
                let out = ws.buffer(T * C)
                for i in out.indices { out[i] = xa[i] + d[i] * (base[i % C] + delta[i]) }
                return out
            }
            let xw = dynamicMix(0, m.maaW)
            xk = dynamicMix(1, m.maaK); xv = dynamicMix(2, m.maaV); xr = dynamicMix(3, m.maaR); xg = dynamicMix(4, m.maaG)
            // decay = exp(−exp(time_decay + tanh(xw·Dw1)·Dw2))
            let mid = ws.buffer(T * m.decayW1.cols)
            ops.vecmat(xw.readOnly, m.decayW1, T, mid)
            mapInPlace(mid) { tanh($0) }
            ops.vecmat(mid.readOnly, m.decayW2, T, decay)
            for i in decay.indices { decay[i] = exp(-exp(m.decay[i % C] + decay[i])) }
        }
        let r = ws.buffer(T * C), k = ws.buffer(T * C), v = ws.buffer(T * C), g = ws.buffer(T * C)
        ops.linear(p.receptance, xr.readOnly, T, r)
        ops.linear(p.key, xk.readOnly, T, k)
        ops.linear(p.value, xv.readOnly, T, v)
        ops.linear(p.gate, xg.readOnly, T, g)
        for i in g.indices { g[i] = g[i] * sigmoid(g[i]) }   // silu

        let o = ws.buffer(T * C)
        p.bonus.withUnsafeBufferPointer { u in
            states.scanWKV(tokens: T) { rows, s in
                func slice(_ b: UnsafeMutableBufferPointer<Float>) -> UnsafeBufferPointer<Float> { rowSlice(b, rows, width: C).readOnly }
                let inputs = WKV6Inputs(tokens: rows.count, heads: H, headSize: N, r: slice(r), w: slice(decay), k: slice(k), v: slice(v), u: u)
                let out = rowSlice(o, rows, width: C)
                if useReferenceKernels { wkv6Reference(inputs, state: s, out: out) } else { wkv6(inputs, state: s, out: out) }
            }
        }
        groupNorm(o.readOnly, rows: T, groups: H, weight: p.lnxWeight, bias: p.lnxBias, eps: 64e-5, into: o)
        for i in o.indices { o[i] *= g[i] }
        let out = ws.buffer(T * C)
        ops.linear(p.output, o.readOnly, T, out)
        for i in x.indices { x[i] += out[i] }
    }

    // MARK: Channel mix: x += σ(Wr·xr) ⊙ (Wv · relu²(Wk·xk))

    private func channelMix(_ p: RWKV6Layer, x: UnsafeMutableBufferPointer<Float>, states: inout LayerStates, tokens T: Int, ws: Workspace) {
        let C = config.embeddingSize, F = config.ffnSize
        let ops = KernelSet(reference: useReferenceKernels)
        let xf = ws.buffer(T * C)
        layerNorm(x.readOnly, rows: T, weight: p.ln2Weight, bias: p.ln2Bias, into: xf)
        let d = states.shiftDelta(xf, \.ffnShift, tokens: T, width: C, ws: ws)
        let eagle: Bool
        if case .eagle = p.mixing { eagle = true } else { eagle = false }
        let xk = eagle ? mixCurrent(xf, d, p.ffnMixK, T, ws) : mix(xf, d, p.ffnMixK, T, C, ws)
        let xr = eagle ? mixCurrent(xf, d, p.ffnMixR, T, ws) : mix(xf, d, p.ffnMixR, T, C, ws)
        let hidden = ws.buffer(T * F), r = ws.buffer(T * C), out = ws.buffer(T * C)
        ops.linear(p.ffnKey, xk.readOnly, T, hidden)
        for i in hidden.indices { let h = max(hidden[i], 0); hidden[i] = h * h }
        ops.linear(p.ffnValue, hidden.readOnly, T, out)
        ops.linear(p.ffnReceptance, xr.readOnly, T, r)
        for i in x.indices { x[i] += sigmoid(r[i]) * out[i] }
    }

    /// v5 mixing: cur·μ + prev·(1 − μ), written with d = prev − cur.
    private func mixCurrent(_ cur: UnsafeMutableBufferPointer<Float>, _ d: UnsafeMutableBufferPointer<Float>, _ mu: [Float],
                            _ T: Int, _ ws: Workspace) -> UnsafeMutableBufferPointer<Float> {
        let C = config.embeddingSize
        let out = ws.buffer(T * C)
        // Computed as pip does (xx·μ + sx·(1 − μ)) so rounding matches the reference.
        for i in out.indices {
            let prev = cur[i] + d[i]
            out[i] = cur[i] * mu[i % C] + prev * (1 - mu[i % C])
        }
        return out
    }
}

/// emb' = LN(emb; ln0) row-wise, rounded to the checkpoint's dtype as pip's v5/v6 loader does when it
/// folds ln0 into the embedding at load (spec §3.2). Applied to looked-up rows only, which gives the
/// same values without a folded copy of the whole table.
struct FoldedLayerNorm0: Sendable {
    var weight, bias: [Float]          // (C), already rounded to the embedding's dtype
    var rounding: WeightFormat

    init(_ w: WeightReader, width c: Int, rounding: WeightFormat) throws {
        self.rounding = rounding
        weight = try w.vector("blocks.0.ln0.weight", c).map { FoldedLayerNorm0.round($0, rounding) }
        bias = try w.vector("blocks.0.ln0.bias", c).map { FoldedLayerNorm0.round($0, rounding) }
    }

    /// LN0 of each of `rows` rows of x in place, each result rounded to the embedding's dtype.
    func apply(_ x: UnsafeMutableBufferPointer<Float>, rows: Int) {
        layerNorm(UnsafeBufferPointer(x), rows: rows, weight: weight, bias: bias, into: x)
        if rounding == .f16 || rounding == .bf16 {
            for i in x.indices { x[i] = FoldedLayerNorm0.round(x[i], rounding) }
        }
    }

    static func round(_ v: Float, _ format: WeightFormat) -> Float {
        switch format {
        case .bf16: return Float(bitPattern: UInt32(floatToBFloat16Bits(v)) << 16)
        case .f16: return halfBitsToFloat(floatToHalfBits(v))
        default: return v
        }
    }
}

/// Swaps the last two axes of `heads` square N×N blocks.
func transposeHeads(_ s: [Float], heads: Int, size n: Int) -> [Float] {
    var out = s
    for h in 0..<heads {
        for i in 0..<n { for j in 0..<n { out[h * n * n + j * n + i] = s[h * n * n + i * n + j] } }
    }
    return out
}
