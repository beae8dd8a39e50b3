// The recurrent state: everything a model carries from one token to the next.
//
// A value type on purpose: copying it forks a conversation, comparing it tells whether two runs
// reached the same point. Layout follows the reference (spec §2.4): per layer the time-mix shift
// vector (C), the WKV matrices (H×N×N, [head][value][key] for v7) and the channel-mix shift vector (C).
//
// The kernels read and write H·N·N floats per layer through raw pointers, so a state must never reach
// them with shorter arrays. The storage is therefore private: every way to make a state (zeros, from
// arrays, JSON decoding, a state file) checks each array length against the shape and refuses NaN/Inf,
// and the module only mutates it in place. The model then compares the shape with its own.

/// State of one layer. Its arrays are checked when it is put into a `ModelState`.
public struct LayerState: Sendable, Equatable, Codable {
    /// Previous token's ln1 output (C).
    public internal(set) var attentionShift: [Float]
    /// WKV state, H·N·N floats.
    public internal(set) var wkv: [Float]
    /// Previous token's ln2 output (C).
    public internal(set) var ffnShift: [Float]

    public init(attentionShift: [Float], wkv: [Float], ffnShift: [Float]) {
        self.attentionShift = attentionShift
        self.wkv = wkv
        self.ffnShift = ffnShift
    }
}

/// Sizes a state's arrays must have: L layers of C + H·N·N + C floats.
public struct StateShape: Sendable, Equatable, CustomStringConvertible {
    public let layers: Int, width: Int, heads: Int, headSize: Int

    /// The shape a model with `config` needs (throws if the config itself is unusable).
    public init(config: ModelConfig) throws {
        try config.validateStateShape()
        (layers, width, heads, headSize) = (config.layerCount, config.embeddingSize, config.headCount, config.headSize)
    }

    private init(layers: Int, width: Int, heads: Int, headSize: Int) {
        (self.layers, self.width, self.heads, self.headSize) = (layers, width, heads, headSize)
    }

    /// The shape of no state at all (a moved-from placeholder; no model accepts it).
    static let empty = StateShape(layers: 0, width: 0, heads: 0, headSize: 0)

    /// H·N·N; cannot overflow once the config validated (bounded by C·N).
    public var wkvCount: Int { heads * headSize * headSize }

    public var description: String { "L\(layers) C\(width) H\(heads) N\(headSize)" }
}

/// The whole recurrent state of a model, tagged with the model signature it belongs to.
public struct ModelState: Sendable, Equatable {
    /// `ModelConfig.signature` of the model this state belongs to.
    public let signature: String
    /// The array sizes every layer has (checked on construction and decoding).
    public let shape: StateShape
    private var storage: [LayerState]

    /// The layers (read-only: a state changes only by running the model).
    public var layers: [LayerState] { storage }

    /// The all-zero state a sequence starts from.
    public init(config: ModelConfig) throws {
        let shape = try StateShape(config: config)
        let zeros = LayerState(attentionShift: [Float](repeating: 0, count: shape.width),
                               wkv: [Float](repeating: 0, count: shape.wkvCount),
                               ffnShift: [Float](repeating: 0, count: shape.width))
        self.init(signature: config.signature, shape: shape, storage: Array(repeating: zeros, count: shape.layers))
    }

    /// A state from explicit arrays; throws `ModelError.invalidState` naming the first array whose
    /// length does not fit `config` or that holds NaN/Inf.
    public init(config: ModelConfig, layers: [LayerState]) throws {
        let shape = try StateShape(config: config)
        try Self.check(layers, against: shape)
        self.init(signature: config.signature, shape: shape, storage: layers)
    }

    private init(signature: String, shape: StateShape, storage: [LayerState]) {
        self.signature = signature
        self.shape = shape
        self.storage = storage
    }

    /// A moved-from placeholder (no layers); `validate` rejects it, so it can never reach a kernel.
    static var placeholder: ModelState { ModelState(signature: "", shape: .empty, storage: []) }

    /// Throws unless `layers` has exactly `shape`'s lengths and only finite values.
    static func check(_ layers: [LayerState], against shape: StateShape) throws {
        guard layers.count == shape.layers else {
            throw ModelError.invalidState(field: "layers", reason: "\(layers.count) layers, expected \(shape.layers) (\(shape))")
        }
        for (l, layer) in layers.enumerated() {
            for (name, array, count) in [("attentionShift", layer.attentionShift, shape.width), ("wkv", layer.wkv, shape.wkvCount),
                                         ("ffnShift", layer.ffnShift, shape.width)] {
                guard array.count == count else {
                    throw ModelError.invalidState(field: "layer \(l) \(name)", reason: "\(array.count) values, expected \(count) (\(shape))")
                }
                if let i = array.firstIndex(where: { !$0.isFinite }) {
                    throw ModelError.invalidState(field: "layer \(l) \(name)[\(i)]", reason: "\(array[i]) is not finite; a state holds finite numbers only")
                }
            }
        }
    }

    /// Whether this state fits a model with `config` (signature and every array length).
    func fits(_ config: ModelConfig) -> Bool {
        signature == config.signature && (try? StateShape(config: config)) == shape && storage.count == shape.layers
    }

    /// Largest absolute element-wise difference to another state of the same shape (∞ if shapes differ).
    public func maxDifference(to other: ModelState) -> Float {
        guard shape == other.shape, storage.count == other.storage.count else { return .infinity }
        var m: Float = 0
        for (a, b) in zip(storage, other.storage) {
            for (x, y) in [(a.attentionShift, b.attentionShift), (a.wkv, b.wkv), (a.ffnShift, b.ffnShift)] {
                guard x.count == y.count else { return .infinity }
                for i in x.indices { m = max(m, abs(x[i] - y[i])) }
            }
        }
        return m
    }

    // MARK: In-place access for the module (lengths are preserved by construction)

    /// Exchanges layer `l` with `other`; the caller swaps back before anyone else sees the state.
    mutating func swapLayer(_ l: Int, with other: inout LayerState) {
        swap(&storage[l], &other)
    }

    /// Replaces layer `l`'s WKV matrices with an array of the same length (e.g. a tuned `time_state`).
    mutating func setWKV(_ values: [Float], layer l: Int) {
        precondition(values.count == shape.wkvCount, "internal: WKV state of the wrong length")
        storage[l].wkv = values
    }

    /// Lends `state` to `body` as a one-element array, moving it rather than copying its buffers
    /// (a copy would make the next write to the WKV arrays duplicate them).
    static func asBatch<R>(_ state: inout ModelState, _ body: (inout [ModelState]) throws -> R) rethrows -> R {
        var states = [ModelState.placeholder]
        swap(&states[0], &state)
        defer { swap(&states[0], &state) }
        return try body(&states)
    }
}

extension ModelState: Codable {
    private enum CodingKeys: String, CodingKey { case signature, layers }

    /// Decodes `{"signature", "layers"}` and re-derives the shape from the arrays: they must all have
    /// the lengths the signature's L, C, H and N imply, and finite values.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let signature = try container.decode(String.self, forKey: .signature)
        let layers = try container.decode([LayerState].self, forKey: .layers)
        guard let config = ModelConfig(stateSignature: signature) else {
            throw DecodingError.dataCorruptedError(forKey: .signature, in: container,
                debugDescription: "signature '\(signature)' is not of the form 'v7 L12 C768 H12 N64'")
        }
        do {
            self = try ModelState(config: config, layers: layers)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .layers, in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(signature, forKey: .signature)
        try container.encode(storage, forKey: .layers)
    }
}

extension ModelConfig {
    /// The state-relevant part of a config parsed back from `signature` ("v7 L12 C768 H12 N64");
    /// nil when the text does not have that form. Vocabulary and FFN sizes are not part of it.
    init?(stateSignature text: String) {
        let parts = text.split(separator: " ")
        guard parts.count == 5, parts[0].first == "v", let version = ModelVersion(rawValue: String(parts[0].dropFirst())) else { return nil }
        var numbers: [Int] = []
        for (part, letter) in zip(parts.dropFirst(), ["L", "C", "H", "N"]) {
            guard part.first == Character(letter), let n = Int(part.dropFirst()) else { return nil }
            numbers.append(n)
        }
        self.init(version: version, layerCount: numbers[0], embeddingSize: numbers[1], headCount: numbers[2], headSize: numbers[3],
                  vocabularySize: 0, ffnSize: 0)
        guard signature == text else { return nil }
    }
}
