// The RWKV-7 state recurrence ("WKV7", generalised delta rule), run sequentially over a chunk of tokens.
//
// Per head h, with S an N×N fp32 matrix indexed [i = value][j = key] (spec §2.3):
//   sa_i   = Σ_j S_ij · a_j                       a = −κ̂
//   S_ij  ← S_ij · w_j + sa_i · b_j + v_i · k_j    b = κ̂ ⊙ α, w = decay
//   out_i  = Σ_j S_ij · r_j
// All inputs are (T, C) with C = H·N, head-major. Heads are independent, so threads split by head.

import CRWKVKernels

/// Shapes and buffers of one WKV7 call.
public struct WKV7Inputs {
    public var tokens: Int, heads: Int, headSize: Int
    public var r: UnsafeBufferPointer<Float>, w: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>
    public var v: UnsafeBufferPointer<Float>, a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>

    public init(tokens: Int, heads: Int, headSize: Int, r: UnsafeBufferPointer<Float>, w: UnsafeBufferPointer<Float>,
                k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>, a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>) {
        self.tokens = tokens; self.heads = heads; self.headSize = headSize
        self.r = r; self.w = w; self.k = k; self.v = v; self.a = a; self.b = b
    }
}

extension WKV7Inputs {
    /// Whether every buffer holds what the shapes promise: the kernels index them without checks, so
    /// callers (the models, after validating the state) must guarantee this; checked once per call.
    func fits(state: Int, out: Int) -> Bool {
        guard tokens >= 0, heads >= 0, headSize >= 0, let hn = Checked.multiply(heads, headSize),
              let tc = Checked.multiply(tokens, hn), let s = Checked.multiply(hn, headSize) else { return false }
        return state >= s && out >= tc && r.count >= tc && w.count >= tc && k.count >= tc && v.count >= tc && a.count >= tc && b.count >= tc
    }
}

/// Scalar twin of `wkv7`: the equations above, literally.
public func wkv7Reference(_ p: WKV7Inputs, state: UnsafeMutableBufferPointer<Float>, out: UnsafeMutableBufferPointer<Float>) {
    precondition(p.fits(state: state.count, out: out.count), "WKV buffers smaller than tokens × heads × head size")
    let n = p.headSize, c = p.heads * n
    for t in 0..<p.tokens {
        for h in 0..<p.heads {
            let s = h * n * n, base = t * c + h * n
            for i in 0..<n {
                var sa: Float = 0
                for j in 0..<n { sa += state[s + i * n + j] * p.a[base + j] }
                var o: Float = 0
                for j in 0..<n {
                    let e = state[s + i * n + j] * p.w[base + j] + sa * p.b[base + j] + p.v[base + i] * p.k[base + j]
                    state[s + i * n + j] = e
                    o += e * p.r[base + j]
                }
                out[base + i] = o
            }
        }
    }
}

/// The WKV7 recurrence with SIMD8 rows (N a multiple of 8; other sizes fall back to the reference).
public func wkv7(_ p: WKV7Inputs, state: UnsafeMutableBufferPointer<Float>, out: UnsafeMutableBufferPointer<Float>,
                 path: KernelPath = .automatic) {
    precondition(p.fits(state: state.count, out: out.count), "WKV buffers smaller than tokens × heads × head size")
    let n = p.headSize
    guard n % 8 == 0, let sb = state.baseAddress, let ob = out.baseAddress,
          let rb = p.r.baseAddress, let wb = p.w.baseAddress, let kb = p.k.baseAddress,
          let vb = p.v.baseAddress, let ab = p.a.baseAddress, let bb = p.b.baseAddress else {
        wkv7Reference(p, state: state, out: out)
        return
    }
    let c = p.heads * n
    let parts = p.tokens * p.heads * n * n >= parallelThreshold / 4 ? KernelThreads.count : 1
    if path == .native {
        parallelFor(p.heads, parts: parts) { h in
            rwkv_wkv7_heads(p.tokens, p.heads, n, rb, wb, kb, vb, ab, bb, sb, ob, h.lowerBound, h.upperBound)
        }
        return
    }
    parallelFor(p.heads, parts: parts) { heads in
        for t in 0..<p.tokens {
            for h in heads {
                let base = t * c + h * n
                let rs = UnsafeMutableRawPointer(sb + h * n * n)
                let rr = UnsafeRawPointer(rb + base), rw = UnsafeRawPointer(wb + base), rk = UnsafeRawPointer(kb + base)
                let ra = UnsafeRawPointer(ab + base), rbb = UnsafeRawPointer(bb + base)
                for i in 0..<n {
                    let row = i * n * 4
                    var acc = SIMD8<Float>()
                    var j = 0
                    while j < n {
                        acc.addProduct(rs.loadUnaligned(fromByteOffset: row + j * 4, as: SIMD8<Float>.self),
                                       ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self))
                        j += 8
                    }
                    let sa = SIMD8<Float>(repeating: acc.sum())
                    let vi = SIMD8<Float>(repeating: vb[base + i])
                    var o = SIMD8<Float>()
                    j = 0
                    while j < n {
                        var e = rs.loadUnaligned(fromByteOffset: row + j * 4, as: SIMD8<Float>.self)
                            * rw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                        e.addProduct(sa, rbb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self))
                        e.addProduct(vi, rk.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self))
                        rs.storeBytes(of: e, toByteOffset: row + j * 4, as: SIMD8<Float>.self)
                        o.addProduct(e, rr.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self))
                        j += 8
                    }
                    ob[base + i] = o.sum()
                }
            }
        }
    }
}
