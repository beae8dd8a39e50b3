// Sampler: picks one token from a logits vector in pip's exact order (spec §7.1).
//
//   softmax (fp32) → sort descending → cumulative sum (fp32, sequential) → top-p cutoff with `>=`,
//   ties at the cutoff kept → top-k → probs^(1/T) → normalise → draw.
//
// Truncation is decided on the T = 1 distribution; temperature only reshapes what is kept.
// Deliberate differences from pip: temperature 0 is a plain argmax (lowest index on ties; pip draws
// among tied maxima), `topP >= 1` means no nucleus filter (pip-on-CPU's fp32 cumsum rarely reaches
// 1 and so degenerates to greedy), ties at the top-k boundary keep the lower ids (numpy's order
// there is unspecified), and the draw uses `Xoshiro256StarStar`, not numpy's generator.
// Penalties and bans are applied to the logits before this (`PenaltyTracker`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Samples a token id from `logits`.
///
/// ```swift
/// var rng = Xoshiro256StarStar(seed: 1)
/// let token = try sampleLogits(logits, temperature: 1.0, topP: 0.85, topK: 0, using: &rng)
/// ```
/// Throws `invalidLogits` for an empty vector, a NaN or +infinity, or when every logit is -infinity
/// (for example because every token is banned).
public func sampleLogits(
    _ logits: [Float], temperature: Double, topP: Double, topK: Int, using rng: inout some RandomNumberGenerator
) throws(SamplingError) -> Int {
    let best = try argmax(logits)
    if temperature == 0 { return best }
    let probs = softmax(logits, maximum: logits[best])
    let kept = keptTokens(probs, topP: Float(topP), topK: topK)
    // probs^(1/T), normalised, equals softmax(logits / T) on the kept set. Dividing by the largest
    // probability (always kept) first keeps every weight in 0...1, so a low temperature can neither
    // underflow all weights to zero, as fp32 `probs ** (1/T)` can, nor overflow them.
    let exponent = 1.0 / temperature
    let top = Double(probs[best])
    var weights = kept.map { Double(probs[$0]) }
    if temperature != 1.0 { weights = weights.map { pow($0 / top, exponent) } }
    let total = weights.reduce(0, +)
    let target = rng.nextUnitDouble() * total
    var cumulative = 0.0
    for (token, weight) in zip(kept, weights) {
        cumulative += weight
        if target < cumulative { return token }
    }
    return kept[weights.lastIndex { $0 > 0 } ?? 0]
}

/// `sampleLogits` with the temperature, top-p and top-k of `parameters`.
public func sampleLogits(
    _ logits: [Float], parameters: SamplingParameters, using rng: inout some RandomNumberGenerator
) throws(SamplingError) -> Int {
    try sampleLogits(logits, temperature: parameters.temperature, topP: parameters.topP, topK: parameters.topK, using: &rng)
}

/// Index of the largest logit, lowest index on ties; rejects vectors no token can come from.
func argmax(_ logits: [Float]) throws(SamplingError) -> Int {
    guard !logits.isEmpty else { throw SamplingError(code: .invalidLogits, message: "cannot sample from an empty logits vector") }
    var best = 0
    for i in logits.indices {
        let x = logits[i]
        if x.isNaN || x == .infinity {
            throw SamplingError(code: .invalidLogits, message: "logit \(i) is \(x); the model output is broken", index: i)
        }
        if x > logits[best] { best = i }
    }
    guard logits[best] > -.infinity else {
        throw SamplingError(code: .invalidLogits, message: "every logit is -infinity (are all \(logits.count) tokens banned?)")
    }
    return best
}

/// fp32 softmax, shifted by the largest logit.
func softmax(_ logits: [Float], maximum: Float) -> [Float] {
    var probs = logits.map { expf($0 - maximum) }
    let sum = probs.reduce(0, +)
    for i in probs.indices { probs[i] /= sum }
    return probs
}

/// Tokens that survive the top-p and top-k filters, most likely first (ties: lower id first).
///
/// pip sorts all probabilities every step. The nucleus only depends on the sorted prefix that
/// reaches `topP`, so this sorts just the tokens above a threshold, which by construction are the
/// head of the full sorted order (nothing below the threshold can sort before them, and ties at the
/// threshold are all included). The threshold is lowered until that head is long enough.
func keptTokens(_ probs: [Float], topP: Float, topK: Int) -> [Int] {
    let useNucleus = topP < 1
    let useTopK = topK > 0 && topK < probs.count
    guard useNucleus || useTopK else { return Array(probs.indices) }

    let largest = probs.max() ?? 0
    var threshold = largest / 16
    while true {
        if threshold < Float.leastNormalMagnitude { threshold = 0 }
        var head = probs.indices.filter { probs[$0] >= threshold }
        head.sort { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
        let isEverything = threshold == 0
        // How many of `head` the filters keep, or nil if `head` is too short to decide.
        var count: Int?
        if useNucleus {
            var cumulative: Float = 0
            let reach = head.firstIndex { cumulative += probs[$0]; return cumulative >= topP }
            // If the sum never reaches topP, pip's argmax over all-false picks index 0.
            if let cutoffIndex = reach ?? (isEverything ? 0 : nil) {
                let cutoff = probs[head[cutoffIndex]]
                count = head.firstIndex { probs[$0] < cutoff } ?? head.count  // ties at the cutoff stay
            }
        } else if head.count >= topK || isEverything {
            count = head.count
        }
        if let count { return Array(head.prefix(useTopK ? min(count, topK) : count)) }
        threshold /= 256
    }
}

/// `keptTokens` done the slow, literal way: sort everything, as pip does. The reference twin the
/// tests compare the fast version against.
func keptTokensReference(_ probs: [Float], topP: Float, topK: Int) -> [Int] {
    let sorted = probs.indices.sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
    var keep = [Bool](repeating: true, count: probs.count)
    if topP < 1 {
        var cumulative: Float = 0
        let reach = sorted.firstIndex { cumulative += probs[$0]; return cumulative >= topP } ?? 0
        let cutoff = probs[sorted[reach]]
        for i in probs.indices where probs[i] < cutoff { keep[i] = false }
    }
    if topK > 0 && topK < probs.count {
        for i in sorted[topK...] { keep[i] = false }
    }
    return sorted.filter { keep[$0] }
}
