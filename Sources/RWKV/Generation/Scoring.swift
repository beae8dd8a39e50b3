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
    let lp = logSoftmax(logits)
    let best = top > 0 ? lp.indices.sorted { lp[$0] != lp[$1] ? lp[$0] > lp[$1] : $0 < $1 }.prefix(top).map {
        TokenScore.Alternative(token: $0, logprob: lp[$0])
    } : []
    return TokenScore(token: next, logprob: lp.indices.contains(next) ? lp[next] : -.infinity, top: best)
}
