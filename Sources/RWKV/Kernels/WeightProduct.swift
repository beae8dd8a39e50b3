// Y = X·Wᵀ for a `WeightMatrix` in any format: Y[t, r] = Σ_c W[r, c] · X[t, c], W stored [out, in],
// X (T, cols), Y (T, rows) — the contract of `linear` in Linear.swift.
//
// One token is a matrix-vector product and memory-bound: each thread streams its share of rows once,
// decoding SIMD8 lanes straight into four FMA accumulators. For T > 1 each row chunk is decoded once
// and used for four tokens; rows are walked in small tiles, each applied to all tokens, so W streams
// from memory once per call and both the tile and four activation rows stay in cache. From 16 tokens
// on, a tile is first decoded to fp32 scratch so the decode cost is paid once, not per token group. Threads split rows and never share an output.
// `applyReference` is the scalar twin: same decoded values, plain left-to-right sums. On CPUs with
// AVX2/FMA/F16C the same products run in C (`rwkv_product_rows`, Sources/CRWKVKernels/product.c);
// the Swift code below is the portable path.

import CRWKVKernels

extension WeightMatrix {
    /// Y[t, r] = Σ_c W[r, c] · X[t, c] for `tokens` rows of X (tokens × cols) into Y (tokens × rows).
    /// `threads` defaults to `KernelThreads.count`; small products stay on the calling thread.
    public func apply(_ x: UnsafeBufferPointer<Float>, tokens: Int, into y: UnsafeMutableBufferPointer<Float>,
                      threads: Int = KernelThreads.count, path: KernelPath = .automatic) {
        assert(x.count >= tokens * cols && y.count >= tokens * rows, "apply: buffers smaller than tokens × matrix sides")
        guard let xb = x.baseAddress, let yb = y.baseAddress, rows > 0 else { return }
        if tokens >= blasMinimumTokens, applyBLAS(xb, tokens: tokens, into: yb, threads: threads) { return }
        let shape = ProductShape(base: baseAddress, rowBytes: rowBytes, rows: rows, cols: cols, tokens: tokens, x: xb, y: yb)
        let parts = rows * cols * tokens >= parallelThreshold ? threads : 1
        if path == .native {
            let (code, base, stride, rows, cols) = (format.nativeCode, baseAddress, rowBytes, rows, cols)
            // Many tokens run on panels of rows: split between threads on panel boundaries.
            let grain = tokens >= Int(RWKV_PACKED_MIN_TOKENS) ? Int(RWKV_PANEL_ROWS) : 1
            parallelFor((rows + grain - 1) / grain, parts: parts) { range in
                let (r0, r1) = (range.lowerBound * grain, min(rows, range.upperBound * grain))
                rwkv_product_rows(code, base, stride, rows, cols, xb, tokens, yb, r0, r1)
            }
            return
        }
        let format = self.format
        parallelFor(rows, parts: parts) { range in
            switch format {
            case .f32: productRows(DecodeF32.self, shape, range)
            case .f16: productRows(DecodeF16.self, shape, range)
            case .bf16: productRows(DecodeBF16.self, shape, range)
            case .q8_0: productRows(DecodeQ8_0.self, shape, range)
            case .q4_0: productRows(DecodeQ4_0.self, shape, range)
            }
        }
    }

    /// Scalar twin of `apply`: every element decoded on its own, sums in column order.
    public func applyReference(_ x: UnsafeBufferPointer<Float>, tokens: Int, into y: UnsafeMutableBufferPointer<Float>) {
        for t in 0..<tokens {
            for r in 0..<rows {
                var s: Float = 0
                for c in 0..<cols { s += element(r, c) * x[t * cols + c] }
                y[t * rows + r] = s
            }
        }
    }
}

/// Pointers and sizes of one product call.
struct ProductShape {
    let base: UnsafeRawPointer
    let rowBytes: Int, rows: Int, cols: Int, tokens: Int
    let x: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
}

/// Rows decoded per tile in multi-token products: 16 rows of 768 f16 weights are 24 KB, so a tile
/// stays in L1/L2 while every group of four tokens (12 KB of activations) passes over it.
let productTileRows = 16

/// Rows `range` of the product, all tokens. With several tokens the rows are walked in tiles and
/// each tile is applied to every group of four tokens before moving on, so both the weights (read
/// once from memory) and the activations are reused from cache.
@inline(__always)
func productRows<D: WeightDecoder>(_ decoder: D.Type, _ p: ProductShape, _ range: Range<Int>) {
    if p.tokens == 1 {
        for r in range { p.y[r] = D.dot(p.base + r * p.rowBytes, p.x, p.cols) }
        return
    }
    // With many tokens, decode each tile to fp32 once and run every token group on the floats;
    // with few, decode on the fly (the decode is then cheaper than the extra pass over memory).
    let stage = p.tokens >= productStagingTokens && D.self != DecodeF32.self
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: stage ? productTileRows * p.cols * 4 : 0, alignment: 64)
    defer { scratch.deallocate() }
    var tile = range.lowerBound
    while tile < range.upperBound {
        let rows = tile..<min(tile + productTileRows, range.upperBound)
        if stage {
            for (i, r) in rows.enumerated() { decodeRow(D.self, p.base + r * p.rowBytes, into: scratch + i * p.cols * 4, p.cols) }
            tileProduct(DecodeF32.self, p, rows, base: UnsafeRawPointer(scratch), rowBytes: p.cols * 4, firstRow: rows.lowerBound)
        } else {
            tileProduct(D.self, p, rows, base: p.base, rowBytes: p.rowBytes, firstRow: 0)
        }
        tile = rows.upperBound
    }
}

/// Token count from which multi-token products stage decoded tiles as fp32.
let productStagingTokens = 16

/// All tokens against `rows`, whose row r starts at `base + (r − firstRow)·rowBytes`.
@inline(__always)
func tileProduct<D: WeightDecoder>(_: D.Type, _ p: ProductShape, _ rows: Range<Int>, base: UnsafeRawPointer, rowBytes: Int,
                                   firstRow: Int) {
    var t = 0
    while t + 4 <= p.tokens {
        for r in rows {
            let s = dot4(D.self, base + (r - firstRow) * rowBytes, p.x + t * p.cols, p.cols)
            p.y[t * p.rows + r] = s[0]
            p.y[(t + 1) * p.rows + r] = s[1]
            p.y[(t + 2) * p.rows + r] = s[2]
            p.y[(t + 3) * p.rows + r] = s[3]
        }
        t += 4
    }
    while t < p.tokens {
        for r in rows { p.y[t * p.rows + r] = D.dot(base + (r - firstRow) * rowBytes, p.x + t * p.cols, p.cols) }
        t += 1
    }
}

/// Decodes a whole row into fp32 at `out` (the same values the scalar decoder gives).
@inline(__always)
func decodeRow<D: WeightDecoder>(_: D.Type, _ row: UnsafeRawPointer, into out: UnsafeMutableRawPointer, _ n: Int) {
    var c = 0
    while c + 32 <= n {
        let (w0, w1, w2, w3) = D.decode32(row, c)
        out.storeBytes(of: w0, toByteOffset: 4 * c, as: SIMD8<Float>.self)
        out.storeBytes(of: w1, toByteOffset: 4 * c + 32, as: SIMD8<Float>.self)
        out.storeBytes(of: w2, toByteOffset: 4 * c + 64, as: SIMD8<Float>.self)
        out.storeBytes(of: w3, toByteOffset: 4 * c + 96, as: SIMD8<Float>.self)
        c += 32
    }
    while c + 8 <= n {
        out.storeBytes(of: D.decode8(row, c), toByteOffset: 4 * c, as: SIMD8<Float>.self)
        c += 8
    }
    while c < n {
        out.storeBytes(of: D.scalar(row, c), toByteOffset: 4 * c, as: Float.self)
        c += 1
    }
}

/// One row · one token: four independent accumulators, one horizontal sum.
@inline(__always)
func dot1<D: WeightDecoder>(_: D.Type, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let rx = UnsafeRawPointer(x)
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var c = 0
    while c + 32 <= n {
        let (w0, w1, w2, w3) = D.decode32(row, c)
        a0.addProduct(w0, rx.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        a1.addProduct(w1, rx.loadUnaligned(fromByteOffset: 4 * c + 32, as: SIMD8<Float>.self))
        a2.addProduct(w2, rx.loadUnaligned(fromByteOffset: 4 * c + 64, as: SIMD8<Float>.self))
        a3.addProduct(w3, rx.loadUnaligned(fromByteOffset: 4 * c + 96, as: SIMD8<Float>.self))
        c += 32
    }
    while c + 8 <= n {
        a0.addProduct(D.decode8(row, c), rx.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        c += 8
    }
    var s = ((a0 + a1) + (a2 + a3)).sum()
    while c < n {
        s += D.scalar(row, c) * x[c]
        c += 1
    }
    return s
}

/// One row · four tokens (rows of X `n` apart): each decoded chunk feeds four tokens; two
/// accumulators per token keep eight FMA chains in flight.
@inline(__always)
func dot4<D: WeightDecoder>(_: D.Type, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> SIMD4<Float> {
    let rx = UnsafeRawPointer(x)
    let stride = 4 * n
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
    @inline(__always) func xs(_ t: Int, _ c: Int) -> SIMD8<Float> {
        rx.loadUnaligned(fromByteOffset: t * stride + 4 * c, as: SIMD8<Float>.self)
    }
    var c = 0
    while c + 32 <= n {
        let (w0, w1, w2, w3) = D.decode32(row, c)
        a0.addProduct(w0, xs(0, c)); b0.addProduct(w1, xs(0, c + 8))
        a1.addProduct(w0, xs(1, c)); b1.addProduct(w1, xs(1, c + 8))
        a2.addProduct(w0, xs(2, c)); b2.addProduct(w1, xs(2, c + 8))
        a3.addProduct(w0, xs(3, c)); b3.addProduct(w1, xs(3, c + 8))
        a0.addProduct(w2, xs(0, c + 16)); b0.addProduct(w3, xs(0, c + 24))
        a1.addProduct(w2, xs(1, c + 16)); b1.addProduct(w3, xs(1, c + 24))
        a2.addProduct(w2, xs(2, c + 16)); b2.addProduct(w3, xs(2, c + 24))
        a3.addProduct(w2, xs(3, c + 16)); b3.addProduct(w3, xs(3, c + 24))
        c += 32
    }
    while c + 8 <= n {
        let w = D.decode8(row, c)
        a0.addProduct(w, xs(0, c)); a1.addProduct(w, xs(1, c))
        a2.addProduct(w, xs(2, c)); a3.addProduct(w, xs(3, c))
        c += 8
    }
    var s = SIMD4<Float>((a0 + b0).sum(), (a1 + b1).sum(), (a2 + b2).sum(), (a3 + b3).sum())
    while c < n {
        let w = D.scalar(row, c)
        s += SIMD4<Float>(x[c], x[n + c], x[2 * n + c], x[3 * n + c]) * w
        c += 1
    }
    return s
}
