// Teacher-forced scoring of a token stream: every token's log-probability given all tokens before it,
// computed chunk by chunk with the recurrent state carried, so memory does not grow with the text.

import Foundation

/// How well the model predicted one token.
public struct TokenPrediction: Sendable, Equatable {
    /// ln p(token | everything before it).
    public var logProbability: Double
    /// The token was the model's first choice (argmax of the logits; ties go to the lowest id).
    public var isGreedy: Bool

    public init(logProbability: Double, isGreedy: Bool) {
        self.logProbability = logProbability
        self.isGreedy = isGreedy
    }

    /// Scores `target` under one row of logits.
    public init(logits: ArraySlice<Float>, target: Int) {
        let lp = logSoftmax(logits)
        let best = lp.indices.max(by: { lp[$0] < lp[$1] || (lp[$0] == lp[$1] && $0 > $1) }) ?? 0
        self.init(logProbability: lp[target], isGreedy: best == target)
    }
}

/// A model reading a stream: `feed` scores tokens against the logits of what came before, `advance`
/// only conditions on them. The first token of a stream has no prediction unless a BOS token was fed.
public struct SequenceScorer: Sendable {
    public let model: RWKVModel
    public private(set) var state: ModelState
    /// Logits predicting the next token; nil before any token.
    private var nextLogits: [Float]?

    /// A fresh stream; `bos` (e.g. 0 for World models) is fed first so the first real token is scored.
    public init(model: RWKVModel, bos: Int? = nil) throws {
        self.model = model
        state = model.makeState()
        if let bos { try advance([bos]) }
    }

    /// A stream continuing from `state`, whose next-token logits are `logits` (nil: none yet).
    public init(model: RWKVModel, state: ModelState, logits: [Float]?) {
        self.model = model
        self.state = state
        nextLogits = logits
    }

    /// Whether the next token fed will be scored.
    public var hasPrediction: Bool { nextLogits != nil }

    /// Conditions on `tokens` without scoring them.
    public mutating func advance(_ tokens: [Int], chunk: Int = 256) throws {
        guard !tokens.isEmpty else { return }
        nextLogits = try model.prefill(tokens, state: &state, chunkSize: chunk)
    }

    /// Feeds `tokens` in chunks of `chunk`, calling `visit(i, prediction)` for each token `tokens[i]`
    /// that has a prediction (all of them, except the very first token of an unprimed stream).
    public mutating func feed(_ tokens: [Int], chunk: Int = 256, visit: (Int, TokenPrediction) throws -> Void) throws {
        var start = 0
        while start < tokens.count {
            let end = min(start + max(chunk, 1), tokens.count)
            let piece = Array(tokens[start..<end])
            if let previous = nextLogits { try visit(start, TokenPrediction(logits: previous[...], target: piece[0])) }
            let out = try model.forward(piece, state: &state, allLogits: true)
            let v = out.cols
            for t in 1..<piece.count {
                try visit(start + t, TokenPrediction(logits: out.data[((t - 1) * v)..<(t * v)], target: piece[t]))
            }
            nextLogits = Array(out.data[((piece.count - 1) * v)..<(piece.count * v)])
            start = end
        }
    }
}
