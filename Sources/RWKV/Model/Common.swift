// Pieces every model version uses: input checks, token shift, mixing, the output head, and the
// switch between fast and reference kernels.

/// The product kernels a forward pass uses: the fast ones, or their scalar twins for checking.
struct KernelSet {
    let reference: Bool

    /// Y = X·Wᵀ for T rows (nn.Linear, W stored [out, in]).
    func linear(_ w: Matrix, _ x: UnsafeBufferPointer<Float>, _ tokens: Int, _ y: UnsafeMutableBufferPointer<Float>) {
        if reference { linearReference(w, x, tokens: tokens, into: y) } else { RWKV.linear(w, x, tokens: tokens, into: y) }
    }

    /// Y = X·Wᵀ for T rows with W in any storage format.
    func linear(_ w: WeightMatrix, _ x: UnsafeBufferPointer<Float>, _ tokens: Int, _ y: UnsafeMutableBufferPointer<Float>) {
        if reference { w.applyReference(x, tokens: tokens, into: y) } else { w.apply(x, tokens: tokens, into: y) }
    }

    /// Y = X·A for T rows (low-rank factor stored [in, out]).
    func vecmat(_ x: UnsafeBufferPointer<Float>, _ a: Matrix, _ tokens: Int, _ y: UnsafeMutableBufferPointer<Float>) {
        if reference { vecmatReference(x, a, tokens: tokens, into: y) } else { RWKV.vecmat(x, a, tokens: tokens, into: y) }
    }

    /// (f(X·A))·B for a low-rank pair, f applied element-wise in the middle when given.
    func lora(_ x: UnsafeMutableBufferPointer<Float>, _ a: Matrix, _ b: Matrix, _ tokens: Int, _ ws: Workspace,
              inner: ((Float) -> Float)? = nil) -> UnsafeMutableBufferPointer<Float> {
        let mid = ws.buffer(tokens * a.cols)
        vecmat(x.readOnly, a, tokens, mid)
        if let inner { mapInPlace(mid, inner) }
        let out = ws.buffer(tokens * b.cols)
        vecmat(mid.readOnly, b, tokens, out)
        return out
    }
}

/// Throws unless the tokens are in the vocabulary and the state belongs to this model. The kernels
/// index the state's arrays without checks, so this is the gate: a state's lengths were checked when it
/// was built, and here its shape must be exactly the model's.
func validate(tokens: [Int], state: ModelState, config: ModelConfig) throws {
    guard !tokens.isEmpty else { throw ModelError.emptyInput }
    try validate(state: state, config: config)
    let vocab = config.vocabularySize
    if let bad = tokens.first(where: { $0 < 0 || $0 >= vocab }) { throw ModelError.tokenOutOfRange(token: bad, vocabularySize: vocab) }
}

/// Throws unless `state` has the signature and array lengths of a model with `config`.
func validate(state: ModelState, config: ModelConfig) throws {
    guard state.fits(config) else {
        let found = state.signature.isEmpty ? "an empty (moved-from)" : state.signature
        throw ModelError.stateMismatch(expected: config.signature, found: found)
    }
}

/// d[t] = previous[t] − cur[t] where previous[0] is the carried state; the state becomes cur[T−1].
func tokenShiftDelta(_ cur: UnsafeMutableBufferPointer<Float>, previous: inout [Float], tokens T: Int, width C: Int,
                     ws: Workspace) -> UnsafeMutableBufferPointer<Float> {
    let d = ws.buffer(T * C)
    for c in 0..<C { d[c] = previous[c] - cur[c] }
    for i in C..<(T * C) { d[i] = cur[i - C] - cur[i] }
    for c in 0..<C { previous[c] = cur[(T - 1) * C + c] }
    return d
}

/// cur + d ⊙ μ (v6/v7: μ is the weight of the previous token).
func mix(_ cur: UnsafeMutableBufferPointer<Float>, _ d: UnsafeMutableBufferPointer<Float>, _ mu: [Float],
         _ T: Int, _ C: Int, _ ws: Workspace) -> UnsafeMutableBufferPointer<Float> {
    let out = ws.buffer(T * C)
    for i in out.indices { out[i] = cur[i] + d[i] * mu[i % C] }
    return out
}

/// logits = head · LN_out(x) for the last row, or for every row with `allLogits`.
func outputLogits(x: UnsafeMutableBufferPointer<Float>, tokens T: Int, allLogits: Bool, lnWeight: [Float], lnBias: [Float],
                  head: WeightMatrix, reference: Bool, ws: Workspace) -> Matrix {
    let C = head.cols
    let first = allLogits ? 0 : T - 1, rows = T - first
    let xo = ws.buffer(rows * C)
    layerNorm(UnsafeBufferPointer(rebasing: x[(first * C)...]), rows: rows, weight: lnWeight, bias: lnBias, into: xo)
    var logits = Matrix(rows: rows, cols: head.rows)
    logits.data.withUnsafeMutableBufferPointer { KernelSet(reference: reference).linear(head, xo.readOnly, rows, $0) }
    return logits
}

/// Bytes one token reads from a fp32 matrix.
extension Matrix {
    var byteCount: Int { rows * cols * 4 }
}

/// Copies embedding rows `tokens` into x (T × C).
func lookUp(_ tokens: [Int], in embedding: WeightMatrix, into x: UnsafeMutableBufferPointer<Float>) {
    let c = embedding.cols
    for (t, token) in tokens.enumerated() {
        embedding.row(token, into: UnsafeMutableBufferPointer(rebasing: x[(t * c)..<((t + 1) * c)]))
    }
}

/// The layer states one forward call advances: one state for a sequence of T tokens, or one state per
/// token for a batch of T independent sessions (batched decode: each row is a different conversation,
/// so token shift and the WKV recurrence read and write that row's own state).
struct LayerStates {
    var items: [LayerState]

    /// Moves layer `l` out of `states` (no copy of the arrays) for the duration of `body`.
    static func with<R>(layer l: Int, of states: inout [ModelState], _ body: (inout LayerStates) throws -> R) rethrows -> R {
        var rows = LayerStates(items: Array(repeating: LayerState(attentionShift: [], wkv: [], ffnShift: []), count: states.count))
        for i in states.indices { states[i].swapLayer(l, with: &rows.items[i]) }
        defer { for i in states.indices { states[i].swapLayer(l, with: &rows.items[i]) } }
        return try body(&rows)
    }

    /// d = previous − current for every row, where a row's previous is the row before it in a sequence
    /// or its own state in a batch; the state(s) then hold the last row(s) seen.
    mutating func shiftDelta(_ cur: UnsafeMutableBufferPointer<Float>, _ path: WritableKeyPath<LayerState, [Float]>,
                             tokens T: Int, width C: Int, ws: Workspace) -> UnsafeMutableBufferPointer<Float> {
        if items.count == 1 { return tokenShiftDelta(cur, previous: &items[0][keyPath: path], tokens: T, width: C, ws: ws) }
        let d = ws.buffer(T * C)
        for b in 0..<T {
            for c in 0..<C {
                d[b * C + c] = items[b][keyPath: path][c] - cur[b * C + c]
                items[b][keyPath: path][c] = cur[b * C + c]
            }
        }
        return d
    }

    /// Runs `scan(rows, state)` over the WKV state: once over all T rows for a sequence, once per row
    /// (with that row's state) for a batch.
    mutating func scanWKV(tokens T: Int, _ scan: (Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void) {
        if items.count == 1 {
            items[0].wkv.withUnsafeMutableBufferPointer { scan(0..<T, $0) }
        } else {
            for b in 0..<T { items[b].wkv.withUnsafeMutableBufferPointer { scan(b..<(b + 1), $0) } }
        }
    }
}

/// Rows `rows` of a (T, C) buffer.
func rowSlice(_ buffer: UnsafeMutableBufferPointer<Float>, _ rows: Range<Int>, width C: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(rebasing: buffer[(rows.lowerBound * C)..<(rows.upperBound * C)])
}

/// Throws unless a batch call has one state per token, each belonging to this model.
func validate(batch tokens: [Int], states: [ModelState], config: ModelConfig) throws {
    guard states.count == tokens.count else {
        throw ModelError.stateMismatch(expected: "\(tokens.count) states (one per session)", found: "\(states.count) states")
    }
    for s in states { try validate(state: s, config: config) }
    let vocab = config.vocabularySize
    if let bad = tokens.first(where: { $0 < 0 || $0 >= vocab }) { throw ModelError.tokenOutOfRange(token: bad, vocabularySize: vocab) }
    guard !tokens.isEmpty else { throw ModelError.emptyInput }
}
