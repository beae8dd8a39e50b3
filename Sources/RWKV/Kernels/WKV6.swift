// The RWKV-5.2/6 state recurrence ("WKV5/6", matrix-valued state with per-channel decay and bonus).
//
// Per head h, with S an N×N fp32 matrix indexed [i = key][j = value] (spec §3.3, pip's layout):
//   out_j = Σ_i r_i · (u_i · k_i · v_j + S_ij)
//   S_ij ← w_i · S_ij + k_i · v_j
// r, w, k, v are (T, C), u is (C) (the "time_faaaa" bonus). Heads are independent: threads split by head.

import CRWKVKernels

/// Shapes and buffers of one WKV5/6 call.
public struct WKV6Inputs {
    public var tokens: Int, heads: Int, headSize: Int
    public var r: UnsafeBufferPointer<Float>, w: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>
    public var v: UnsafeBufferPointer<Float>, u: UnsafeBufferPointer<Float>

    public init(tokens: Int, heads: Int, headSize: Int, r: UnsafeBufferPointer<Float>, w: UnsafeBufferPointer<Float>,
                k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>, u: UnsafeBufferPointer<Float>) {
        self.tokens = tokens; self.heads = heads; self.headSize = headSize
        self.r = r; self.w = w; self.k = k; self.v = v; self.u = u
    }
}

extension WKV6Inputs {
    /// Whether every buffer holds what the shapes promise: the kernels index them without checks, so
    /// callers (the models, after validating the state) must guarantee this; checked once per call.
    func fits(state: Int, out: Int) -> Bool {
        guard tokens >= 0, heads >= 0, headSize >= 0, let hn = Checked.multiply(heads, headSize),
              let tc = Checked.multiply(tokens, hn), let s = Checked.multiply(hn, headSize) else { return false }
        return state >= s && out >= tc && r.count >= tc && w.count >= tc && k.count >= tc && v.count >= tc && u.count >= heads * headSize
    }
}

/// Scalar twin of `wkv6`.
public func wkv6Reference(_ p: WKV6Inputs, state: UnsafeMutableBufferPointer<Float>, out: UnsafeMutableBufferPointer<Float>) {
    precondition(p.fits(state: state.count, out: out.count), "WKV buffers smaller than tokens × heads × head size")
    let n = p.headSize, c = p.heads * n
    for t in 0..<p.tokens {
        for h in 0..<p.heads {
            let s = h * n * n, base = t * c + h * n
            for j in 0..<n { out[base + j] = 0 }
            for i in 0..<n {
                let ri = p.r[base + i], ki = p.k[base + i], wi = p.w[base + i], ui = p.u[h * n + i]
                for j in 0..<n {
                    let vj = p.v[base + j]
                    out[base + j] += ri * (ui * ki * vj + state[s + i * n + j])
                    state[s + i * n + j] = wi * state[s + i * n + j] + ki * vj
                }
            }
        }
    }
}

/// The WKV5/6 recurrence, SIMD8 over the value index (N a multiple of 8; otherwise the reference runs).
public func wkv6(_ p: WKV6Inputs, state: UnsafeMutableBufferPointer<Float>, out: UnsafeMutableBufferPointer<Float>,
                 path: KernelPath = .automatic) {
    precondition(p.fits(state: state.count, out: out.count), "WKV buffers smaller than tokens × heads × head size")
    let n = p.headSize
    guard n % 8 == 0, let sb = state.baseAddress, let ob = out.baseAddress,
          let rb = p.r.baseAddress, let wb = p.w.baseAddress, let kb = p.k.baseAddress,
          let vb = p.v.baseAddress, let ub = p.u.baseAddress else {
        wkv6Reference(p, state: state, out: out)
        return
    }
    let c = p.heads * n
    let parts = p.tokens * p.heads * n * n >= parallelThreshold / 4 ? KernelThreads.count : 1
    if path == .native {
        parallelFor(p.heads, parts: parts) { h in
            rwkv_wkv6_heads(p.tokens, p.heads, n, rb, wb, kb, vb, ub, sb, ob, h.lowerBound, h.upperBound)
        }
        return
    }
    parallelFor(p.heads, parts: parts) { heads in
        for t in 0..<p.tokens {
            for h in heads {
                let base = t * c + h * n
                let rs = UnsafeMutableRawPointer(sb + h * n * n)
                let rv = UnsafeRawPointer(vb + base), ro = UnsafeMutableRawPointer(ob + base)
                for j in stride(from: 0, to: n, by: 8) { ro.storeBytes(of: SIMD8<Float>(), toByteOffset: j * 4, as: SIMD8<Float>.self) }
                for i in 0..<n {
                    let ri = rb[base + i], ki = kb[base + i]
                    let ruk = SIMD8<Float>(repeating: ri * ub[h * n + i] * ki)
                    let r8 = SIMD8<Float>(repeating: ri), k8 = SIMD8<Float>(repeating: ki), w8 = SIMD8<Float>(repeating: wb[base + i])
                    let row = i * n * 4
                    var j = 0
                    while j < n {
                        let v8 = rv.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                        let s8 = rs.loadUnaligned(fromByteOffset: row + j * 4, as: SIMD8<Float>.self)
                        var o8 = ro.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                        o8.addProduct(ruk, v8)
                        o8.addProduct(r8, s8)
                        ro.storeBytes(of: o8, toByteOffset: j * 4, as: SIMD8<Float>.self)
                        var ns = w8 * s8
                        ns.addProduct(k8, v8)
                        rs.storeBytes(of: ns, toByteOffset: row + j * 4, as: SIMD8<Float>.self)
                        j += 8
                    }
                }
            }
        }
    }
}
