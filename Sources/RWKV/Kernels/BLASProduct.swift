// Prefill GEMM through BLAS (OpenBLAS on Linux, Accelerate on macOS): for a chunk of many tokens,
// Y = X·Wᵀ runs as `sgemm` on fp32 blocks of W decoded from its storage format. Decode costs one pass
// over W per call; the multiply is compute-bound and BLAS's packed micro-kernels run it near the FMA
// peak. Our own tile kernel (WeightProduct.swift) stays as the fallback and the twin tests compare.
// `RWKV_NO_BLAS=1` in the environment turns this path off (for benchmarking the difference).

#if canImport(COpenBLAS)
import COpenBLAS
#elseif canImport(Accelerate)
import Accelerate
#endif
import Foundation

/// Whether `sgemm` is available and not disabled.
let blasEnabled: Bool = {
    #if canImport(COpenBLAS) || canImport(Accelerate)
    return ProcessInfo.processInfo.environment["RWKV_NO_BLAS"] == nil
    #else
    return false
    #endif
}()

/// Products of at least this many tokens go through BLAS.
let blasMinimumTokens = 16

/// Rows of W decoded to fp32 per `sgemm` call (bounds the scratch: 256 × 4096 floats = 4 MB).
let blasBlockRows = 256

extension WeightMatrix {
    /// Y = X·Wᵀ with `sgemm` on decoded fp32 row blocks; false when BLAS is unavailable.
    func applyBLAS(_ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>, threads: Int) -> Bool {
        #if canImport(COpenBLAS) || canImport(Accelerate)
        guard blasEnabled else { return false }
        #if canImport(COpenBLAS)
        openblas_set_num_threads(Int32(max(1, threads)))
        #endif
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
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(n), Int32(cols),
                        1, x, Int32(cols), block, Int32(cols), 0, y + start, Int32(rows))
            start += n
        }
        return true
        #else
        return false
        #endif
    }

    /// Rows `range` decoded to consecutive fp32 rows at `out`, split over threads.
    private func decodeRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, threads: Int) {
        let shared = UncheckedSendable(out)
        parallelFor(range.count, parts: range.count * cols >= parallelThreshold ? threads : 1) { part in
            for i in part { row(range.lowerBound + i, into: UnsafeMutableBufferPointer(start: shared.value + i * cols, count: cols)) }
        }
    }
}
