// Text generation: prompt in, streamed text out, in the reference's order of operations (spec §7.2).
//
// Three levels, as Swift LLM libraries offer them: `TokenGenerator`, a synchronous, deterministic
// iterator of token ids that tests drive directly; `TextGenerator`, which adds UTF-8-safe streaming and
// stop strings; and `generate(...)`, an `AsyncThrowingStream` of `Generation` events for app code.

import Foundation

/// Options of one generation run.
public struct GenerateParameters: Sendable {
    /// Upper bound on generated tokens.
    public var maxNewTokens: Int = 200
    /// Sampling, penalties, bans, stops and seed.
    public var sampling = SamplingParameters()
    /// Prompt tokens per forward call while prefilling (bounds scratch memory; results do not depend on it).
    public var prefillChunk: Int = 256
    /// Stop at the tokenizer's end-of-text token (id 0 for World models), as llama.cpp and ollama do.
    public var stopAtEndOfText = true

    public init(maxNewTokens: Int = 200, sampling: SamplingParameters = SamplingParameters()) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
    }
}

/// Why a generation ended.
public enum StopReason: String, Sendable, Codable {
    case length, stopToken, stopString, endOfText
}

/// Counts and timings of a finished generation.
public struct GenerationInfo: Sendable, Codable, Equatable {
    public var promptTokens: Int
    public var generatedTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var stopReason: StopReason
    /// The generated token ids (not part of the JSON form; the server scores them for `logprobs`).
    public var tokenIDs: [Int] = []

    enum CodingKeys: String, CodingKey { case promptTokens, generatedTokens, prefillSeconds, decodeSeconds, stopReason }

    public init(promptTokens: Int, generatedTokens: Int, prefillSeconds: Double, decodeSeconds: Double, stopReason: StopReason,
                tokenIDs: [Int] = []) {
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.prefillSeconds = prefillSeconds
        self.decodeSeconds = decodeSeconds
        self.stopReason = stopReason
        self.tokenIDs = tokenIDs
    }

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(generatedTokens) / decodeSeconds : 0 }
}

/// An event of `generate(...)`: printable text as it arrives, then one summary.
public enum Generation: Sendable {
    case chunk(String)
    case info(GenerationInfo)

    public var chunk: String? { if case let .chunk(s) = self { s } else { nil } }
    public var info: GenerationInfo? { if case let .info(i) = self { i } else { nil } }
}

/// Samples token after token from a model, applying bans and penalties as pip's `PIPELINE.generate` does.
public struct TokenGenerator {
    public let model: RWKVModel
    public private(set) var state: ModelState
    public let parameters: GenerateParameters
    private var logits: [Float]
    private var penalties: PenaltyTracker
    private var rng: Xoshiro256StarStar
    private let tokenizer: any Tokenizer
    public private(set) var generated: [Int] = []
    /// Number of prompt tokens prefilled.
    public let promptTokenCount: Int
    /// Set once the iterator has returned nil.
    public private(set) var stopReason: StopReason?

    /// Prefills `prompt` from `state` (or the model's initial state).
    public init(model: RWKVModel, tokenizer: any Tokenizer, prompt: [Int], state: ModelState? = nil,
                parameters: GenerateParameters) throws {
        try parameters.sampling.validate(vocabularySize: model.config.vocabularySize)
        self.model = model
        self.tokenizer = tokenizer
        self.parameters = parameters
        promptTokenCount = prompt.count
        var s = state ?? model.makeState()
        logits = try model.prefill(prompt, state: &s, chunkSize: parameters.prefillChunk)
        self.state = s
        penalties = PenaltyTracker(parameters: parameters.sampling)
        rng = parameters.sampling.makeGenerator()
    }

    /// The next token, or nil when a stop condition or the length limit is reached. A stop token is
    /// neither returned nor fed to the model.
    public mutating func next() throws -> Int? {
        guard let token = try choose() else { return nil }
        logits = try model.step(token, state: &state)
        return token
    }

    /// Picks the next token and counts it, without feeding it to the model; `next()` is `choose()` plus
    /// a step. Batched decoding feeds the chosen tokens of many sessions at once, then calls `resume`.
    public mutating func choose() throws -> Int? {
        guard stopReason == nil else { return nil }
        guard generated.count < parameters.maxNewTokens else { stopReason = .length; return nil }
        var adjusted = logits
        penalties.apply(to: &adjusted)
        let token = try sampleLogits(adjusted, parameters: parameters.sampling, using: &rng)
        if parameters.sampling.stopTokens.contains(token) { stopReason = .stopToken; return nil }
        if parameters.stopAtEndOfText, let eot = tokenizer.endOfTextToken, token == eot { stopReason = .endOfText; return nil }
        penalties.record(token, tokenizer: tokenizer)
        generated.append(token)
        return token
    }

    /// Hands the state out (batched decoding); `resume` must follow.
    public mutating func takeState() -> ModelState {
        var out = ModelState.placeholder
        swap(&out, &state)
        return out
    }

    /// Continues after the chosen token was fed elsewhere: the new state and that step's logits.
    public mutating func resume(state: ModelState, logits: [Float]) {
        self.state = state
        self.logits = logits
    }

    /// Marks the run as ended early (a stop string matched in the text).
    mutating func finish(_ reason: StopReason) { stopReason = reason }
}

/// Streams text from a `TokenGenerator`: never half a UTF-8 character, and text is held back while it
/// could still be the start of a stop string (which is never emitted).
public struct TextGenerator {
    /// The token generator underneath (batched decoding calls its `choose`/`takeState`/`resume` directly).
    public var tokens: TokenGenerator
    private var decoder: StreamingDecoder
    private var stops: StopStringMatcher

    public init(model: RWKVModel, tokenizer: any Tokenizer, prompt: String, state: ModelState? = nil,
                parameters: GenerateParameters) throws {
        try self.init(model: model, tokenizer: tokenizer, promptTokens: TextGenerator.promptTokens(prompt, tokenizer),
                      state: state, parameters: parameters)
    }

    /// From prompt token ids (e.g. an OpenAI request's `prompt: [1, 2, 3]`).
    public init(model: RWKVModel, tokenizer: any Tokenizer, promptTokens: [Int], state: ModelState? = nil,
                parameters: GenerateParameters) throws {
        tokens = try TokenGenerator(model: model, tokenizer: tokenizer, prompt: promptTokens, state: state, parameters: parameters)
        decoder = StreamingDecoder(tokenizer: tokenizer)
        stops = StopStringMatcher(stopStrings: parameters.sampling.stopStrings)
    }

    /// The ids a text prompt is fed as: an empty prompt starts a new document, which World models mark
    /// with the end-of-text token 0.
    public static func promptTokens(_ prompt: String, _ tokenizer: any Tokenizer) -> [Int] {
        let ids = tokenizer.encode(prompt)
        if ids.isEmpty, let eot = tokenizer.endOfTextToken { return [eot] }
        return ids
    }

    /// The next printable piece of text (possibly empty), or nil at the end.
    public mutating func next() throws -> String? {
        guard let token = try tokens.next() else { return finish() }
        return try text(after: token)
    }

    /// Printable text after `token` was chosen and fed (batched decoding drives the `tokens` generator itself).
    public mutating func text(after token: Int) throws -> String {
        let step = stops.append(try decoder.append(token))
        if step.stopString != nil { tokens.finish(.stopString) }
        return step.text
    }

    /// The text still held back once no more tokens come, or nil.
    public mutating func finish() -> String? {
        if stops.isStopped { return nil }
        let tail = stops.append(decoder.flush())
        let rest = tail.text + (tail.stopString == nil ? stops.flush() : "")
        if tail.stopString != nil { tokens.finish(.stopString) }
        return rest.isEmpty ? nil : rest
    }

    /// The state after everything generated so far (fork it to continue elsewhere).
    public var state: ModelState { tokens.state }
}

/// Generates text from `prompt`, as an asynchronous stream of `.chunk` events followed by one `.info`.
///
/// ```swift
/// for try await event in generate(model: model, tokenizer: tokenizer, prompt: "User: hi\n\nAssistant:") {
///     if let text = event.chunk { print(text, terminator: "") }
/// }
/// ```
public func generate(model: RWKVModel, tokenizer: any Tokenizer, prompt: String, state: ModelState? = nil,
                     parameters: GenerateParameters = GenerateParameters(),
                     queue: DispatchQueue = .global(qos: .userInitiated)) -> AsyncThrowingStream<Generation, Error> {
    AsyncThrowingStream { continuation in
        // The forward pass is long synchronous CPU work: it runs on `queue`, not on Swift's cooperative
        // thread pool (which has one thread per core and would stall every other task).
        let cancelled = CancellationFlag()
        continuation.onTermination = { _ in cancelled.set() }
        queue.async {
            do {
                let info = try generateText(model: model, tokenizer: tokenizer, prompt: prompt, state: state, parameters: parameters) { text in
                    continuation.yield(.chunk(text))
                    return !cancelled.isSet
                }
                continuation.yield(.info(info))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }
}

/// A flag set from one thread and read from another (consumer gone → stop generating).
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.lock(); value = true; lock.unlock() }
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Runs a whole generation synchronously, calling `onText` with each non-empty piece of text; `onText`
/// returns false to stop early. Returns counts and timings.
@discardableResult
public func generateText(model: RWKVModel, tokenizer: any Tokenizer, prompt: String, state: ModelState? = nil,
                         parameters: GenerateParameters, onText: (String) -> Bool) throws -> GenerationInfo {
    let start = DispatchTime.now()
    var generator = try TextGenerator(model: model, tokenizer: tokenizer, prompt: prompt, state: state, parameters: parameters)
    let prefilled = DispatchTime.now()
    while let text = try generator.next() {
        if !text.isEmpty, !onText(text) { break }
    }
    let end = DispatchTime.now()
    func seconds(_ a: DispatchTime, _ b: DispatchTime) -> Double { Double(b.uptimeNanoseconds - a.uptimeNanoseconds) / 1e9 }
    return GenerationInfo(promptTokens: generator.tokens.promptTokenCount, generatedTokens: generator.tokens.generated.count,
                          prefillSeconds: seconds(start, prefilled), decodeSeconds: seconds(prefilled, end),
                          stopReason: generator.tokens.stopReason ?? .length)
}
