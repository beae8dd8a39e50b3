// `rwkv bench --kernels`: GB/s of the matrix-vector kernel for every weight format, on matrices large
// enough (≥ 256 MB in rotation) that weights come from DRAM, not cache; with `--prompt T` > 1 tokens,
// the multi-token (prefill) product in GFLOP/s.

import Foundation
import RWKV

struct KernelSpeed: Encodable {
    var format: String, rows: Int, cols: Int, threads: Int
    var tokens: Int
    var gigabytesPerSecond: Double
    var gigaflopsPerSecond: Double
}

/// Median GB/s of `apply` with one token, rotating through enough copies to defeat the caches.
func measureKernels(threads: Int, tokens: Int = 1, rows: Int = 3072, cols: Int = 768, passes: Int = 7) throws -> [KernelSpeed] {
    var results: [KernelSpeed] = []
    let source = (0..<(rows * cols)).map { Float(($0 * 7919) % 2001) / 1000 - 1 }
    let x = (0..<(cols * tokens)).map { Float($0 % 17) / 17 }
    var y = [Float](repeating: 0, count: rows * tokens)
    for format in WeightFormat.allCases {
        let one = try WeightMatrix(quantizing: Matrix(rows: rows, cols: cols, data: source), to: format)
        let copies = tokens == 1 ? max(2, (256 << 20) / one.byteCount) : 2
        let matrices = try (0..<copies).map { _ in try WeightMatrix(quantizing: Matrix(rows: rows, cols: cols, data: source), to: format) }
        var rates: [Double] = []
        for _ in 0..<passes {
            let start = DispatchTime.now().uptimeNanoseconds
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    for m in matrices { m.apply(xb, tokens: tokens, into: yb, threads: threads) }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(seconds)
        }
        let seconds = rates.sorted()[rates.count / 2]
        results.append(KernelSpeed(format: format.rawValue, rows: rows, cols: cols, threads: threads, tokens: tokens,
                                   gigabytesPerSecond: Double(copies * one.byteCount) / seconds / 1e9,
                                   gigaflopsPerSecond: Double(2 * copies * rows * cols * tokens) / seconds / 1e9))
    }
    return results
}
