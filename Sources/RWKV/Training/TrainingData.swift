// Training data: a token stream from plain text or JSONL, a held-out tail, and deterministic batches.
//
// The stream is split once: the first 95 % trains, the last 5 % validates. A training batch is B random
// windows of T+1 tokens (inputs = first T, targets = last T); where each window starts depends only on
// (seed, step, row), so a resumed run sees exactly the batches an uninterrupted run would. Validation
// uses fixed, evenly spaced windows of the held-out tail. Inputs: text, JSONL and RWKV-LM's binidx
// (BinIdx.swift). Not here: RWKV-LM's magic-prime sampling.

import Foundation

/// Turns text into token ids for training.
public protocol TrainingTokenizer: Sendable {
    var vocabularySize: Int { get }
    func encode(_ text: String) throws -> [Int]
}

/// id = byte value (vocabulary 256). Token 0 never occurs in UTF-8 text, so it separates documents.
public struct ByteTrainingTokenizer: TrainingTokenizer {
    public init() {}
    public var vocabularySize: Int { 256 }
    public func encode(_ text: String) throws -> [Int] { text.utf8.map { Int($0) } }
}

/// The RWKV World tokenizer for training; models get the official 65536-row vocabulary.
extension WorldTokenizer: TrainingTokenizer {}

/// A tokenised corpus with its train/validation split.
public struct TrainingData: Sendable {
    public let tokens: [Int32]
    /// Tokens before this index train; from it on they validate.
    public let splitIndex: Int
    public var trainCount: Int { splitIndex }
    public var validationCount: Int { tokens.count - splitIndex }

    /// Document separator (end-of-text) between JSONL records, as in RWKV-LM's data.
    public static let separator = 0

    public init(tokens: [Int32], validationFraction: Double = 0.05) {
        self.tokens = tokens
        splitIndex = tokens.count - Int((Double(tokens.count) * validationFraction).rounded(.down))
    }

    /// Reads a file: `.jsonl` → one JSON object per line with a string field `text`; `.bin`/`.idx` →
    /// RWKV-LM's pre-tokenised binidx pair (the tokenizer only bounds the ids); anything else → text.
    public static func load(path: String, tokenizer: TrainingTokenizer = ByteTrainingTokenizer(),
                            validationFraction: Double = 0.05) throws -> TrainingData {
        var ids: [Int] = []
        if path.hasSuffix(".bin") || path.hasSuffix(".idx") {
            ids = try BinIdx.load(path: path)
        } else {
            ids = try tokenize(path: path, tokenizer: tokenizer)
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= tokenizer.vocabularySize }) {
            throw TrainingError.data("token \(bad) is outside the tokenizer's vocabulary 0..<\(tokenizer.vocabularySize)")
        }
        return TrainingData(tokens: ids.map { Int32($0) }, validationFraction: validationFraction)
    }

    private static func tokenize(path: String, tokenizer: TrainingTokenizer) throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError.data("cannot read \(path)") }
        guard let text = String(data: data, encoding: .utf8) else { throw TrainingError.data("\(path) is not UTF-8 text") }
        var ids: [Int] = []
        if path.hasSuffix(".jsonl") {
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8))
                guard let record = object as? [String: Any], let field = record["text"] as? String else {
                    throw TrainingError.data("\(path) line \(n + 1): expected a JSON object with a string field \"text\"")
                }
                ids += try tokenizer.encode(field)
                ids.append(separator)
            }
        } else {
            ids = try tokenizer.encode(text)
        }
        return ids
    }

    /// Throws unless both splits hold at least one window of `context + 1` tokens.
    public func validate(context: Int) throws {
        guard trainCount > context + 1 else {
            throw TrainingError.data("\(trainCount) training tokens cannot fill a window of \(context + 1); use a smaller --ctx or more data")
        }
        guard validationCount > context + 1 else {
            throw TrainingError.data("the held-out 5 % has \(validationCount) tokens, fewer than a window of \(context + 1)")
        }
    }

    /// B random training windows for `step`: (inputs, targets), each B·T row-major.
    public func trainingBatch(step: Int, batch: Int, context: Int, seed: UInt64) throws -> (inputs: [Int], targets: [Int]) {
        try validate(context: context)
        var inputs: [Int] = [], targets: [Int] = []
        inputs.reserveCapacity(batch * context); targets.reserveCapacity(batch * context)
        let starts = trainCount - context   // windows [s, s + T] inside the training split
        for row in 0..<batch {
            var rng = TrainingRandom(seed: seed ^ (UInt64(step) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(row) &* 0xD1B5_4A32_D192_ED03))
            _ = rng.next()
            let s = rng.below(starts)
            append(from: s, context: context, &inputs, &targets)
        }
        return (inputs, targets)
    }

    /// Validation batch `index` of `count`: windows evenly spaced over the held-out tail.
    public func validationBatch(index: Int, count: Int, batch: Int, context: Int) throws -> (inputs: [Int], targets: [Int]) {
        try validate(context: context)
        var inputs: [Int] = [], targets: [Int] = []
        let starts = validationCount - context, total = max(count * batch, 1)
        for row in 0..<batch {
            let k = index * batch + row
            append(from: splitIndex + starts * (k % total) / total, context: context, &inputs, &targets)
        }
        return (inputs, targets)
    }

    private func append(from s: Int, context: Int, _ inputs: inout [Int], _ targets: inout [Int]) {
        for t in 0..<context {
            inputs.append(Int(tokens[s + t]))
            targets.append(Int(tokens[s + t + 1]))
        }
    }
}
