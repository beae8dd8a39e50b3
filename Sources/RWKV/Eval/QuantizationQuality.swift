// How much a weight format changes a model's predictions, measured rather than assumed: KL divergence
// and top-1 agreement of its next-token distributions against a reference (fp32) model over a text,
// plus both models' perplexity on that text.

import Foundation

/// Result of `compareModels`.
public struct QuantizationReport: Sendable, Codable, Equatable {
    /// Positions compared.
    public var positions: Int
    /// Mean KL(reference ‖ candidate) per position, in nats.
    public var meanKL: Double
    /// Largest per-position KL, in nats.
    public var maxKL: Double
    /// Fraction of positions where both models rank the same token first.
    public var top1Agreement: Double
    /// Perplexity of the reference / candidate on the text (next-token prediction).
    public var referencePerplexity: Double
    public var candidatePerplexity: Double
}

/// Runs both models over `tokens` (in chunks, state carried) and compares their distributions at every
/// position. The models must share a vocabulary.
public func compareModels(reference: RWKVModel, candidate: RWKVModel, tokens: [Int], chunk: Int = 128) throws -> QuantizationReport {
    guard reference.config.vocabularySize == candidate.config.vocabularySize else {
        throw ModelError.stateMismatch(expected: reference.config.signature, found: candidate.config.signature)
    }
    guard tokens.count >= 2 else { throw ModelError.emptyInput }
    var refState = reference.makeState(), candState = candidate.makeState()
    var klSum = 0.0, klMax = 0.0, agree = 0, refNLL = 0.0, candNLL = 0.0, positions = 0
    var start = 0
    while start < tokens.count - 1 {
        let piece = Array(tokens[start..<min(start + chunk, tokens.count - 1)])
        let a = try reference.forward(piece, state: &refState, allLogits: true)
        let b = try candidate.forward(piece, state: &candState, allLogits: true)
        for t in 0..<piece.count {
            let p = logSoftmax(a.data[(t * a.cols)..<((t + 1) * a.cols)])
            let q = logSoftmax(b.data[(t * b.cols)..<((t + 1) * b.cols)])
            var kl = 0.0
            for i in p.indices { kl += exp(p[i]) * (p[i] - q[i]) }
            klSum += kl
            klMax = max(klMax, kl)
            if p.indices.max(by: { p[$0] < p[$1] }) == q.indices.max(by: { q[$0] < q[$1] }) { agree += 1 }
            let target = tokens[start + t + 1]
            refNLL -= p[target]
            candNLL -= q[target]
            positions += 1
        }
        start += piece.count
    }
    let n = Double(positions)
    return QuantizationReport(positions: positions, meanKL: klSum / n, maxKL: klMax, top1Agreement: Double(agree) / n,
                              referencePerplexity: exp(refNLL / n), candidatePerplexity: exp(candNLL / n))
}

/// log softmax in Double.
func logSoftmax(_ logits: ArraySlice<Float>) -> [Double] {
    let m = Double(logits.max() ?? 0)
    let logSum = log(logits.reduce(0.0) { $0 + exp(Double($1) - m) }) + m
    return logits.map { Double($0) - logSum }
}
