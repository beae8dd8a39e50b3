// Normalisations and small element-wise functions shared by all model versions.
//
// LayerNorm and GroupNorm use the population variance (divide by n), as torch does. Rows are
// independent, so sequence mode simply applies them row by row.

import Foundation

/// LayerNorm of each of `rows` rows of length `n`: (x − mean)/sqrt(var + eps)·w + b.
public func layerNorm(_ x: UnsafeBufferPointer<Float>, rows: Int, weight: [Float], bias: [Float], eps: Float = 1e-5,
                      into y: UnsafeMutableBufferPointer<Float>) {
    let n = weight.count
    for t in 0..<rows {
        normalizeSlice(x, y, offset: t * n, count: n, weight: weight, weightOffset: 0, bias: bias, eps: eps)
    }
}

/// GroupNorm with `groups` contiguous groups per row (RWKV's `ln_x`, one group per head).
public func groupNorm(_ x: UnsafeBufferPointer<Float>, rows: Int, groups: Int, weight: [Float], bias: [Float], eps: Float,
                      into y: UnsafeMutableBufferPointer<Float>) {
    let c = weight.count, n = c / groups
    for t in 0..<rows {
        for g in 0..<groups {
            normalizeSlice(x, y, offset: t * c + g * n, count: n, weight: weight, weightOffset: g * n, bias: bias, eps: eps)
        }
    }
}

/// Normalises x[offset..<offset+count] into y with the affine slice starting at `weightOffset`.
/// Mean and variance are accumulated in Double so the result does not depend on summation order.
@inline(__always)
private func normalizeSlice(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>, offset: Int, count n: Int,
                            weight: [Float], weightOffset: Int, bias: [Float], eps: Float) {
    var mean = 0.0
    for i in 0..<n { mean += Double(x[offset + i]) }
    mean /= Double(n)
    var variance = 0.0
    for i in 0..<n {
        let d = Double(x[offset + i]) - mean
        variance += d * d
    }
    variance /= Double(n)
    let inv = Float(1.0 / (variance + Double(eps)).squareRoot())
    let m = Float(mean)
    for i in 0..<n {
        y[offset + i] = (x[offset + i] - m) * inv * weight[weightOffset + i] + bias[weightOffset + i]
    }
}

/// Logistic sigmoid.
@inline(__always)
public func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

/// Element-wise in-place map over a buffer.
@inline(__always)
func mapInPlace(_ x: UnsafeMutableBufferPointer<Float>, _ f: (Float) -> Float) {
    for i in x.indices { x[i] = f(x[i]) }
}
