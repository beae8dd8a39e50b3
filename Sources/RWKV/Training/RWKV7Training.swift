// RWKV-7 training model: the whole forward and its backward by hand, top to bottom (spec §2.3, §9).
//
// Legend: B batch rows, T tokens per row, M = B·T, C channels, H heads of N, F = 4C, V vocabulary,
// L layers. Order: embedding → per block [time mix, channel mix] → ln_out → head → cross-entropy; the
// backward walks the same list in reverse, each step next to the forward step it undoes. Weights,
// gradients, activations and gradient scratch are four arenas (see TrainingLayout / TrainingActivations).
// Training is stateless per sample (S₀ = 0) unless `trainsInitialState`, which adds a learnable S₀ per
// layer (state tuning). Not here: optimiser (AdamOptimizer), data (TrainingData), files.

import Foundation

/// A trainable RWKV-7 of fixed batch shape, generic over the scalar (Float to train, Double to check).
public final class RWKV7TrainingModel<S: TrainingScalar>: @unchecked Sendable {
    public let dimensions: RWKV7Dimensions
    public let layout: ParameterLayout
    public let batch: Int, tokens: Int
    /// Official-layout parameters and their gradients (same layout).
    public let parameters: Arena<S>, gradients: Arena<S>
    /// Learnable initial WKV state (L, H, N, N) and its gradient, when state tuning.
    public let initialState: Arena<S>?, stateGradients: Arena<S>?

    let weights: ModelTensors<S>, grads: ModelTensors<S>
    private let activationArena: Arena<S>, acts: ModelActivations<S>
    private let scratchArena: Arena<S>, scratch: ModelGradients<S>
    private var targets: [Int] = [], tokensIn: [Int] = []
    private var maxLogit: [S] = [], argMax: [Int] = []

    /// exp(−e^{−½}) as the training kernel writes it (spec §9.4).
    static var decayScale: S { S(0.6065306597126334) }

    public init(dimensions d: RWKV7Dimensions, batch: Int, tokens: Int, trainsInitialState: Bool = false) throws {
        try d.validate()
        guard batch > 0, tokens > 0 else { throw TrainingError.invalidBatch("batch \(batch) × tokens \(tokens) must both be positive") }
        dimensions = d; self.batch = batch; self.tokens = tokens
        layout = ParameterLayout(d)
        parameters = Arena(count: layout.count); gradients = Arena(count: layout.count)
        weights = ModelTensors(layout, parameters, layers: d.layers); grads = ModelTensors(layout, gradients, layers: d.layers)
        let s = BatchShape(batch: batch, tokens: tokens)
        (activationArena, acts) = carveArena { ModelActivations(&$0, d, s) }
        (scratchArena, scratch) = carveArena { ModelGradients(&$0, d, s) }
        let stateCount = d.layers * d.heads * d.headSize * d.headSize
        initialState = trainsInitialState ? Arena(count: stateCount) : nil
        stateGradients = trainsInitialState ? Arena(count: stateCount) : nil
    }

    /// A view of one parameter tensor (official name), or nil if the table has no such name.
    public func parameter(_ name: String) -> UnsafeMutableBufferPointer<S>? { view(parameters, name) }
    /// The gradient of one parameter tensor after `backward()`.
    public func gradient(_ name: String) -> UnsafeMutableBufferPointer<S>? { view(gradients, name) }

    private func view(_ arena: Arena<S>, _ name: String) -> UnsafeMutableBufferPointer<S>? {
        guard let i = layout.position(of: name) else { return nil }
        return UnsafeMutableBufferPointer(rebasing: arena.buffer[layout.offsets[i]..<(layout.offsets[i] + layout.specs[i].count)])
    }

    // MARK: Whole model

    /// Runs B rows of T tokens (row-major, `inputs.count == B·T`) and returns the mean cross-entropy
    /// against `targets` (same shape; usually inputs shifted by one).
    public func forward(inputs: [Int], targets: [Int]) throws -> Double {
        let M = batch * tokens, C = dimensions.embedding, V = dimensions.vocabulary
        guard inputs.count == M, targets.count == M else {
            throw TrainingError.invalidBatch("expected \(M) = \(batch)×\(tokens) inputs and targets, found \(inputs.count) and \(targets.count)")
        }
        if let bad = (inputs + targets).first(where: { $0 < 0 || $0 >= V }) {
            throw TrainingError.invalidBatch("token id \(bad) is outside the vocabulary 0..<\(V)")
        }
        tokensIn = inputs; self.targets = targets
        // x = LN_ln0(emb[token])
        for (m, tok) in inputs.enumerated() { (acts.embedded + m * C).update(from: weights.emb + tok * C, count: C) }
        normForward(acts.blocks[0].xIn, acts.ln0Mean, acts.ln0Rstd, acts.embedded, weights.ln0W, weights.ln0B,
                    rows: M, channels: C, groups: 1, eps: 1e-5)
        for l in 0..<dimensions.layers {
            let out = l + 1 < dimensions.layers ? acts.blocks[l + 1].xIn : acts.xFinal
            timeMixForward(l)
            channelMixForward(l, out: out)
        }
        // logits = LN_out(x)·headᵀ; probabilities and loss per row
        normForward(acts.lnOut, acts.lnOutMean, acts.lnOutRstd, acts.xFinal, weights.lnOutW, weights.lnOutB,
                    rows: M, channels: C, groups: 1, eps: 1e-5)
        linearForward(acts.probs, acts.lnOut, weights.head, rows: M, inputs: C, outputs: V)
        return crossEntropyForward()
    }

    /// Gradients of the last `forward` into `gradients` (and `stateGradients`), overwriting them.
    /// `l2wrap` adds RWKV-LM's gradient-only logit regulariser (spec §9.2).
    public func backward(l2wrap: Bool = true) {
        let M = batch * tokens, C = dimensions.embedding, V = dimensions.vocabulary
        gradients.zero(); stateGradients?.zero()
        scratch.dX.update(repeating: 0, count: M * C)
        scratch.dVFirst.update(repeating: 0, count: M * C)
        scratch.dLnOut.update(repeating: 0, count: M * C)
        crossEntropyBackward(l2wrap: l2wrap)   // probs → dlogits in place
        linearBackward(scratch.dLnOut, grads.head, acts.probs, acts.lnOut, weights.head, rows: M, inputs: C, outputs: V)
        normBackward(scratch.dX, grads.lnOutW, grads.lnOutB, scratch.dLnOut, acts.xFinal, weights.lnOutW,
                     acts.lnOutMean, acts.lnOutRstd, rows: M, channels: C, groups: 1)
        for l in stride(from: dimensions.layers - 1, through: 0, by: -1) {
            zeroBlockScratch()
            channelMixBackward(l)
            timeMixBackward(l)
        }
        // Through ln0 into the embedding rows that were looked up.
        let dEmbedded = scratch.block.dTmp
        dEmbedded.update(repeating: 0, count: M * C)
        normBackward(dEmbedded, grads.ln0W, grads.ln0B, scratch.dX, acts.embedded, weights.ln0W,
                     acts.ln0Mean, acts.ln0Rstd, rows: M, channels: C, groups: 1)
        for (m, tok) in tokensIn.enumerated() { addInPlace(grads.emb + tok * C, dEmbedded + m * C, C) }
    }

    private func zeroBlockScratch() {
        scratch.block.dLn1.update(repeating: 0, count: scratch.block.count)
    }

    // MARK: Loss — mean cross-entropy; L2Wrap acts on the gradient only (spec §9.2)

    private func crossEntropyForward() -> Double {
        let M = batch * tokens, V = dimensions.vocabulary
        maxLogit = [S](repeating: 0, count: M); argMax = [Int](repeating: 0, count: M)
        var total = 0.0
        for m in 0..<M {
            let row = acts.probs + m * V
            var best = 0
            for j in 1..<V where row[j] > row[best] { best = j }
            let mx = row[best]
            maxLogit[m] = mx; argMax[m] = best
            var sum: S = 0
            for j in 0..<V { row[j] = S.exp(row[j] - mx); sum += row[j] }
            for j in 0..<V { row[j] /= sum }
            total -= Double(S.log(row[targets[m]]))
        }
        return total / Double(M)
    }

    /// dlogits = (softmax − onehot)/M, plus 1e−4/M · max_logit on the arg-max logit with L2Wrap.
    private func crossEntropyBackward(l2wrap: Bool) {
        let M = batch * tokens, V = dimensions.vocabulary
        let scale = 1 / S(M)
        for m in 0..<M {
            let row = acts.probs + m * V
            for j in 0..<V { row[j] *= scale }
            row[targets[m]] -= scale
            if l2wrap { row[argMax[m]] += S(1e-4) * scale * maxLogit[m] }
        }
    }

    // MARK: Time mix (spec §2.3), forward then backward

    private func timeMixForward(_ l: Int) {
        let p = weights.blocks[l], a = acts.blocks[l], d = dimensions
        let B = batch, T = tokens, M = B * T, C = d.embedding, H = d.heads, N = d.headSize
        let tmp = acts.scratch
        normForward(a.ln1, a.ln1Mean, a.ln1Rstd, a.xIn, p.ln1W, p.ln1B, rows: M, channels: C, groups: 1, eps: 1e-5)
        for (out, mu) in [(a.xr, p.xR), (a.xw, p.xW), (a.xk, p.xK), (a.xv, p.xV), (a.xa, p.xA), (a.xg, p.xG)] {
            shiftMixForward(out, a.ln1, mu, batch: B, tokens: T, channels: C)
        }
        linearForward(a.r, a.xr, p.wR, rows: M, inputs: C, outputs: C)
        linearForward(a.k, a.xk, p.wK, rows: M, inputs: C, outputs: C)
        linearForward(a.v, a.xv, p.wV, rows: M, inputs: C, outputs: C)
        // decay = exp(−e^{−½}·σ(w0 + tanh(xw·w1)·w2))
        loraForward(a.wMid, a.xw, p.w1, rows: M, inputs: C, outputs: d.decayRank)
        for i in 0..<(M * d.decayRank) { a.wMid[i] = S.tanh(a.wMid[i]) }
        loraForward(tmp, a.wMid, p.w2, rows: M, inputs: d.decayRank, outputs: C)
        for i in 0..<(M * C) {
            a.wSig[i] = S.sigmoid(p.w0[i % C] + tmp[i])
            a.decay[i] = S.exp(-Self.decayScale * a.wSig[i])
        }
        // α = σ(a0 + (xa·a1)·a2)
        loraForward(a.aMid, a.xa, p.a1, rows: M, inputs: C, outputs: d.iclrRank)
        loraForward(tmp, a.aMid, p.a2, rows: M, inputs: d.iclrRank, outputs: C)
        for i in 0..<(M * C) { a.alpha[i] = S.sigmoid(p.a0[i % C] + tmp[i]) }
        // g = σ(xg·g1)·g2
        loraForward(a.gMid, a.xg, p.g1, rows: M, inputs: C, outputs: d.gateRank)
        for i in 0..<(M * d.gateRank) { a.gMid[i] = S.sigmoid(a.gMid[i]) }
        loraForward(a.gate, a.gMid, p.g2, rows: M, inputs: d.gateRank, outputs: C)
        // κ̂ = (k⊙k_k)/max(‖k⊙k_k‖, 1e−12) per head;  k' = k⊙(1 + (α−1)⊙k_a)
        for m in 0..<M {
            for h in 0..<H {
                let o = m * C + h * N
                var sq: S = 0
                for j in 0..<N { let x = a.k[o + j] * p.kK[h * N + j]; a.kk[o + j] = x; sq += x * x }
                let norm = sq.squareRoot()
                a.kkNorm[m * H + h] = norm
                let inv = 1 / max(norm, S(1e-12))
                for j in 0..<N { a.kk[o + j] *= inv }
            }
        }
        for i in 0..<(M * C) { a.kMod[i] = a.k[i] * (1 + (a.alpha[i] - 1) * p.kA[i % C]) }
        // Value residual: layer 0's v is v_first; later layers mix towards it with σ(v0 + (xv·v1)·v2).
        if l == 0 {
            a.vMix.update(from: a.v, count: M * C)
        } else {
            let vFirst = acts.blocks[0].v
            loraForward(a.vMid, a.xv, p.v1, rows: M, inputs: C, outputs: d.valueRank)
            loraForward(tmp, a.vMid, p.v2, rows: M, inputs: d.valueRank, outputs: C)
            for i in 0..<(M * C) {
                a.vGate[i] = S.sigmoid(p.v0[i % C] + tmp[i])
                a.vMix[i] = a.v[i] + (vFirst[i] - a.v[i]) * a.vGate[i]
            }
        }
        // WKV with a = −κ̂, b = κ̂⊙α
        for i in 0..<(M * C) { a.wkvA[i] = -a.kk[i]; a.wkvB[i] = a.kk[i] * a.alpha[i] }
        wkv7Forward(a.y, sa: a.sa, snapshots: a.snapshots, r: a.r, w: a.decay, k: a.kMod, v: a.vMix, a: a.wkvA, b: a.wkvB,
                    initialState: initialState.map { $0.base + l * H * N * N }, shape: wkvShape)
        // o = GN(y) + (Σ_j r_j k'_j r_k,j)·v per head;  og = o⊙g;  x_mid = x_in + og·Woᵀ
        normForward(a.o, a.gnMean, a.gnRstd, a.y, p.lnxW, p.lnxB, rows: M, channels: C, groups: H, eps: 64e-5)
        for m in 0..<M {
            for h in 0..<H {
                let o = m * C + h * N
                var s: S = 0
                for j in 0..<N { s += a.r[o + j] * a.kMod[o + j] * p.rK[h * N + j] }
                for j in 0..<N { a.o[o + j] += s * a.vMix[o + j] }
            }
        }
        for i in 0..<(M * C) { a.og[i] = a.o[i] * a.gate[i] }
        linearForward(a.xMid, a.og, p.wO, rows: M, inputs: C, outputs: C)
        addInPlace(a.xMid, a.xIn, M * C)
    }

    private func timeMixBackward(_ l: Int) {
        let p = weights.blocks[l], dp = grads.blocks[l], a = acts.blocks[l], g = scratch.block, d = dimensions
        let B = batch, T = tokens, M = B * T, C = d.embedding, H = d.heads, N = d.headSize
        let dX = scratch.dX
        // x_mid = x_in + og·Woᵀ
        linearBackward(g.dOG, dp.wO, dX, a.og, p.wO, rows: M, inputs: C, outputs: C)
        for i in 0..<(M * C) { g.dO[i] = g.dOG[i] * a.gate[i]; g.dGate[i] = g.dOG[i] * a.o[i] }
        // bonus s_h = Σ_j r_j k'_j r_k,j ;  o += s_h·v
        for m in 0..<M {
            for h in 0..<H {
                let o = m * C + h * N
                var s: S = 0, ds: S = 0
                for j in 0..<N {
                    s += a.r[o + j] * a.kMod[o + j] * p.rK[h * N + j]
                    ds += g.dO[o + j] * a.vMix[o + j]
                }
                for j in 0..<N {
                    g.dVMix[o + j] += s * g.dO[o + j]
                    g.dR[o + j] += ds * a.kMod[o + j] * p.rK[h * N + j]
                    g.dKMod[o + j] += ds * a.r[o + j] * p.rK[h * N + j]
                    dp.rK[h * N + j] += ds * a.r[o + j] * a.kMod[o + j]
                }
            }
        }
        normBackward(g.dY, dp.lnxW, dp.lnxB, g.dO, a.y, p.lnxW, a.gnMean, a.gnRstd, rows: M, channels: C, groups: H)
        // WKV (spec §9.4)
        let dS0: Ptr<S>? = stateGradients == nil ? nil : scratch.dState
        wkv7Backward(dr: g.dR, dw: g.dDecay, dk: g.dKMod, dv: g.dVMix, da: g.dWkvA, db: g.dWkvB, dInitialState: dS0,
                     dy: g.dY, sa: a.sa, snapshots: a.snapshots, r: a.r, w: a.decay, k: a.kMod, v: a.vMix,
                     a: a.wkvA, b: a.wkvB, shape: wkvShape)
        if let dS0, let sg = stateGradients {
            let size = H * N * N
            for b in 0..<B { addInPlace(sg.base + l * size, dS0 + b * size, size) }
        }
        // a = −κ̂, b = κ̂⊙α
        for i in 0..<(M * C) {
            g.dKK[i] += -g.dWkvA[i] + g.dWkvB[i] * a.alpha[i]
            g.dAlpha[i] += g.dWkvB[i] * a.kk[i]
        }
        // v' = v + (v_first − v)⊙σ(v0 + (xv·v1)·v2)   (layer 0: v' = v = v_first)
        if l == 0 {
            addInPlace(g.dV, g.dVMix, M * C)
            addInPlace(g.dV, scratch.dVFirst, M * C)
        } else {
            let vFirst = acts.blocks[0].v
            for i in 0..<(M * C) {
                let gate = a.vGate[i]
                g.dV[i] += g.dVMix[i] * (1 - gate)
                scratch.dVFirst[i] += g.dVMix[i] * gate
                let dPre = g.dVMix[i] * (vFirst[i] - a.v[i]) * gate * (1 - gate)
                g.dTmp[i] = dPre
                dp.v0[i % C] += dPre
            }
            loraBackward(g.dVMid, dp.v2, g.dTmp, a.vMid, p.v2, rows: M, inputs: d.valueRank, outputs: C)
            loraBackward(g.dXv, dp.v1, g.dVMid, a.xv, p.v1, rows: M, inputs: C, outputs: d.valueRank)
        }
        // k' = k⊙(1 + (α−1)⊙k_a)
        for i in 0..<(M * C) {
            let ka = p.kA[i % C]
            g.dK[i] += g.dKMod[i] * (1 + (a.alpha[i] - 1) * ka)
            g.dAlpha[i] += g.dKMod[i] * a.k[i] * ka
            dp.kA[i % C] += g.dKMod[i] * a.k[i] * (a.alpha[i] - 1)
        }
        // κ̂ = κ/max(‖κ‖, ε), κ = k⊙k_k:  dκ = (dκ̂ − κ̂(κ̂·dκ̂))/‖κ‖  (or dκ̂/ε when clamped)
        for m in 0..<M {
            for h in 0..<H {
                let o = m * C + h * N, norm = a.kkNorm[m * H + h]
                var dot: S = 0
                for j in 0..<N { dot += a.kk[o + j] * g.dKK[o + j] }
                let clamped = norm <= S(1e-12)
                let inv = 1 / max(norm, S(1e-12))
                for j in 0..<N {
                    let dKappa = clamped ? g.dKK[o + j] * inv : (g.dKK[o + j] - a.kk[o + j] * dot) * inv
                    g.dK[o + j] += dKappa * p.kK[h * N + j]
                    dp.kK[h * N + j] += dKappa * a.k[o + j]
                }
            }
        }
        // g = σ(xg·g1)·g2
        loraBackward(g.dGMid, dp.g2, g.dGate, a.gMid, p.g2, rows: M, inputs: d.gateRank, outputs: C)
        for i in 0..<(M * d.gateRank) { g.dGMid[i] *= a.gMid[i] * (1 - a.gMid[i]) }
        loraBackward(g.dXg, dp.g1, g.dGMid, a.xg, p.g1, rows: M, inputs: C, outputs: d.gateRank)
        // α = σ(a0 + (xa·a1)·a2)
        for i in 0..<(M * C) {
            let dPre = g.dAlpha[i] * a.alpha[i] * (1 - a.alpha[i])
            g.dTmp[i] = dPre
            dp.a0[i % C] += dPre
        }
        loraBackward(g.dAMid, dp.a2, g.dTmp, a.aMid, p.a2, rows: M, inputs: d.iclrRank, outputs: C)
        loraBackward(g.dXa, dp.a1, g.dAMid, a.xa, p.a1, rows: M, inputs: C, outputs: d.iclrRank)
        // decay = exp(−c·σ(ω)), ω = w0 + tanh(xw·w1)·w2:  dω = d(decay)·decay·(−c)·σ(1−σ)
        for i in 0..<(M * C) {
            let s = a.wSig[i]
            let dOmega = g.dDecay[i] * a.decay[i] * (-Self.decayScale) * s * (1 - s)
            g.dTmp[i] = dOmega
            dp.w0[i % C] += dOmega
        }
        loraBackward(g.dWMid, dp.w2, g.dTmp, a.wMid, p.w2, rows: M, inputs: d.decayRank, outputs: C)
        for i in 0..<(M * d.decayRank) { g.dWMid[i] *= 1 - a.wMid[i] * a.wMid[i] }
        loraBackward(g.dXw, dp.w1, g.dWMid, a.xw, p.w1, rows: M, inputs: C, outputs: d.decayRank)
        // r, k, v projections
        linearBackward(g.dXr, dp.wR, g.dR, a.xr, p.wR, rows: M, inputs: C, outputs: C)
        linearBackward(g.dXk, dp.wK, g.dK, a.xk, p.wK, rows: M, inputs: C, outputs: C)
        linearBackward(g.dXv, dp.wV, g.dV, a.xv, p.wV, rows: M, inputs: C, outputs: C)
        // token-shift mixes, then ln1 back into the residual stream
        for (dOut, mu, dMu) in [(g.dXr, p.xR, dp.xR), (g.dXw, p.xW, dp.xW), (g.dXk, p.xK, dp.xK),
                                (g.dXv, p.xV, dp.xV), (g.dXa, p.xA, dp.xA), (g.dXg, p.xG, dp.xG)] {
            shiftMixBackward(g.dLn1, dMu, dOut, a.ln1, mu, batch: B, tokens: T, channels: C)
        }
        normBackward(dX, dp.ln1W, dp.ln1B, g.dLn1, a.xIn, p.ln1W, a.ln1Mean, a.ln1Rstd, rows: M, channels: C, groups: 1)
    }

    // MARK: Channel mix: x_out = x_mid + relu²(mix(ln2(x_mid))·Wkᵀ)·Wvᵀ

    private func channelMixForward(_ l: Int, out: Ptr<S>) {
        let p = weights.blocks[l], a = acts.blocks[l], d = dimensions
        let M = batch * tokens, C = d.embedding, F = d.ffn
        normForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.xMid, p.ln2W, p.ln2B, rows: M, channels: C, groups: 1, eps: 1e-5)
        shiftMixForward(a.ffnMix, a.ln2, p.fxK, batch: batch, tokens: tokens, channels: C)
        linearForward(a.hiddenPre, a.ffnMix, p.fKey, rows: M, inputs: C, outputs: F)
        for i in 0..<(M * F) { let r = max(a.hiddenPre[i], 0); a.hidden[i] = r * r }
        linearForward(out, a.hidden, p.fValue, rows: M, inputs: F, outputs: C)
        addInPlace(out, a.xMid, M * C)
    }

    private func channelMixBackward(_ l: Int) {
        let p = weights.blocks[l], dp = grads.blocks[l], a = acts.blocks[l], g = scratch.block, d = dimensions
        let M = batch * tokens, C = d.embedding, F = d.ffn
        linearBackward(g.dHidden, dp.fValue, scratch.dX, a.hidden, p.fValue, rows: M, inputs: F, outputs: C)
        for i in 0..<(M * F) { g.dHidden[i] *= 2 * max(a.hiddenPre[i], 0) }   // d relu²(u) = 2·relu(u)
        linearBackward(g.dFfnMix, dp.fKey, g.dHidden, a.ffnMix, p.fKey, rows: M, inputs: C, outputs: F)
        shiftMixBackward(g.dLn2, dp.fxK, g.dFfnMix, a.ln2, p.fxK, batch: batch, tokens: tokens, channels: C)
        normBackward(scratch.dX, dp.ln2W, dp.ln2B, g.dLn2, a.xMid, p.ln2W, a.ln2Mean, a.ln2Rstd, rows: M, channels: C, groups: 1)
    }

    private var wkvShape: WKV7Shape { WKV7Shape(batch: batch, tokens: tokens, heads: dimensions.heads, headSize: dimensions.headSize) }
}
