// Log-probabilities of a token sequence under a model: what `echo` + `logprobs` report and what
// likelihood-based evaluation (lm-evaluation-harness's loglikelihood) sums.

import Foundation

/// One position of a scored sequence: the token, its log-probability after the tokens before it, and
/// the most likely tokens there.
public struct TokenScore: Sendable, Equatable {
    public var token: Int
    public var logprob: Double
    public var top: [Alternative]

    public struct Alternative: Sendable, Equatable {
        public var token: Int
        public var logprob: Double
    }
}

extension RWKVModel {
    /// Scores `tokens[1...]` (the first token has no prediction, so it gets nil), keeping the `top`
    /// most likely tokens of every position. The state is carried over chunks of `chunk` tokens.
    public func score(_ tokens: [Int], top: Int = 0, state: ModelState? = nil, chunk: Int = 256) throws -> [TokenScore?] {
        guard !tokens.isEmpty else { return [] }
        var state = state ?? makeState()
        var out: [TokenScore?] = [nil]
        var start = 0
        let step = max(1, chunk)
        while start < tokens.count - 1 {
            let piece = Array(tokens[start..<min(start + step, tokens.count - 1)])
            let logits = try forward(piece, state: &state, allLogits: true)
            for row in 0..<piece.count {
                let values = logits.data[(row * logits.cols)..<((row + 1) * logits.cols)]
                out.append(scorePosition(values, next: tokens[start + row + 1], top: top))
            }
            start += piece.count
        }
        return out
    }
}

/// log-softmax of `logits` at `next`, and its `top` largest entries (ties: lower id first).
func scorePosition(_ logits: ArraySlice<Float>, next: Int, top: Int) -> TokenScore {
    let base = logits.startIndex
    let maximum = Double(logits.max() ?? 0)
    var sum = 0.0
    for v in logits { sum += exp(Double(v) - maximum) }
    let logZ = maximum + log(sum)
    var best: [TokenScore.Alternative] = []
    if top > 0 {
        let order = logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        best = order.prefix(top).map { .init(token: $0 - base, logprob: Double(logits[$0]) - logZ) }
    }
    let lp = (0..<logits.count).contains(next) ? Double(logits[base + next]) - logZ : -.infinity
    return TokenScore(token: next, logprob: lp, top: best)
}
