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
    /// Prompt length in tokens (for `usage`).
    func tokenCount(_ text: String) -> Int
    /// Generates a continuation of `prompt`.
    func generate(prompt: String, parameters: GenerateParameters) -> AsyncThrowingStream<Generation, Error>
}
