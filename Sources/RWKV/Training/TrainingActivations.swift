// Everything the training forward saves for the backward, and the gradient scratch the backward uses,
// each carved from ONE arena in a fixed order.
//
// Legend: M = B·T rows, C channels, H heads, N head size, F = 4C, V vocabulary, Dw/Da/Dv/Dg ranks.
// Buffers are named after what produced them (spec §2.3 symbols); a gradient is `d` + that name. The
// activation arena holds one `BlockActivations` per layer; the gradient scratch holds ONE
// `BlockGradients`, reused by every layer in turn (llm.c style), so memory is O(L·M·C) + O(M·C).

/// Hands out consecutive slices of an arena; a counting pass (no arena) measures the total first.
struct Carver<S: TrainingScalar> {
    private let base: Ptr<S>?
    private let dummy: Ptr<S>?
    private(set) var used = 0

    /// Counting mode: `take` returns a placeholder that must not be used.
    init() { base = nil; dummy = Ptr<S>.allocate(capacity: 1) }
    init(_ arena: Arena<S>) { base = arena.base; dummy = nil }

    mutating func take(_ n: Int) -> Ptr<S> {
        defer { used += n }
        if let base { return base + used }
        return dummy.unsafelyUnwrapped   // counting mode: never dereferenced
    }

    func release() { dummy?.deallocate() }
}

/// Measures a carve, allocates exactly that, and carves for real.
func carveArena<S: TrainingScalar, V>(_ carve: (inout Carver<S>) -> V) -> (Arena<S>, V) {
    var counter = Carver<S>()
    _ = carve(&counter)
    counter.release()
    let arena = Arena<S>(count: counter.used)
    var real = Carver(arena)
    return (arena, carve(&real))
}

/// Sizes the activations depend on.
struct BatchShape {
    var batch: Int, tokens: Int   // B, T
    var rows: Int { batch * tokens }   // M
}

/// What one block's forward saves.
struct BlockActivations<S: TrainingScalar> {
    typealias P = Ptr<S>
    var xIn: P                              // (M, C) residual stream entering the block
    var ln1, ln1Mean, ln1Rstd: P            // (M, C), (M), (M)
    var xr, xw, xk, xv, xa, xg: P           // (M, C) token-shift mixes
    var r, k, v: P                          // (M, C) projections (k, v before modification)
    var wMid, wSig, decay: P                // (M, Dw) tanh(xw·w1); (M, C) σ(ω); (M, C) exp(−e^{−½}σ(ω))
    var aMid, alpha: P                      // (M, Da) xa·a1; (M, C) α
    var gMid, gate: P                       // (M, Dg) σ(xg·g1); (M, C) g
    var kk, kkNorm, kMod: P                 // (M, C) κ̂; (M, H) ‖k⊙k_k‖; (M, C) modified k
    var vMid, vGate, vMix: P                // (M, Dv) xv·v1; (M, C) σ(v0 + vMid·v2); (M, C) v fed to WKV
    var wkvA, wkvB: P                       // (M, C) a = −κ̂, b = κ̂⊙α
    var sa, snapshots: P                    // (M, C); (B, H, ⌈T/16⌉, N, N)
    var y, gnMean, gnRstd: P                // (M, C) WKV output; (M, H), (M, H)
    var o, og: P                            // (M, C) GN(y) + bonus; o⊙g
    var xMid: P                             // (M, C) residual after the time mix
    var ln2, ln2Mean, ln2Rstd: P            // (M, C), (M), (M)
    var ffnMix, hiddenPre, hidden: P        // (M, C), (M, F), (M, F) relu² output

    init(_ c: inout Carver<S>, _ d: RWKV7Dimensions, _ s: BatchShape) {
        let M = s.rows, C = d.embedding, H = d.heads, F = d.ffn
        let wkv = WKV7Shape(batch: s.batch, tokens: s.tokens, heads: H, headSize: d.headSize)
        xIn = c.take(M * C); ln1 = c.take(M * C); ln1Mean = c.take(M); ln1Rstd = c.take(M)
        xr = c.take(M * C); xw = c.take(M * C); xk = c.take(M * C); xv = c.take(M * C); xa = c.take(M * C); xg = c.take(M * C)
        r = c.take(M * C); k = c.take(M * C); v = c.take(M * C)
        wMid = c.take(M * d.decayRank); wSig = c.take(M * C); decay = c.take(M * C)
        aMid = c.take(M * d.iclrRank); alpha = c.take(M * C)
        gMid = c.take(M * d.gateRank); gate = c.take(M * C)
        kk = c.take(M * C); kkNorm = c.take(M * H); kMod = c.take(M * C)
        vMid = c.take(M * d.valueRank); vGate = c.take(M * C); vMix = c.take(M * C)
        wkvA = c.take(M * C); wkvB = c.take(M * C)
        sa = c.take(M * C); snapshots = c.take(wkv.snapshotCount)
        y = c.take(M * C); gnMean = c.take(M * H); gnRstd = c.take(M * H)
        o = c.take(M * C); og = c.take(M * C); xMid = c.take(M * C)
        ln2 = c.take(M * C); ln2Mean = c.take(M); ln2Rstd = c.take(M)
        ffnMix = c.take(M * C); hiddenPre = c.take(M * F); hidden = c.take(M * F)
    }
}

/// What the whole-model forward saves around the blocks.
struct ModelActivations<S: TrainingScalar> {
    typealias P = Ptr<S>
    var embedded, ln0Mean, ln0Rstd: P        // (M, C) emb rows before ln0; (M), (M)
    var blocks: [BlockActivations<S>]        // L
    var xFinal: P                            // (M, C) residual after the last block
    var lnOut, lnOutMean, lnOutRstd: P       // (M, C), (M), (M)
    var probs: P                             // (M, V) softmax; the backward overwrites it with dlogits
    var scratch: P                           // (M, C) temporary, never read across steps

    init(_ c: inout Carver<S>, _ d: RWKV7Dimensions, _ s: BatchShape) {
        let M = s.rows, C = d.embedding
        embedded = c.take(M * C); ln0Mean = c.take(M); ln0Rstd = c.take(M)
        var blocks: [BlockActivations<S>] = []
        for _ in 0..<d.layers { blocks.append(BlockActivations(&c, d, s)) }
        self.blocks = blocks
        xFinal = c.take(M * C); lnOut = c.take(M * C); lnOutMean = c.take(M); lnOutRstd = c.take(M)
        probs = c.take(M * d.vocabulary); scratch = c.take(M * C)
    }
}

/// One layer's worth of activation gradients, reused by every layer (zeroed before each).
struct BlockGradients<S: TrainingScalar> {
    typealias P = Ptr<S>
    var dLn1, dXr, dXw, dXk, dXv, dXa, dXg: P    // (M, C)
    var dR, dK, dV: P                            // (M, C)
    var dWMid, dDecay, dAMid, dAlpha, dGMid, dGate: P   // (M, Dw), (M, C), (M, Da), (M, C), (M, Dg), (M, C)
    var dKK, dKMod, dVMid, dVMix, dWkvA, dWkvB: P      // (M, C), (M, C), (M, Dv), (M, C)…
    var dY, dO, dOG, dLn2, dFfnMix, dHidden, dTmp: P   // (M, C) … dHidden (M, F)
    var count: Int                               // scalars from the first to the last buffer

    init(_ c: inout Carver<S>, _ d: RWKV7Dimensions, _ s: BatchShape) {
        let M = s.rows, C = d.embedding
        let start = c.used
        dLn1 = c.take(M * C); dXr = c.take(M * C); dXw = c.take(M * C); dXk = c.take(M * C)
        dXv = c.take(M * C); dXa = c.take(M * C); dXg = c.take(M * C)
        dR = c.take(M * C); dK = c.take(M * C); dV = c.take(M * C)
        dWMid = c.take(M * d.decayRank); dDecay = c.take(M * C); dAMid = c.take(M * d.iclrRank); dAlpha = c.take(M * C)
        dGMid = c.take(M * d.gateRank); dGate = c.take(M * C)
        dKK = c.take(M * C); dKMod = c.take(M * C); dVMid = c.take(M * d.valueRank); dVMix = c.take(M * C)
        dWkvA = c.take(M * C); dWkvB = c.take(M * C)
        dY = c.take(M * C); dO = c.take(M * C); dOG = c.take(M * C); dLn2 = c.take(M * C); dFfnMix = c.take(M * C)
        dHidden = c.take(M * d.ffn); dTmp = c.take(M * C)
        count = c.used - start
    }
}

/// Gradient scratch for the whole backward: residual gradient, v_first's gradient and one block's set.
struct ModelGradients<S: TrainingScalar> {
    typealias P = Ptr<S>
    var dX: P                     // (M, C) dL/d(residual stream) at the current point
    var dVFirst: P                // (M, C) gathered from layers ≥ 1, added to layer 0's dv
    var dLnOut: P                 // (M, C)
    var dState: P                 // (B, H, N, N) dL/dS₀ per batch row (state tuning)
    var block: BlockGradients<S>

    init(_ c: inout Carver<S>, _ d: RWKV7Dimensions, _ s: BatchShape) {
        let M = s.rows, C = d.embedding
        dX = c.take(M * C); dVFirst = c.take(M * C); dLnOut = c.take(M * C)
        dState = c.take(s.batch * d.heads * d.headSize * d.headSize)
        block = BlockGradients(&c, d, s)
    }
}
