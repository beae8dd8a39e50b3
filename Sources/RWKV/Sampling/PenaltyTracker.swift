// PenaltyTracker: pip's repetition penalties and token bans, with its exact bookkeeping (spec §7.2).
//
// Each step: banned logits become -infinity, then every token seen so far loses
// `presence + count * frequency`. After a token is chosen, all counts decay by `penaltyDecay`
// *before* the new token is counted. A token whose text is a substring of " \t0123456789"
// (a space, a tab, a digit, or a run such as "01") is counted with weight 0, but it is still
// inserted, so the presence penalty applies to it from then on. Counts are doubles, as pip's Python
// floats are; the penalty is rounded to fp32 once and then subtracted, as torch does.

/// Occurrence counts of generated tokens and the logit penalties they imply.
///
/// ```swift
/// var penalties = PenaltyTracker(parameters: parameters)
/// penalties.apply(to: &logits)
/// let token = try sampleLogits(logits, parameters: parameters, using: &rng)
/// penalties.record(token, tokenizer: tokenizer)
/// ```
public struct PenaltyTracker: Sendable {
    public let presencePenalty: Double
    public let frequencyPenalty: Double
    public let decay: Double
    public let bannedTokens: [Int]
    /// Decayed occurrence count of each token generated so far (pip's `occurrence`).
    public private(set) var occurrences: [Int: Double] = [:]

    /// Text that makes a token count with weight 0 when it is a substring of it.
    static let uncountedCharacters = Array(" \t0123456789".utf8)

    public init(presencePenalty: Double, frequencyPenalty: Double, decay: Double, bannedTokens: [Int] = []) {
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.decay = decay
        self.bannedTokens = bannedTokens
    }

    public init(parameters: SamplingParameters) {
        self.init(
            presencePenalty: parameters.presencePenalty, frequencyPenalty: parameters.frequencyPenalty,
            decay: parameters.penaltyDecay, bannedTokens: parameters.bannedTokens)
    }

    /// Bans, then penalises, `logits` in place. Ids outside `logits` are ignored
    /// (`SamplingParameters.validate(vocabularySize:)` reports them up front).
    public func apply(to logits: inout [Float]) {
        for id in bannedTokens where logits.indices.contains(id) { logits[id] = -.infinity }
        for (id, count) in occurrences where logits.indices.contains(id) {
            logits[id] -= Float(presencePenalty + count * frequencyPenalty)
        }
    }

    /// Counts a generated token whose decoded text is `text` (pip: `decode([token])`, which is
    /// U+FFFD for a token that is not valid UTF-8 on its own).
    public mutating func record(_ token: Int, text: String) {
        occurrences = occurrences.mapValues { $0 * decay }
        let weight: Double = Self.isUncounted(text) ? 0 : 1
        occurrences[token, default: 0] += weight
    }

    /// Counts a generated token, decoding it with `tokenizer` as pip does.
    public mutating func record(_ token: Int, tokenizer: some Tokenizer) {
        record(token, text: tokenizer.decodeLossy([token]))
    }

    /// Python's `text in " \t0123456789"`: a contiguous substring, the empty string included.
    static func isUncounted(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        let haystack = uncountedCharacters
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
