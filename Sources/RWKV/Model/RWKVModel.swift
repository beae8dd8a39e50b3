// The public face of a loaded model, whatever its version: load, make a state, run tokens.

import Foundation

/// How to hold a model's weights in memory.
public struct LoadOptions: Sendable, Equatable {
    /// Storage of the large matrices (attention and FFN projections, head). `nil` keeps the
    /// checkpoint's dtype and views the (memory-mapped) file without copying; `.q8_0` / `.q4_0`
    /// quantise at load (matrices whose width is not a multiple of 32 keep the file's dtype);
    /// `.f32`, `.f16`, `.bf16` convert. The embedding table always stays in the file's dtype, since
    /// a token reads one row of it. Small tensors (norms, mixes, low-rank factors) are always fp32.
    public var weightFormat: WeightFormat?

    public init(weightFormat: WeightFormat? = nil) {
        self.weightFormat = weightFormat
    }
}

/// A loaded RWKV language model.
///
/// ```swift
/// let model = try RWKVModel.load(path: "rwkv7-g1-0.1b.pth")
/// var state = model.makeState()
/// let logits = try model.forward([33155, 40213], state: &state)   // 1 × V
/// ```
public struct RWKVModel: Sendable {
    public let config: ModelConfig
    private var network: any RecurrentNetwork

    /// Builds a model from named tensors in the official layout (or a Hugging Face / fla layout, mapped on load).
    /// With default options the large matrices stay in the checkpoint's dtype, viewing its bytes in place.
    public init(checkpoint: Checkpoint, options: LoadOptions = LoadOptions()) throws {
        let checkpoint = try checkpoint.inOfficialLayout()
        let config = try ModelConfig.detect(from: checkpoint.tensors)
        switch config.version {
        case .v7:
            network = try RWKV7Model(tensors: checkpoint.tensors, config: config, options: options)
        case .v5_2, .v6:
            network = try RWKV6Model(tensors: checkpoint.tensors, config: config, options: options)
        case .v4, .v5_0, .v5_1:
            throw ModelError.unsupportedVersion(config.version, detail: "only RWKV-5.2, RWKV-6 and RWKV-7 are supported")
        }
        self.config = config
    }

    /// Loads a checkpoint file (.pth, .safetensors; official, Hugging Face or fla layout) as a model.
    public static func load(path: String, options: LoadOptions = LoadOptions()) throws -> RWKVModel {
        let checkpoint = try Checkpoint.load(path: path)
        do { return try RWKVModel(checkpoint: checkpoint, options: options) } catch let error as ModelError {
            throw ModelError.inFile(path: path, error)
        }
    }

    /// Loads a model file (.pth, .safetensors, .gguf; official, Hugging Face or fla layout).
    ///
    /// ```swift
    /// let model = try RWKVModel(contentsOf: URL(fileURLWithPath: "rwkv7-g1d-0.1b.pth"))
    /// let ids = try model.tokenizer.encode("Hello")
    /// ```
    public init(contentsOf url: URL, options: LoadOptions = LoadOptions()) throws {
        self = try RWKVModel.load(path: url.path, options: options)
    }

    /// The tokenizer of this model, chosen by its vocabulary: bytes (256) or RWKV World (65536).
    public var tokenizer: any Tokenizer {
        get throws(TokenizerError) { try defaultTokenizer(vocabularySize: config.vocabularySize) }
    }

    /// Run every product on the scalar reference kernels (slow; for tests and debugging).
    public var useReferenceKernels: Bool {
        get { network.useReferenceKernels }
        set { network.useReferenceKernels = newValue }
    }

    /// Weight bytes one decoded token reads: every matrix product plus one embedding row.
    public var streamedBytesPerToken: Int { network.streamedBytesPerToken }

    /// The state a new sequence starts from: zeros, or a state-tuned checkpoint's `time_state`.
    public func makeState() -> ModelState { network.initialState() }

    /// Feeds `tokens` from `state` (updated in place) and returns the logits of the last token as a
    /// 1 × V matrix, or of every token (T × V) with `allLogits`.
    public func forward(_ tokens: [Int], state: inout ModelState, allLogits: Bool = false) throws -> Matrix {
        try network.forward(tokens, state: &state, allLogits: allLogits)
    }

    /// Advances B independent sessions by one token each — `tokens[b]` continues `states[b]` — and returns
    /// their logits as a B × V matrix. Every weight matrix is streamed once for the whole batch, so a server
    /// serves B users for little more than the memory traffic of one. Results equal B separate `step` calls.
    public func step(batch tokens: [Int], states: inout [ModelState]) throws -> Matrix {
        try network.forward(batch: tokens, states: &states)
    }

    /// Feeds one token and returns its logits (V).
    public func step(_ token: Int, state: inout ModelState) throws -> [Float] {
        try forward([token], state: &state).data
    }

    /// Feeds a long prompt in chunks of `chunkSize` tokens (bounded scratch memory) and returns the
    /// logits of the last token.
    public func prefill(_ tokens: [Int], state: inout ModelState, chunkSize: Int = 256) throws -> [Float] {
        guard !tokens.isEmpty else { throw ModelError.emptyInput }
        var logits: [Float] = []
        var start = 0
        while start < tokens.count {
            let end = min(start + max(chunkSize, 1), tokens.count)
            logits = try forward(Array(tokens[start..<end]), state: &state).data
            start = end
        }
        return logits
    }
}

/// What every model version provides to `RWKVModel`.
protocol RecurrentNetwork: Sendable {
    var config: ModelConfig { get }
    var useReferenceKernels: Bool { get set }
    var streamedBytesPerToken: Int { get }
    func initialState() -> ModelState
    /// The forward pass over unchecked input; `states` holds one state (a sequence of tokens) or one
    /// state per token (a batch of sessions).
    func run(_ tokens: [Int], states: inout [ModelState], allLogits: Bool) -> Matrix
}

extension RecurrentNetwork {
    /// Runs `tokens` through the model from `state`, updating it. Returns logits of the last token
    /// (1 × V) or, with `allLogits`, of every token (T × V).
    func forward(_ tokens: [Int], state: inout ModelState, allLogits: Bool = false) throws -> Matrix {
        try validate(tokens: tokens, state: state, config: config)
        return ModelState.asBatch(&state) { run(tokens, states: &$0, allLogits: allLogits) }
    }

    /// Advances B independent sessions by one token each (`tokens[b]` for `states[b]`); returns B × V
    /// logits. Each weight matrix is streamed once for the whole batch.
    func forward(batch tokens: [Int], states: inout [ModelState]) throws -> Matrix {
        try validate(batch: tokens, states: states, config: config)
        return run(tokens, states: &states, allLogits: true)
    }
}

extension RWKV7Model: RecurrentNetwork {
    // The config was validated when the model was built, so the shape is always valid.
    func initialState() -> ModelState { (try? ModelState(config: config)) ?? .placeholder }
}

extension RWKV6Model: RecurrentNetwork {}

extension RWKVModel {
    /// A starting state from a file: our state file (`RWKVSTAT`), or a state-tuning checkpoint
    /// (.pth/.safetensors with `blocks.N.att.time_state`, as RWKV-PEFT and RWKV-LM write for v5/v6).
    public func loadState(path: String) throws -> ModelState {
        // FileHandle.readData(ofLength:) traps on a directory; read through the throwing API instead.
        try ModelState.checkRegularFile(path)
        let head = try FileHandle(forReadingAtPath: path).map { h in defer { try? h.close() }; return try h.read(upToCount: 8) ?? Data() }
        if let head, head == Data(ModelState.fileMagic) {
            return try ModelState.load(path: path, config: config)
        }
        return try state(fromTimeState: Checkpoint.load(path: path).tensors)
    }

    /// The state given by `blocks.N.att.time_state` tensors ([head][value][key]) for every layer.
    public func state(fromTimeState tensors: [String: Tensor]) throws -> ModelState {
        guard config.version == .v5_2 || config.version == .v6 else {
            throw ModelError.unsupportedVersion(config.version, detail: "time_state checkpoints are read for RWKV-5.2/6; use a state file for RWKV-7")
        }
        let w = WeightReader(tensors: tensors)
        let (h, n) = (config.headCount, config.headSize)
        var state = try ModelState(config: config)
        for l in 0..<config.layerCount {
            let wkv = transposeHeads(try w.exact("blocks.\(l).att.time_state", [h, n, n]), heads: h, size: n)
            if let i = wkv.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.invalidState(field: "blocks.\(l).att.time_state", reason: "element \(i) is \(wkv[i]); a state holds finite numbers only")
            }
            state.setWKV(wkv, layer: l)
        }
        return state
    }
}
