import Testing
@testable import RWKV

/// Fast kernels against their scalar twins on ragged sizes and token counts, on every kernel path this
/// machine runs (the C kernels and the portable Swift ones).
@Suite struct KernelTests {
    /// Deterministic pseudo-random floats in [-1, 1).
    static func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s >> 40) / Float(1 << 23) - 1
        }
    }

    static func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map { abs($0) }.max() ?? 1, 1e-6)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    @Test(arguments: [(1, 1, 1), (3, 7, 1), (17, 33, 2), (64, 128, 5), (130, 67, 9), (513, 300, 4)])
    func linearMatchesReference(rows: Int, cols: Int, tokens: Int) {
        let w = Matrix(rows: rows, cols: cols, data: Self.randomFloats(rows * cols, seed: 1))
        let x = Self.randomFloats(tokens * cols, seed: 2)
        var ref = [Float](repeating: .nan, count: tokens * rows)
        x.withUnsafeBufferPointer { xb in ref.withUnsafeMutableBufferPointer { linearReference(w, xb, tokens: tokens, into: $0) } }
        for path in KernelPath.runnable {
            var fast = [Float](repeating: .nan, count: tokens * rows)
            x.withUnsafeBufferPointer { xb in fast.withUnsafeMutableBufferPointer { linear(w, xb, tokens: tokens, into: $0, path: path) } }
            #expect(!fast.contains { $0.isNaN }, "\(path)")
            #expect(Self.maxRelativeDifference(fast, ref) < 1e-5, "\(path)")
        }
    }

    @Test(arguments: [(1, 1, 1), (5, 3, 2), (64, 32, 3), (129, 17, 6), (96, 40, 17), (33, 7, 40)])
    func vecmatMatchesReference(inputs: Int, outputs: Int, tokens: Int) {
        let a = Matrix(rows: inputs, cols: outputs, data: Self.randomFloats(inputs * outputs, seed: 3))
        let x = Self.randomFloats(tokens * inputs, seed: 4)
        var ref = [Float](repeating: .nan, count: tokens * outputs)
        x.withUnsafeBufferPointer { xb in ref.withUnsafeMutableBufferPointer { vecmatReference(xb, a, tokens: tokens, into: $0) } }
        for path in KernelPath.runnable {
            var fast = [Float](repeating: .nan, count: tokens * outputs)
            x.withUnsafeBufferPointer { xb in fast.withUnsafeMutableBufferPointer { vecmat(xb, a, tokens: tokens, into: $0, path: path) } }
            #expect(Self.maxRelativeDifference(fast, ref) < 1e-5, "\(path)")
        }
    }

    @Test(arguments: [(1, 1, 8), (3, 2, 16), (5, 4, 64), (2, 1, 12)])
    func wkv7MatchesReference(tokens: Int, heads: Int, headSize: Int) {
        let c = heads * headSize, n = tokens * c
        let r = Self.randomFloats(n, seed: 5), k = Self.randomFloats(n, seed: 6), v = Self.randomFloats(n, seed: 7)
        let w = Self.randomFloats(n, seed: 8).map { 0.8 + 0.19 * $0 }
        let kk = Self.randomFloats(n, seed: 9).map { $0 * 0.2 }
        let a = kk.map { -$0 }, b = zip(kk, Self.randomFloats(n, seed: 10)).map { $0 * (0.5 + 0.5 * $1) }
        for path in KernelPath.runnable {
            var s1 = Self.randomFloats(heads * headSize * headSize, seed: 11), s2 = s1
            var o1 = [Float](repeating: .nan, count: n), o2 = o1
            r.withUnsafeBufferPointer { r in w.withUnsafeBufferPointer { w in k.withUnsafeBufferPointer { k in
                v.withUnsafeBufferPointer { v in a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in
                    let p = WKV7Inputs(tokens: tokens, heads: heads, headSize: headSize, r: r, w: w, k: k, v: v, a: a, b: b)
                    s1.withUnsafeMutableBufferPointer { s in o1.withUnsafeMutableBufferPointer { wkv7(p, state: s, out: $0, path: path) } }
                    s2.withUnsafeMutableBufferPointer { s in o2.withUnsafeMutableBufferPointer { wkv7Reference(p, state: s, out: $0) } }
                } } }
            } } }
            #expect(Self.maxRelativeDifference(o1, o2) < 1e-5, "\(path)")
            #expect(Self.maxRelativeDifference(s1, s2) < 1e-5, "\(path)")
        }
    }

    @Test(arguments: [(1, 1, 8), (3, 2, 16), (4, 8, 8), (2, 1, 12)])
    func wkv6MatchesReference(tokens: Int, heads: Int, headSize: Int) {
        let c = heads * headSize, n = tokens * c
        let r = Self.randomFloats(n, seed: 12), k = Self.randomFloats(n, seed: 13), v = Self.randomFloats(n, seed: 14)
        let w = Self.randomFloats(n, seed: 15).map { 0.5 + 0.49 * $0 }, u = Self.randomFloats(c, seed: 16)
        for path in KernelPath.runnable {
            var s1 = Self.randomFloats(heads * headSize * headSize, seed: 17), s2 = s1
            var o1 = [Float](repeating: .nan, count: n), o2 = o1
            r.withUnsafeBufferPointer { r in w.withUnsafeBufferPointer { w in k.withUnsafeBufferPointer { k in
                v.withUnsafeBufferPointer { v in u.withUnsafeBufferPointer { u in
                    let p = WKV6Inputs(tokens: tokens, heads: heads, headSize: headSize, r: r, w: w, k: k, v: v, u: u)
                    s1.withUnsafeMutableBufferPointer { s in o1.withUnsafeMutableBufferPointer { wkv6(p, state: s, out: $0, path: path) } }
                    s2.withUnsafeMutableBufferPointer { s in o2.withUnsafeMutableBufferPointer { wkv6Reference(p, state: s, out: $0) } }
                } }
            } } }
            #expect(Self.maxRelativeDifference(o1, o2) < 1e-5, "\(path)")
            #expect(Self.maxRelativeDifference(s1, s2) < 1e-5, "\(path)")
        }
    }

    /// Training's GEMM (C (+)= op(A)·op(B)) on ragged shapes: 6-row and 16/8-column tiles plus leftovers.
    @Test(arguments: [(1, 1, 1, false, false), (7, 23, 5, false, true), (13, 40, 33, true, false), (6, 17, 64, true, true),
                      (25, 48, 9, false, false)])
    func gemmMatchesReference(m: Int, n: Int, k: Int, transA: Bool, transB: Bool) {
        let a = Self.randomFloats(m * k, seed: 60), b = Self.randomFloats(k * n, seed: 61), c0 = Self.randomFloats(m * n, seed: 62)
        for accumulate in [false, true] {
            var ref = c0
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in ref.withUnsafeMutableBufferPointer { c in
                gemmReference(transA: transA, transB: transB, m: m, n: n, k: k, a.baseAddress!, b.baseAddress!, c.baseAddress!,
                              accumulate: accumulate)
            } } }
            for path in KernelPath.runnable {
                var fast = c0
                a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in fast.withUnsafeMutableBufferPointer { c in
                    gemmFloat(transA: transA, transB: transB, m: m, n: n, k: k, a.baseAddress!, b.baseAddress!, c.baseAddress!,
                              accumulate: accumulate, path: path)
                } } }
                #expect(Self.maxRelativeDifference(fast, ref) < 1e-5, "\(path) accumulate \(accumulate)")
            }
        }
    }

    /// The dispatch switch: the environment variable forces the portable path, and an unsupported
    /// CPU never gets the native one.
    @Test func kernelPathChoice() {
        #expect(KernelPath.choose(environment: [:], nativeSupported: true) == .native)
        #expect(KernelPath.choose(environment: [:], nativeSupported: false) == .portable)
        #expect(KernelPath.choose(environment: ["RWKV_PORTABLE_KERNELS": "1"], nativeSupported: true) == .portable)
        #expect(KernelPath.choose(environment: ["RWKV_PORTABLE_KERNELS": "0"], nativeSupported: true) == .native)
        #expect(KernelPath.runnable.contains(.portable))
        #if arch(x86_64) && os(Linux)
        // The development and CI machines have AVX2/FMA/F16C: the native kernels must be found there.
        #expect(KernelPath.nativeSupported)
        #endif
    }

    @Test func layerNormMatchesDefinition() {
        let x: [Float] = [1, 2, 3, 4, 10, 10, 10, 10]
        var y = [Float](repeating: 0, count: 8)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { layerNorm(xb, rows: 2, weight: [1, 1, 1, 2], bias: [0, 0, 0, 1], into: $0) }
        }
        // Row 1: mean 2.5, population variance 1.25.
        let inv = 1 / (1.25 + 1e-5).squareRoot()
        #expect(abs(y[0] - Float(-1.5 * inv)) < 1e-6)
        #expect(abs(y[3] - Float(2 * 1.5 * inv + 1)) < 1e-6)
        // Row 2 is constant: normalises to 0, so the output is the bias.
        #expect(y[4] == 0 && y[7] == 1)
    }
}
