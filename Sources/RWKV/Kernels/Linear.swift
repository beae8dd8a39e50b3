// Dense fp32 products used by every model version: Linear layers (y = W·x, W stored [out, in]) and
// low-rank factors (y = x·A, A stored [in, rank]), for one token or a chunk of T tokens.
//
// Each fast kernel has a plain scalar twin (`…Reference`) beside it; tests compare the two on ragged
// sizes. Fast versions use SIMD8 with several accumulators and split rows over threads when the matrix
// is large enough to pay for the hand-off. Kernels know nothing about RWKV.

import CRWKVKernels
import Dispatch

/// A dense fp32 matrix, row-major: element (r, c) is `data[r * cols + c]`.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public var data: [Float]

    public init(rows: Int, cols: Int, data: [Float]) {
        precondition(data.count == rows * cols, "Matrix data count must equal rows × cols")
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    public init(rows: Int, cols: Int) {
        self.init(rows: rows, cols: cols, data: [Float](repeating: 0, count: rows * cols))
    }
}

/// Work below this many multiply-adds stays on the calling thread.
let parallelThreshold = 1 << 17

/// Runs `body(range)` over `0..<count` split into contiguous ranges, on up to `parts` threads when
/// `parts > 1`: on the persistent `ThreadPool` (up to 16 ranges per thread, claimed dynamically), or
/// one range per thread on GCD where the `Synchronization` atomics are unavailable (macOS < 15).
/// Ranges never overlap, so kernels writing only their own rows need no locks.
@inline(__always)
func parallelFor(_ count: Int, parts: Int, _ body: (Range<Int>) -> Void) {
    if parts <= 1 || count < 2 {
        body(0..<count)
        return
    }
    let n = min(parts, count)
    if #available(macOS 15.0, *) {
        let pieces = min(count, 16 * n)
        ThreadPool.shared.run(parts: n, pieces: pieces) { p in body((count * p / pieces)..<(count * (p + 1) / pieces)) }
        return
    }
    withoutActuallyEscaping(body) { escaping in
        // Kernels hand each thread a disjoint range; the closure itself is only shared, never mutated.
        let shared = UncheckedSendable(escaping)
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let lo = count * i / n, hi = count * (i + 1) / n
            shared.value(lo..<hi)
        }
    }
}

/// Wraps a value that is safe to share across threads by construction (disjoint writes).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// How many threads kernels may use. Set once at start-up (e.g. from `--threads`).
public enum KernelThreads {
    nonisolated(unsafe) public static var count: Int = 2
}

/// Dot product of `n` floats, SIMD8 with four accumulators.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
    var i = 0
    while i + 32 <= n {
        s0.addProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
        s1.addProduct(ra.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self))
        s2.addProduct(ra.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self))
        s3.addProduct(ra.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self))
        i += 32
    }
    while i + 8 <= n {
        s0.addProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
        i += 8
    }
    var s = ((s0 + s1) + (s2 + s3)).sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// Y[t, r] = Σ_c W[r, c] · X[t, c] for T rows of X (T × cols) into Y (T × rows). Scalar twin of `linear`.
public func linearReference(_ w: Matrix, _ x: UnsafeBufferPointer<Float>, tokens: Int, into y: UnsafeMutableBufferPointer<Float>) {
    for t in 0..<tokens {
        for r in 0..<w.rows {
            var s: Float = 0
            for c in 0..<w.cols { s += w.data[r * w.cols + c] * x[t * w.cols + c] }
            y[t * w.rows + r] = s
        }
    }
}

/// Y[t, r] = Σ_c W[r, c] · X[t, c] for T rows of X (T × cols) into Y (T × rows).
///
/// One token is a matrix-vector product (memory-bound: stream W once). For several tokens each
/// weight row is read once and applied to four tokens at a time, so W streams T/4 times, not T.
public func linear(_ w: Matrix, _ x: UnsafeBufferPointer<Float>, tokens: Int, into y: UnsafeMutableBufferPointer<Float>,
                   path: KernelPath = .automatic) {
    let rows = w.rows, cols = w.cols
    guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
    w.data.withUnsafeBufferPointer { wbuf in
        guard let wb = wbuf.baseAddress else { return }
        let parts = rows * cols * tokens >= parallelThreshold ? KernelThreads.count : 1
        if path == .native {
            parallelFor(rows, parts: parts) { range in
                rwkv_product_rows(Int32(RWKV_FORMAT_F32), wb, 4 * cols, rows, cols, xb, tokens, yb, range.lowerBound, range.upperBound)
            }
            return
        }
        parallelFor(rows, parts: parts) { range in
            var t = 0
            while t + 4 <= tokens {
                linear4(wb, xb + t * cols, yb + t * rows, rows: rows, cols: cols, range: range)
                t += 4
            }
            while t < tokens {
                for r in range { yb[t * rows + r] = dot(wb + r * cols, xb + t * cols, cols) }
                t += 1
            }
        }
    }
}

/// Four tokens against rows `range` of W: each W chunk is loaded once and used four times.
@inline(__always)
private func linear4(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                     rows: Int, cols: Int, range: Range<Int>) {
    let rx = UnsafeRawPointer(x)
    for r in range {
        let rw = UnsafeRawPointer(w + r * cols)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var c = 0
        while c + 8 <= cols {
            let wv = rw.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
            a0.addProduct(wv, rx.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self))
            a1.addProduct(wv, rx.loadUnaligned(fromByteOffset: (cols + c) * 4, as: SIMD8<Float>.self))
            a2.addProduct(wv, rx.loadUnaligned(fromByteOffset: (2 * cols + c) * 4, as: SIMD8<Float>.self))
            a3.addProduct(wv, rx.loadUnaligned(fromByteOffset: (3 * cols + c) * 4, as: SIMD8<Float>.self))
            c += 8
        }
        var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
        while c < cols {
            let wv = w[r * cols + c]
            s0 += wv * x[c]; s1 += wv * x[cols + c]; s2 += wv * x[2 * cols + c]; s3 += wv * x[3 * cols + c]
            c += 1
        }
        y[r] = s0; y[rows + r] = s1; y[2 * rows + r] = s2; y[3 * rows + r] = s3
    }
}

/// Y[t, j] = Σ_i X[t, i] · A[i, j]: a row vector times a low-rank factor stored (in, out). Scalar twin.
public func vecmatReference(_ x: UnsafeBufferPointer<Float>, _ a: Matrix, tokens: Int, into y: UnsafeMutableBufferPointer<Float>) {
    for t in 0..<tokens {
        for j in 0..<a.cols {
            var s: Float = 0
            for i in 0..<a.rows { s += x[t * a.rows + i] * a.data[i * a.cols + j] }
            y[t * a.cols + j] = s
        }
    }
}

/// Y[t, j] = Σ_i X[t, i] · A[i, j]: accumulates rows of A scaled by x_i (contiguous SIMD axpy).
public func vecmat(_ x: UnsafeBufferPointer<Float>, _ a: Matrix, tokens: Int, into y: UnsafeMutableBufferPointer<Float>,
                   path: KernelPath = .automatic) {
    let n = a.rows, m = a.cols
    guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
    a.data.withUnsafeBufferPointer { abuf in
        guard let ab = abuf.baseAddress else { return }
        // A chunk of many tokens is a GEMM: Y (T × m) = X (T × n) · A (n × m).
        if tokens >= blasMinimumTokens, let blas = BLAS.shared {
            blas.setThreads?(Int32(KernelThreads.count))
            blas.sgemm(BLAS.rowMajor, BLAS.noTrans, BLAS.noTrans, Int32(tokens), Int32(m), Int32(n),
                       1, xb, Int32(n), ab, Int32(m), 0, yb, Int32(m))
            return
        }
        let parts = n * m * tokens >= parallelThreshold ? KernelThreads.count : 1
        if path == .native {
            // Y (T × m) = X (T × n) · A (n × m), rows of Y split over threads.
            parallelFor(tokens, parts: parts) { range in rwkv_gemm_rows(xb, ab, yb, range.lowerBound, range.upperBound, m, n, 0) }
            return
        }
        parallelFor(tokens, parts: parts) { range in
            for t in range {
                let yt = yb + t * m
                yt.initialize(repeating: 0, count: m)
                let ry = UnsafeMutableRawPointer(yt)
                for i in 0..<n {
                    let xi = xb[t * n + i]
                    let row = UnsafeRawPointer(ab + i * m)
                    let xv = SIMD8<Float>(repeating: xi)
                    var j = 0
                    while j + 8 <= m {
                        var acc = ry.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                        acc.addProduct(xv, row.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self))
                        ry.storeBytes(of: acc, toByteOffset: j * 4, as: SIMD8<Float>.self)
                        j += 8
                    }
                    while j < m { yt[j] += xi * ab[i * m + j]; j += 1 }
                }
            }
        }
    }
}

extension SIMD8 where Scalar == Float {
    /// self += a * b. Fused on arm64; on x86_64 the package is built without FMA code generation,
    /// where `addingProduct` is a libcall per lane, so the portable path multiplies, then adds.
    @inline(__always)
    mutating func addProduct(_ a: SIMD8<Float>, _ b: SIMD8<Float>) {
        #if arch(x86_64)
        self += a * b
        #else
        self = self.addingProduct(a, b)
        #endif
    }
}
