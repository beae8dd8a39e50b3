// The WKV7 recurrence for training: forward that saves what the backward needs, and the backward of
// spec §9.4 (state snapshots every 16 tokens, exact back-stepping between them).
//
// Legend: B batch rows, T tokens, H heads of N channels, C = H·N; inputs are (B·T, C), head-major.
// Per head, S is N×N indexed [i = value][j = key] (spec §2.3):
//   sa_i = Σ_j S_ij a_j                       (saved for every token: (B·T, C))
//   S_ij ← S_ij w_j + sa_i b_j + v_i k_j
//   y_i  = Σ_j S_ij r_j
// Memory: sa (B·T·C) plus ⌈T/16⌉ snapshots of S per (b, h) — O(T·C), no per-token state.
// Threads split the B·H independent (batch row, head) pairs. `w` here is the decay itself; the chain
// through exp(−e^{−½}σ(ω)) is done by the caller. Not here: chunked/WY forms (spec §5).

/// Tokens between two saved states (RWKV-LM's CHUNK_LEN).
let wkvSnapshotInterval = 16

struct WKV7Shape {
    var batch: Int, tokens: Int, heads: Int, headSize: Int
    var channels: Int { heads * headSize }
    var chunks: Int { (tokens + wkvSnapshotInterval - 1) / wkvSnapshotInterval }
    /// Scalars of the snapshot buffer: (B, H, ⌈T/16⌉, N, N).
    var snapshotCount: Int { batch * heads * chunks * headSize * headSize }
}

/// Forward. `initialState` (H, N, N), shared by all batch rows, is zero when nil (plain training).
func wkv7Forward<S: TrainingScalar>(_ y: Ptr<S>, sa: Ptr<S>, snapshots: Ptr<S>,
                                    r: Ptr<S>, w: Ptr<S>, k: Ptr<S>, v: Ptr<S>, a: Ptr<S>, b: Ptr<S>,
                                    initialState: Ptr<S>?, shape: WKV7Shape) {
    let T = shape.tokens, H = shape.heads, N = shape.headSize, C = shape.channels
    let io = UncheckedSendable((y, sa, snapshots, r, w, k, v, a, b, initialState))
    let parts = shape.batch * T * C * N >= parallelThreshold / 4 ? KernelThreads.count : 1
    parallelFor(shape.batch * H, parts: parts) { pairs in
        let (y, sa, snapshots, r, w, k, v, a, b, initialState) = io.value
        let state = Ptr<S>.allocate(capacity: N * N)
        defer { state.deallocate() }
        for pair in pairs {
            let bi = pair / H, h = pair % H
            if let s0 = initialState { state.update(from: s0 + h * N * N, count: N * N) } else { state.update(repeating: 0, count: N * N) }
            for t in 0..<T {
                let o = (bi * T + t) * C + h * N
                for i in 0..<N {
                    let row = state + i * N
                    var s: S = 0
                    for j in 0..<N { s += row[j] * a[o + j] }
                    sa[o + i] = s
                    let vi = v[o + i]
                    var out: S = 0
                    for j in 0..<N {
                        let e = row[j] * w[o + j] + s * b[o + j] + vi * k[o + j]
                        row[j] = e
                        out += e * r[o + j]
                    }
                    y[o + i] = out
                }
                if t % wkvSnapshotInterval == wkvSnapshotInterval - 1 || t == T - 1 {
                    let c = t / wkvSnapshotInterval
                    (snapshots + ((bi * H + h) * shape.chunks + c) * N * N).update(from: state, count: N * N)
                }
            }
        }
    }
}

/// Backward: accumulates dr, dw, dk, dv, da, db (B·T, C) from dy. With `dInitialState` (B, H, N, N)
/// it also writes dL/dS₀ per batch row (the caller sums over rows for state tuning).
func wkv7Backward<S: TrainingScalar>(dr: Ptr<S>, dw: Ptr<S>, dk: Ptr<S>, dv: Ptr<S>, da: Ptr<S>, db: Ptr<S>,
                                     dInitialState: Ptr<S>?, dy: Ptr<S>, sa: Ptr<S>, snapshots: Ptr<S>,
                                     r: Ptr<S>, w: Ptr<S>, k: Ptr<S>, v: Ptr<S>, a: Ptr<S>, b: Ptr<S>, shape: WKV7Shape) {
    let T = shape.tokens, H = shape.heads, N = shape.headSize, C = shape.channels
    let io = UncheckedSendable((dr, dw, dk, dv, da, db, dInitialState, dy, sa, snapshots, (r, w, k, v, a, b)))
    let parts = shape.batch * T * C * N >= parallelThreshold / 8 ? KernelThreads.count : 1
    parallelFor(shape.batch * H, parts: parts) { pairs in
        let (dr, dw, dk, dv, da, db, dInitialState, dy, sa, snapshots, inputs) = io.value
        let (r, w, k, v, a, b) = inputs
        let scratch = Ptr<S>.allocate(capacity: 2 * N * N)
        defer { scratch.deallocate() }
        let state = scratch, dState = scratch + N * N     // S_t and dL/dS_t, both [i][j]
        for pair in pairs {
            let bi = pair / H, h = pair % H
            dState.update(repeating: 0, count: N * N)
            for c in stride(from: shape.chunks - 1, through: 0, by: -1) {
                // Reload the exact state after the chunk's last token; back-step from there.
                state.update(from: snapshots + ((bi * H + h) * shape.chunks + c) * N * N, count: N * N)
                let first = c * wkvSnapshotInterval, last = min(T, first + wkvSnapshotInterval) - 1
                for t in stride(from: last, through: first, by: -1) {
                    let o = (bi * T + t) * C + h * N
                    for i in 0..<N {
                        let row = state + i * N, dRow = dState + i * N
                        let dyi = dy[o + i], sai = sa[o + i], vi = v[o + i]
                        var dvi: S = 0, dsai: S = 0
                        for j in 0..<N {
                            dr[o + j] += row[j] * dyi                        // dr_j = Σ_i S_t[i,j] dy_i
                            let g = dRow[j] + dyi * r[o + j]                 // dS_t += dy rᵀ
                            dRow[j] = g
                            // S_{t−1}[i,j] = (S_t[i,j] − sa_i b_j − v_i k_j) / w_j   (w ≥ 0.545)
                            let prev = (row[j] - sai * b[o + j] - vi * k[o + j]) / w[o + j]
                            row[j] = prev
                            dw[o + j] += g * prev                            // dw_j = Σ_i dS[i,j] S_{t−1}[i,j]
                            dk[o + j] += g * vi                              // dk_j = Σ_i dS[i,j] v_i
                            db[o + j] += g * sai                             // db_j = Σ_i dS[i,j] sa_i
                            dvi += g * k[o + j]                              // dv_i = Σ_j dS[i,j] k_j
                            dsai += g * b[o + j]                             // dsa_i = Σ_j dS[i,j] b_j
                        }
                        dv[o + i] += dvi
                        for j in 0..<N {
                            da[o + j] += dsai * row[j]                       // da_j = Σ_i dsa_i S_{t−1}[i,j]
                            dRow[j] = dRow[j] * w[o + j] + dsai * a[o + j]   // dS_{t−1} = dS diag(w) + dsa aᵀ
                        }
                    }
                }
            }
            if let dInitialState { (dInitialState + (bi * H + h) * N * N).update(from: dState, count: N * N) }
        }
    }
}
