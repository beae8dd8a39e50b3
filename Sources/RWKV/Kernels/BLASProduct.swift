// Prefill GEMM through BLAS: for a chunk of many tokens, Y = X·Wᵀ runs as `cblas_sgemm` on fp32 blocks
// of W decoded from its storage format. Decoding costs one pass over W per call; the multiply is
// compute-bound and BLAS's packed micro-kernels run it near the FMA peak.
//
// BLAS is found at run time (OpenBLAS's libopenblas.so.0 on Linux — Debian's libopenblas0 —, Accelerate
// on macOS) rather than linked, so building needs nothing installed and a machine without it simply
// uses our own tile kernel (WeightProduct.swift), which also stays the twin the tests compare with.
// `RWKV_NO_BLAS=1` in the environment turns this path off (for benchmarking the difference).

import Foundation

/// `cblas_sgemm` and OpenBLAS's thread setter, resolved with dlopen/dlsym.
struct BLAS: @unchecked Sendable {
    typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void

    let sgemm: SGEMM
    let setThreads: SetThreads?
    /// The library that provided it, for reports.
    let library: String

    // CBLAS enum values (cblas.h).
    static let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112

    /// The process-wide BLAS, or nil when none is installed or `RWKV_NO_BLAS` is set.
    static let shared: BLAS? = {
        guard ProcessInfo.processInfo.environment["RWKV_NO_BLAS"] == nil else { return nil }
        #if os(macOS)
        let candidates = ["/System/Library/Frameworks/Accelerate.framework/Accelerate"]
        #else
        let candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.3.21.so"]
        #endif
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "cblas_sgemm") else { continue }
            let threads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
            return BLAS(sgemm: unsafeBitCast(symbol, to: SGEMM.self), setThreads: threads, library: name)
        }
        return nil
    }()
}

/// Whether products of many tokens go through BLAS.
var blasEnabled: Bool { BLAS.shared != nil }

/// Products of at least this many tokens go through BLAS.
let blasMinimumTokens = 16

/// Rows of W decoded to fp32 per `sgemm` call (bounds the scratch: 256 × 4096 floats = 4 MB).
let blasBlockRows = 256

extension WeightMatrix {
    /// Y = X·Wᵀ with `sgemm` on decoded fp32 row blocks; false when no BLAS is available.
    func applyBLAS(_ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>, threads: Int) -> Bool {
        guard let blas = BLAS.shared else { return false }
        blas.setThreads?(Int32(max(1, threads)))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: min(blasBlockRows, rows) * cols)
        defer { scratch.deallocate() }
        var start = 0
        while start < rows {
            let n = min(blasBlockRows, rows - start)
            let block: UnsafePointer<Float>
            if format == .f32 {
                block = (baseAddress + start * rowBytes).assumingMemoryBound(to: Float.self)
            } else {
                decodeRows(start..<(start + n), into: scratch, threads: threads)
                block = UnsafePointer(scratch)
            }
            // C (tokens × n, leading dimension rows) = A (tokens × cols) · B (n × cols)ᵀ
            blas.sgemm(BLAS.rowMajor, BLAS.noTrans, BLAS.trans, Int32(tokens), Int32(n), Int32(cols),
                       1, x, Int32(cols), block, Int32(cols), 0, y + start, Int32(rows))
            start += n
        }
        return true
    }

    /// Rows `range` decoded to consecutive fp32 rows at `out`, split over threads.
    private func decodeRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, threads: Int) {
        let shared = UncheckedSendable(out)
        parallelFor(range.count, parts: range.count * cols >= parallelThreshold ? threads : 1) { part in
            for i in part { row(range.lowerBound + i, into: UnsafeMutableBufferPointer(start: shared.value + i * cols, count: cols)) }
        }
    }
}
