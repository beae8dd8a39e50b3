// The engine behind the HTTP API: turns a prompt and parameters into a stream of text.
//
// Controllers see only `TextEngine`, so tests can run them against any model. The RWKV engine is
// `BatchingEngine`: concurrent requests share batched decode steps on one scheduler thread, so the
// synchronous forward pass never blocks Swift's cooperative threads.

import Foundation
import RWKV

/// What the HTTP layer needs from a model.
public protocol TextEngine: Sendable {
    /// The id reported by `/v1/models` and in responses.
    var modelID: String { get }
    /// The model's tokenizer (prompts as ids, `/tokenize`, logprob token strings).
    var tokenizer: any Tokenizer { get }
    /// Generates a continuation of the prompt tokens.
    func generate(promptTokens: [Int], parameters: GenerateParameters) -> AsyncThrowingStream<Generation, Error>
    /// Log-probabilities of `tokens[1...]` with the `top` likeliest tokens at each position (`RWKVModel.score`).
    func score(_ tokens: [Int], top: Int) async throws -> [TokenScore?]
}

extension TextEngine {
    /// Generates a continuation of a text prompt.
    public func generate(prompt: String, parameters: GenerateParameters) -> AsyncThrowingStream<Generation, Error> {
        generate(promptTokens: TextGenerator.promptTokens(prompt, tokenizer), parameters: parameters)
    }
}
