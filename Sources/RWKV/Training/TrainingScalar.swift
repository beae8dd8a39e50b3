// The number type training runs in, and the one matrix product everything else is built on.
//
// Training is generic over the scalar so that the same code runs in Float (real training, fast SIMD
// GEMM) and in Double (the finite-difference gradient check in the tests, where Float's 7 digits are
// too few to see a wrong derivative). Release builds specialise the generic code for each type.
// Not here: mixed precision. Master weights, activations and gradients are all in the one scalar.

import CRWKVKernels
import Foundation

/// A floating-point type training can run in: elementary functions plus C (+)= op(A)·op(B).
public protocol TrainingScalar: BinaryFloatingPoint, Sendable {
    static func exp(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func log(_ x: Self) -> Self

    /// C (m×n) = (or +=, with `accumulate`) op(A) (m×k) · op(B) (k×n), all row-major and contiguous.
    /// `transA`: A is stored k×m. `transB`: B is stored n×k.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>, accumulate: Bool)
}

extension TrainingScalar {
    @inline(__always) static func sigmoid(_ x: Self) -> Self { 1 / (1 + exp(-x)) }
}

extension Double: TrainingScalar {
    public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    public static func log(_ x: Double) -> Double { Foundation.log(x) }
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                            accumulate: Bool) {
        gemmReference(transA: transA, transB: transB, m: m, n: n, k: k, a, b, c, accumulate: accumulate)
    }
}

extension Float: TrainingScalar {
    public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    public static func log(_ x: Float) -> Float { Foundation.log(x) }
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                            accumulate: Bool) {
        gemmFloat(transA: transA, transB: transB, m: m, n: n, k: k, a, b, c, accumulate: accumulate)
    }
}

/// Scalar twin of every GEMM: the definition, one multiply-add at a time.
public func gemmReference<S: TrainingScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                             _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>,
                                             accumulate: Bool) {
    for i in 0..<m {
        for j in 0..<n {
            var s: S = 0
            for p in 0..<k {
                let aip = transA ? a[p * m + i] : a[i * k + p]
                let bpj = transB ? b[j * k + p] : b[p * n + j]
                s += aip * bpj
            }
            c[i * n + j] = accumulate ? c[i * n + j] + s : s
        }
    }
}

/// Float GEMM: transposed operands are first copied into plain row-major order (O(size) against the
/// O(m·n·k) product), then one register-blocked kernel computes 4×16 tiles with SIMD8 FMAs; threads
/// split the rows of C.
func gemmFloat(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
               _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, accumulate: Bool,
               path: KernelPath = .automatic) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate { c.initialize(repeating: 0, count: m * n) }
        return
    }
    var aT: UnsafeMutablePointer<Float>? = nil, bT: UnsafeMutablePointer<Float>? = nil
    defer { aT?.deallocate(); bT?.deallocate() }
    var pa = a, pb = b
    if transA {
        let t = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        transpose(a, rows: k, cols: m, into: t)
        aT = t; pa = UnsafePointer(t)
    }
    if transB {
        let t = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
        transpose(b, rows: n, cols: k, into: t)
        bT = t; pb = UnsafePointer(t)
    }
    let parts = m * n * k >= parallelThreshold ? KernelThreads.count : 1
    let blocks = (m + 3) / 4
    let shared = UncheckedSendable((pa, pb, c))
    parallelFor(blocks, parts: parts) { range in
        let (a, b, c) = shared.value
        let rows = (range.lowerBound * 4)..<min(m, range.upperBound * 4)
        if path == .native {
            rwkv_gemm_rows(a, b, c, rows.lowerBound, rows.upperBound, n, k, accumulate ? 1 : 0)
        } else {
            gemmRows(a, b, c, rows: rows, n: n, k: k, accumulate: accumulate)
        }
    }
}

/// out (cols×rows) = inᵀ for a row-major `rows×cols` input, in 32×32 blocks to stay in cache.
func transpose(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into y: UnsafeMutablePointer<Float>) {
    let bs = 32
    for r0 in stride(from: 0, to: rows, by: bs) {
        for c0 in stride(from: 0, to: cols, by: bs) {
            for r in r0..<min(rows, r0 + bs) {
                for cc in c0..<min(cols, c0 + bs) { y[cc * rows + r] = x[r * cols + cc] }
            }
        }
    }
}

/// C[rows, :] (+)= A[rows, :]·B for plain row-major A (m×k), B (k×n), C (m×n).
private func gemmRows(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                      rows: Range<Int>, n: Int, k: Int, accumulate: Bool) {
    let rb = UnsafeRawPointer(b)
    var j = 0
    while j + 16 <= n {
        var i = rows.lowerBound
        while i + 4 <= rows.upperBound {
            // 4 rows × 16 columns = 8 accumulators; per p: 2 loads of B, 4 broadcasts of A, 8 FMAs.
            var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
            var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
            let a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k
            for p in 0..<k {
                let off = (p * n + j) * 4
                let b0 = rb.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                let b1 = rb.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self)
                let x0 = SIMD8<Float>(repeating: a0[p]), x1 = SIMD8<Float>(repeating: a1[p])
                let x2 = SIMD8<Float>(repeating: a2[p]), x3 = SIMD8<Float>(repeating: a3[p])
                c00.addProduct(x0, b0); c01.addProduct(x0, b1)
                c10.addProduct(x1, b0); c11.addProduct(x1, b1)
                c20.addProduct(x2, b0); c21.addProduct(x2, b1)
                c30.addProduct(x3, b0); c31.addProduct(x3, b1)
            }
            store(c00, c01, into: c + i * n + j, accumulate)
            store(c10, c11, into: c + (i + 1) * n + j, accumulate)
            store(c20, c21, into: c + (i + 2) * n + j, accumulate)
            store(c30, c31, into: c + (i + 3) * n + j, accumulate)
            i += 4
        }
        while i < rows.upperBound {
            var c0 = SIMD8<Float>(), c1 = SIMD8<Float>()
            for p in 0..<k {
                let off = (p * n + j) * 4
                let x = SIMD8<Float>(repeating: a[i * k + p])
                c0.addProduct(x, rb.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self))
                c1.addProduct(x, rb.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self))
            }
            store(c0, c1, into: c + i * n + j, accumulate)
            i += 1
        }
        j += 16
    }
    // Ragged columns: plain loops.
    if j < n {
        for i in rows {
            for jj in j..<n {
                var s: Float = 0
                for p in 0..<k { s += a[i * k + p] * b[p * n + jj] }
                c[i * n + jj] = accumulate ? c[i * n + jj] + s : s
            }
        }
    }
}

@inline(__always)
private func store(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, into c: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
    let rc = UnsafeMutableRawPointer(c)
    if accumulate {
        rc.storeBytes(of: lo + rc.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        rc.storeBytes(of: hi + rc.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), toByteOffset: 32, as: SIMD8<Float>.self)
    } else {
        rc.storeBytes(of: lo, as: SIMD8<Float>.self)
        rc.storeBytes(of: hi, toByteOffset: 32, as: SIMD8<Float>.self)
    }
}
