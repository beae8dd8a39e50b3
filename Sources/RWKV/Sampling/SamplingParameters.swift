// SamplingParameters: everything that decides which token comes next, in one Sendable value.
//
// Defaults are pip's `PIPELINE_ARGS` (spec §7.2), so a port of a pip script gets pip's behaviour
// without setting anything. Length limits (`maxNewTokens`) belong to the generation loop, not here.

/// How to pick tokens from logits.
///
/// ```swift
/// var parameters = SamplingParameters()        // pip PIPELINE_ARGS defaults
/// parameters.topP = 0.5; parameters.topK = 100   // pip README settings for G1 models
/// parameters.seed = 42                           // reproducible on every platform
/// try parameters.validate(vocabularySize: 65536)
/// ```
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// Softmax temperature, applied after top-p/top-k truncation. 0 means greedy (argmax).
    public var temperature: Double = 1.0
    /// Nucleus mass: keep the most likely tokens until their probability sum reaches `topP`
    /// (ties at the cutoff are kept). `topP >= 1` disables the filter (pip-on-CPU does not; spec §7.1).
    public var topP: Double = 0.85
    /// Keep only the `topK` most likely tokens; 0 disables the filter.
    public var topK: Int = 0
    /// Subtracted once from the logit of every token seen so far (pip `alpha_presence`).
    public var presencePenalty: Double = 0.2
    /// Subtracted per (decayed) occurrence of a token (pip `alpha_frequency`).
    public var frequencyPenalty: Double = 0.2
    /// Every step multiplies all occurrence counts by this before counting the new token (pip `alpha_decay`).
    public var penaltyDecay: Double = 0.996
    /// Tokens whose logits are set to -infinity (pip `token_ban`).
    public var bannedTokens: [Int] = []
    /// Sampling one of these ends generation; the token is neither emitted nor fed (pip `token_stop`).
    public var stopTokens: [Int] = []
    /// Generation ends before the first occurrence of any of these in the output text.
    public var stopStrings: [String] = []
    /// Seed for `Xoshiro256StarStar`; nil draws a seed from the system.
    public var seed: UInt64? = nil

    public init() {}

    public init(
        temperature: Double = 1.0, topP: Double = 0.85, topK: Int = 0,
        presencePenalty: Double = 0.2, frequencyPenalty: Double = 0.2, penaltyDecay: Double = 0.996,
        bannedTokens: [Int] = [], stopTokens: [Int] = [], stopStrings: [String] = [], seed: UInt64? = nil
    ) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.penaltyDecay = penaltyDecay
        self.bannedTokens = bannedTokens
        self.stopTokens = stopTokens
        self.stopStrings = stopStrings
        self.seed = seed
    }

    /// Pure argmax decoding without penalties.
    public static let greedy = SamplingParameters(temperature: 0, presencePenalty: 0, frequencyPenalty: 0)

    /// The random number generator these parameters ask for.
    public func makeGenerator() -> Xoshiro256StarStar {
        seed.map(Xoshiro256StarStar.init(seed:)) ?? Xoshiro256StarStar()
    }

    /// Checks ranges; `vocabularySize` (if given) bounds the banned and stop token ids.
    public func validate(vocabularySize: Int? = nil) throws(SamplingError) {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws(SamplingError) {
            if !ok { throw SamplingError(code: .invalidParameter, message: message()) }
        }
        try check(temperature.isFinite && temperature >= 0, "temperature must be a finite number >= 0 (0 = greedy), found \(temperature)")
        try check(topP.isFinite && topP >= 0, "topP must be a finite number >= 0 (>= 1 disables it), found \(topP)")
        try check(topK >= 0, "topK must be >= 0 (0 disables it), found \(topK)")
        try check(presencePenalty.isFinite, "presencePenalty must be finite, found \(presencePenalty)")
        try check(frequencyPenalty.isFinite, "frequencyPenalty must be finite, found \(frequencyPenalty)")
        try check(penaltyDecay.isFinite && (0...1).contains(penaltyDecay), "penaltyDecay must be in 0...1, found \(penaltyDecay)")
        try check(!stopStrings.contains(""), "stopStrings must not contain an empty string")
        for (name, ids) in [("bannedTokens", bannedTokens), ("stopTokens", stopTokens)] {
            let limit = vocabularySize ?? Int.max
            if let bad = ids.first(where: { $0 < 0 || $0 >= limit }) {
                try check(false, "\(name) contains \(bad), outside the vocabulary 0..<\(limit)")
            }
        }
    }
}

/// A failure in sampling: bad parameters or logits that admit no token.
public struct SamplingError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case invalidParameter, invalidLogits
    }

    public let code: Code
    /// What failed and what was expected.
    public let message: String
    /// Index of the offending logit, for `invalidLogits`.
    public var index: Int? = nil

    public var description: String { message }
}
