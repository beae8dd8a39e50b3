// The differentiable building blocks of RWKV-7 training, each forward followed by its backward.
//
// Legend: M = B·T rows (batch row b, token t → row b·T + t), C channels, G groups, I/O/D input, output
// and low-rank widths. Backward functions ACCUMULATE (+=) into every input and parameter gradient, so
// a tensor read by several consumers just receives several calls; the caller zeroes gradients first.
// Not here: anything RWKV-specific beyond token shift (the block lives in RWKV7Training.swift).

typealias Ptr<S> = UnsafeMutablePointer<S>

// MARK: Layer norm / group norm — y = (x − μ)/√(σ² + ε) · w + b over groups of C/G contiguous channels

/// Saves μ and 1/√(σ²+ε) per (row, group) for the backward (M·G each). LayerNorm is G = 1.
func normForward<S: TrainingScalar>(_ out: Ptr<S>, _ mean: Ptr<S>, _ rstd: Ptr<S>, _ inp: Ptr<S>, _ w: Ptr<S>, _ b: Ptr<S>,
                                    rows M: Int, channels C: Int, groups G: Int, eps: S) {
    let n = C / G
    for m in 0..<M {
        for g in 0..<G {
            let x = inp + m * C + g * n, y = out + m * C + g * n
            var mu: S = 0
            for i in 0..<n { mu += x[i] }
            mu /= S(n)
            var v: S = 0
            for i in 0..<n { let d = x[i] - mu; v += d * d }
            v /= S(n)
            let rs = 1 / (v + eps).squareRoot()
            for i in 0..<n { y[i] = (x[i] - mu) * rs * w[g * n + i] + b[g * n + i] }
            mean[m * G + g] = mu; rstd[m * G + g] = rs
        }
    }
}

/// x̂ = (x−μ)·r, dx̂ = dy⊙w:  dx += r·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)),  dw += dy⊙x̂,  db += dy.
func normBackward<S: TrainingScalar>(_ dinp: Ptr<S>, _ dw: Ptr<S>, _ db: Ptr<S>, _ dout: Ptr<S>, _ inp: Ptr<S>, _ w: Ptr<S>,
                                     _ mean: Ptr<S>, _ rstd: Ptr<S>, rows M: Int, channels C: Int, groups G: Int) {
    let n = C / G
    for m in 0..<M {
        for g in 0..<G {
            let x = inp + m * C + g * n, dy = dout + m * C + g * n, dx = dinp + m * C + g * n
            let mu = mean[m * G + g], rs = rstd[m * G + g]
            var sumD: S = 0, sumDX: S = 0
            for i in 0..<n {
                let xh = (x[i] - mu) * rs, dxh = dy[i] * w[g * n + i]
                sumD += dxh; sumDX += dxh * xh
                dw[g * n + i] += dy[i] * xh
                db[g * n + i] += dy[i]
            }
            sumD /= S(n); sumDX /= S(n)
            for i in 0..<n {
                let xh = (x[i] - mu) * rs, dxh = dy[i] * w[g * n + i]
                dx[i] += rs * (dxh - sumD - xh * sumDX)
            }
        }
    }
}

// MARK: Linear (nn.Linear, W stored [O, I]) — y = x·Wᵀ

func linearForward<S: TrainingScalar>(_ out: Ptr<S>, _ inp: Ptr<S>, _ w: Ptr<S>, rows M: Int, inputs I: Int, outputs O: Int) {
    S.gemm(transA: false, transB: true, m: M, n: O, k: I, inp, w, out, accumulate: false)
}

/// dx += dy·W,  dW += dyᵀ·x.
func linearBackward<S: TrainingScalar>(_ dinp: Ptr<S>?, _ dw: Ptr<S>, _ dout: Ptr<S>, _ inp: Ptr<S>, _ w: Ptr<S>,
                                       rows M: Int, inputs I: Int, outputs O: Int) {
    if let dinp { S.gemm(transA: false, transB: false, m: M, n: I, k: O, dout, w, dinp, accumulate: true) }
    S.gemm(transA: true, transB: false, m: O, n: I, k: M, dout, inp, dw, accumulate: true)
}

// MARK: Low-rank factor (stored [I, D], spec §1) — y = x·A

func loraForward<S: TrainingScalar>(_ out: Ptr<S>, _ inp: Ptr<S>, _ a: Ptr<S>, rows M: Int, inputs I: Int, outputs D: Int) {
    S.gemm(transA: false, transB: false, m: M, n: D, k: I, inp, a, out, accumulate: false)
}

/// dx += dy·Aᵀ,  dA += xᵀ·dy.
func loraBackward<S: TrainingScalar>(_ dinp: Ptr<S>, _ da: Ptr<S>, _ dout: Ptr<S>, _ inp: Ptr<S>, _ a: Ptr<S>,
                                     rows M: Int, inputs I: Int, outputs D: Int) {
    S.gemm(transA: false, transB: true, m: M, n: I, k: D, dout, a, dinp, accumulate: true)
    S.gemm(transA: true, transB: false, m: I, n: D, k: M, inp, dout, da, accumulate: true)
}

// MARK: Token shift mix (spec §1) — y_t = x_t + (x_{t−1} − x_t)⊙μ, x_{−1} = 0 at each sequence start

func shiftMixForward<S: TrainingScalar>(_ out: Ptr<S>, _ x: Ptr<S>, _ mu: Ptr<S>, batch B: Int, tokens T: Int, channels C: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let row = (b * T + t) * C
            for c in 0..<C {
                let prev: S = t > 0 ? x[row - C + c] : 0
                out[row + c] = x[row + c] + (prev - x[row + c]) * mu[c]
            }
        }
    }
}

/// dx_t += dy_t⊙(1−μ),  dx_{t−1} += dy_t⊙μ,  dμ += dy_t⊙(x_{t−1} − x_t).
func shiftMixBackward<S: TrainingScalar>(_ dx: Ptr<S>, _ dmu: Ptr<S>, _ dout: Ptr<S>, _ x: Ptr<S>, _ mu: Ptr<S>,
                                         batch B: Int, tokens T: Int, channels C: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let row = (b * T + t) * C
            for c in 0..<C {
                let dy = dout[row + c]
                let prev: S = t > 0 ? x[row - C + c] : 0
                dx[row + c] += dy * (1 - mu[c])
                if t > 0 { dx[row - C + c] += dy * mu[c] }
                dmu[c] += dy * (prev - x[row + c])
            }
        }
    }
}

// MARK: Small helpers

/// dst += src, element-wise.
@inline(__always)
func addInPlace<S: TrainingScalar>(_ dst: Ptr<S>, _ src: Ptr<S>, _ n: Int) {
    for i in 0..<n { dst[i] += src[i] }
}
