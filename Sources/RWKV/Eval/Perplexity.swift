// Compression of a text by a model ("uncheatable eval"): bits per byte, bits per token and per-token
// perplexity, streamed from a file in blocks so that neither the text nor its tokens are held whole.

import Foundation

/// Totals of a perplexity run. Only scored tokens count; their bytes are the bytes they decode to.
public struct PerplexityReport: Sendable, Codable, Equatable {
    public var tokens: Int
    public var bytes: Int
    /// Σ −ln p over scored tokens, in nats.
    public var negativeLogLikelihood: Double
    public var bitsPerByte: Double { tokens == 0 ? .nan : negativeLogLikelihood / (Double(bytes) * M_LN2) }
    public var bitsPerToken: Double { tokens == 0 ? .nan : negativeLogLikelihood / (Double(tokens) * M_LN2) }
    public var perplexity: Double { tokens == 0 ? .nan : exp(negativeLogLikelihood / Double(tokens)) }

    public init(tokens: Int = 0, bytes: Int = 0, negativeLogLikelihood: Double = 0) {
        self.tokens = tokens; self.bytes = bytes; self.negativeLogLikelihood = negativeLogLikelihood
    }

    public mutating func add(_ p: TokenPrediction, bytes count: Int) {
        tokens += 1
        bytes += count
        negativeLogLikelihood -= p.logProbability
    }

    enum CodingKeys: String, CodingKey { case tokens, bytes, negativeLogLikelihood, bitsPerByte, bitsPerToken, perplexity }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens); try c.encode(bytes, forKey: .bytes)
        try c.encode(negativeLogLikelihood, forKey: .negativeLogLikelihood)
        try c.encode(bitsPerByte, forKey: .bitsPerByte); try c.encode(bitsPerToken, forKey: .bitsPerToken)
        try c.encode(perplexity, forKey: .perplexity)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tokens: try c.decode(Int.self, forKey: .tokens), bytes: try c.decode(Int.self, forKey: .bytes),
                  negativeLogLikelihood: try c.decode(Double.self, forKey: .negativeLogLikelihood))
    }
}

/// Reads a file in blocks that end after a newline (when the block has one), so a tokenizer sees
/// whole lines; at most `maxBytes` bytes in total.
public struct TextBlocks: Sequence, IteratorProtocol {
    private let handle: FileHandle
    private var carry: [UInt8] = []
    private var remaining: Int
    private let blockSize: Int
    private var atEnd = false
    /// Bytes the run will read: the file size, capped at `maxBytes`.
    public let totalBytes: Int

    public init(path: String, maxBytes: Int? = nil, blockSize: Int = 1 << 16) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? Int.max
        totalBytes = Swift.min(size, maxBytes ?? Int.max)
        remaining = totalBytes
        self.blockSize = blockSize
    }

    public mutating func next() -> [UInt8]? {
        while !atEnd && carry.count < blockSize && remaining > 0 {
            let data = handle.readData(ofLength: Swift.min(blockSize, remaining))
            if data.isEmpty { atEnd = true; break }
            remaining -= data.count
            carry.append(contentsOf: data)
        }
        if remaining == 0 { atEnd = true }
        guard !carry.isEmpty else { try? handle.close(); return nil }
        var cut = carry.count
        if !atEnd, let nl = carry.lastIndex(of: UInt8(ascii: "\n")) { cut = nl + 1 }
        let block = Array(carry[..<cut])
        carry.removeFirst(cut)
        return block
    }
}

/// Bits per byte, bits per token and perplexity of `model` on a file. Blocks are tokenised separately
/// (a token never spans a block cut, which is after a newline); `progress(bytesDone, totalBytes)`.
public func evaluatePerplexity(model: RWKVModel, tokenizer: any Tokenizer, path: String, maxBytes: Int? = nil,
                               chunk: Int = 256, bos: Int? = nil,
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> PerplexityReport {
    var blocks = try TextBlocks(path: path, maxBytes: maxBytes)
    var scorer = try SequenceScorer(model: model, bos: bos)
    var report = PerplexityReport()
    var done = 0
    while let block = blocks.next() {
        let ids = tokenizer.encode(bytes: block)
        try scorer.feed(ids, chunk: chunk) { i, p in report.add(p, bytes: tokenizer.tokenBytes(ids[i])?.count ?? 0) }
        done += block.count
        progress(done, blocks.totalBytes)
    }
    return report
}
