// LAMBADA with lm-evaluation-harness's `lambada_openai` convention: context = the text up to its last
// space, target = " " + last word; a document is correct when every target token is the argmax under
// teacher forcing; perplexity = exp(−mean over documents of the target's summed log-likelihood).

import Foundation

/// One LAMBADA document split into what is read and what is scored.
public struct LambadaItem: Sendable, Equatable, Codable {
    public var context: String
    public var target: String

    /// Splits at the last space (lm-eval: `text.split(' ')[:-1]` joined / `' ' + text.split(' ')[-1]`).
    public init?(text: String) {
        guard let space = text.lastIndex(of: " ") else { return nil }
        context = String(text[..<space])
        target = " " + text[text.index(after: space)...]
    }

    public init(context: String, target: String) {
        self.context = context; self.target = target
    }

    /// Token ids as lm-eval's `_encode_pair`: trailing spaces of the context move to the target, the
    /// target's tokens are those of `encode(context + target)` after `encode(context)`.
    public func encode(with tokenizer: any Tokenizer) -> (context: [Int], target: [Int]) {
        var ctx = context, tgt = target
        while ctx.hasSuffix(" ") { ctx.removeLast(); tgt = " " + tgt }
        let whole = tokenizer.encode(ctx + tgt), head = tokenizer.encode(ctx)
        return (head, Array(whole[min(head.count, whole.count)...]))
    }
}

/// Score of one document.
public struct LambadaScore: Sendable, Equatable, Codable {
    /// Σ ln p(target tokens | context).
    public var logLikelihood: Double
    /// All target tokens were greedy.
    public var isGreedy: Bool
    /// Target tokens that were the argmax (isGreedy ⇔ greedyTokens == targetTokens).
    public var greedyTokens: Int
    public var targetTokens: Int

    public init(logLikelihood: Double, greedyTokens: Int, targetTokens: Int) {
        self.logLikelihood = logLikelihood; self.greedyTokens = greedyTokens; self.targetTokens = targetTokens
        isGreedy = greedyTokens == targetTokens
    }
}

/// Aggregate of `LambadaScore`s.
public struct LambadaReport: Sendable, Equatable, Codable {
    public var documents: Int
    public var accuracy: Double
    public var perplexity: Double

    public init(scores: [LambadaScore]) {
        documents = scores.count
        let n = Double(max(scores.count, 1))
        accuracy = Double(scores.filter(\.isGreedy).count) / n
        perplexity = exp(-scores.reduce(0) { $0 + $1.logLikelihood } / n)
    }
}

/// Reads `{"text": ...}` lines; lines without a space in the text are skipped (they have no target).
public func readLambada(path: String, limit: Int? = nil) throws -> [LambadaItem] {
    struct Line: Decodable { var text: String }
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var items: [LambadaItem] = []
    let decoder = JSONDecoder()
    for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
        if let limit, items.count >= limit { break }
        guard !line.allSatisfy({ $0 == 32 || $0 == 13 }) else { continue }
        do {
            if let item = LambadaItem(text: try decoder.decode(Line.self, from: Data(line)).text) { items.append(item) }
        } catch {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path,
                             NSLocalizedDescriptionKey: "\(path):\(n + 1): not a {\"text\": ...} JSON line"])
        }
    }
    return items
}

/// Scores one document from a fresh state (optionally after `bos`).
public func scoreLambada(_ item: LambadaItem, model: RWKVModel, tokenizer: any Tokenizer, bos: Int? = nil) throws -> LambadaScore {
    let (context, target) = item.encode(with: tokenizer)
    guard !target.isEmpty, !context.isEmpty || bos != nil else { throw ModelError.emptyInput }
    var scorer = try SequenceScorer(model: model, bos: bos)
    try scorer.advance(context)
    var ll = 0.0, greedy = 0
    try scorer.feed(target) { _, p in ll += p.logProbability; greedy += p.isGreedy ? 1 : 0 }
    return LambadaScore(logLikelihood: ll, greedyTokens: greedy, targetTokens: target.count)
}
