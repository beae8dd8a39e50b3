// The engine behind the HTTP API: turns a prompt and parameters into a stream of text.
//
// Controllers see only `TextEngine`, so tests can run them against any model. The RWKV engine runs
// generations one after another on its own serial queue: the forward pass is synchronous CPU work that
// must neither block Swift's cooperative threads nor compete with itself for the two cores.

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

/// A loaded RWKV model served to one request at a time, in arrival order.
public struct RWKVEngine: TextEngine {
    public let modelID: String
    public let model: RWKVModel
    public let tokenizer: any Tokenizer
    private let queue = DispatchQueue(label: "rwkv.engine")

    public init(modelID: String, model: RWKVModel, tokenizer: any Tokenizer) {
        self.modelID = modelID
        self.model = model
        self.tokenizer = tokenizer
    }

    public func tokenCount(_ text: String) -> Int { tokenizer.encode(text).count }

    public func generate(prompt: String, parameters: GenerateParameters) -> AsyncThrowingStream<Generation, Error> {
        RWKV.generate(model: model, tokenizer: tokenizer, prompt: prompt, parameters: parameters, queue: queue)
    }
}
