// The recurrent state: everything a model carries from one token to the next.
//
// A value type on purpose: copying it forks a conversation, comparing it tells whether two runs
// reached the same point. Layout follows the reference (spec §2.4): per layer the time-mix shift
// vector (C), the WKV matrices (H×N×N, [head][value][key] for v7) and the channel-mix shift vector (C).

/// State of one layer.
public struct LayerState: Sendable, Equatable, Codable {
    /// Previous token's ln1 output (C).
    public var attentionShift: [Float]
    /// WKV state, H·N·N floats.
    public var wkv: [Float]
    /// Previous token's ln2 output (C).
    public var ffnShift: [Float]

    public init(attentionShift: [Float], wkv: [Float], ffnShift: [Float]) {
        self.attentionShift = attentionShift
        self.wkv = wkv
        self.ffnShift = ffnShift
    }
}

/// The whole recurrent state of a model, tagged with the model signature it belongs to.
public struct ModelState: Sendable, Equatable, Codable {
    /// `ModelConfig.signature` of the model this state belongs to.
    public var signature: String
    public var layers: [LayerState]

    /// The all-zero state a sequence starts from.
    public init(config: ModelConfig) {
        let c = config.embeddingSize, n = config.headSize
        signature = config.signature
        layers = (0..<config.layerCount).map { _ in
            LayerState(attentionShift: [Float](repeating: 0, count: c),
                       wkv: [Float](repeating: 0, count: config.headCount * n * n),
                       ffnShift: [Float](repeating: 0, count: c))
        }
    }

    /// Largest absolute element-wise difference to another state of the same shape (∞ if shapes differ).
    public func maxDifference(to other: ModelState) -> Float {
        guard layers.count == other.layers.count else { return .infinity }
        var m: Float = 0
        for (a, b) in zip(layers, other.layers) {
            for (x, y) in [(a.attentionShift, b.attentionShift), (a.wkv, b.wkv), (a.ffnShift, b.ffnShift)] {
                guard x.count == y.count else { return .infinity }
                for i in x.indices { m = max(m, abs(x[i] - y[i])) }
            }
        }
        return m
    }
}

extension ModelState {
    /// Lends `state` to `body` as a one-element array, moving it rather than copying its buffers
    /// (a copy would make the next write to the WKV arrays duplicate them).
    static func asBatch<R>(_ state: inout ModelState, _ body: (inout [ModelState]) throws -> R) rethrows -> R {
        var states = [ModelState(signature: "", layers: [])]
        swap(&states[0], &state)
        defer { swap(&states[0], &state) }
        return try body(&states)
    }

    init(signature: String, layers: [LayerState]) {
        self.signature = signature
        self.layers = layers
    }
}
