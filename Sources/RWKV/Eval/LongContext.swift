// Loss against position in long documents (the papers' PG19 figure): mean next-token loss per bucket
// of token positions [0,128), [128,256), [256,512), … doubling up to each document's end.

import Foundation

/// Doubling position buckets: bucket 0 is [0, first), bucket i ≥ 1 is [first·2^(i−1), first·2^i).
public struct PositionBuckets: Sendable, Equatable {
    public var first: Int

    public init(first: Int = 128) { self.first = max(first, 1) }

    /// The bucket holding token position `position` (0-based, ≥ 0).
    public func index(of position: Int) -> Int {
        if position < first { return 0 }
        var i = 1, upper = first * 2
        while position >= upper { upper *= 2; i += 1 }
        return i
    }

    /// Positions [lower, upper) of bucket `i`.
    public func range(_ i: Int) -> Range<Int> {
        i == 0 ? 0..<first : (first << (i - 1))..<(first << i)
    }
}

/// One row of the long-context table.
public struct PositionBucketLoss: Sendable, Codable, Equatable {
    public var lower: Int, upper: Int
    /// Scored tokens in this bucket over all documents.
    public var count: Int
    /// Mean −ln p (nats) of those tokens.
    public var meanLoss: Double
}

/// Result of `evaluateLongContext`.
public struct LongContextReport: Sendable, Codable, Equatable {
    public var documents: [String]
    /// Scored tokens per document.
    public var documentTokens: [Int]
    public var buckets: [PositionBucketLoss]
}

/// Sums per bucket; `add` takes the position of the predicted token within its document.
public struct BucketAccumulator: Sendable {
    public let buckets: PositionBuckets
    private var sums: [Double] = [], counts: [Int] = []

    public init(buckets: PositionBuckets = PositionBuckets()) { self.buckets = buckets }

    public mutating func add(position: Int, loss: Double) {
        let i = buckets.index(of: position)
        while sums.count <= i { sums.append(0); counts.append(0) }
        sums[i] += loss
        counts[i] += 1
    }

    /// Non-empty buckets in order; the last one's upper bound is the real end of the data.
    public func rows(lastPosition: Int) -> [PositionBucketLoss] {
        sums.indices.compactMap { i in
            guard counts[i] > 0 else { return nil }
            let r = buckets.range(i)
            return PositionBucketLoss(lower: r.lowerBound, upper: min(r.upperBound, lastPosition + 1), count: counts[i],
                                      meanLoss: sums[i] / Double(counts[i]))
        }
    }
}

/// Scores each document from a fresh state (each in one stream, chunked) and averages loss per position
/// bucket over all of them. Position p is the index of the predicted token in its document (the first
/// token is not predicted unless `bos` is given). `progress(tokensDone, tokensTotal)`.
public func evaluateLongContext(model: RWKVModel, documents: [(name: String, tokens: [Int])], chunk: Int = 256,
                                bos: Int? = nil, buckets: PositionBuckets = PositionBuckets(),
                                progress: (Int, Int) -> Void = { _, _ in }) throws -> LongContextReport {
    var acc = BucketAccumulator(buckets: buckets)
    let total = documents.reduce(0) { $0 + $1.tokens.count }
    var done = 0, last = 0, counts: [Int] = []
    for doc in documents {
        var scorer = try SequenceScorer(model: model, bos: bos)
        var scored = 0
        var start = 0
        while start < doc.tokens.count {
            let end = min(start + 8 * chunk, doc.tokens.count)
            try scorer.feed(Array(doc.tokens[start..<end]), chunk: chunk) { i, p in
                acc.add(position: start + i, loss: -p.logProbability)
                scored += 1
            }
            done += end - start
            progress(done, total)
            start = end
        }
        last = max(last, doc.tokens.count - 1)
        counts.append(scored)
    }
    return LongContextReport(documents: documents.map(\.name), documentTokens: counts, buckets: acc.rows(lastPosition: last))
}

/// Splits a book collection into documents at title pages: a short line after two blank lines whose
/// next non-empty line is a short "by …" line, possibly after a "(year)" line (the six novels of the Austen file in
/// ../shared/data use several such layouts). Text before the first title is dropped.
public func splitTitledDocuments(_ text: String) -> [(name: String, text: String)] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    func isByLine(_ s: String) -> Bool { let l = s.lowercased(); return s.count <= 24 && (l == "by" || l.hasPrefix("by ")) }
    var starts: [(Int, String)] = []
    for (i, t) in lines.enumerated() where !t.isEmpty && t.count <= 40 && !isByLine(t) && t.first?.isUppercase == true {
        guard i == 0 || (i >= 2 && lines[i - 1].isEmpty && lines[i - 2].isEmpty) else { continue }
        // Only a parenthesised line (a year) may sit between the title and its "by" line.
        let following = lines[(i + 1)..<min(i + 10, lines.count)].filter { !$0.isEmpty }.prefix(3)
        if let by = following.firstIndex(where: isByLine), following[following.startIndex..<by].allSatisfy({ $0.hasPrefix("(") }) {
            starts.append((i, t))
        }
    }
    guard !starts.isEmpty else { return [("text", text)] }
    return starts.enumerated().map { k, s in
        let end = k + 1 < starts.count ? starts[k + 1].0 : lines.count
        return (s.1, lines[s.0..<end].joined(separator: "\n"))
    }
}
