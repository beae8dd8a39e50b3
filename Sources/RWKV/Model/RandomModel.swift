// Randomly initialised RWKV-7 checkpoints in the official layout, built in memory: for benchmarks
// (`rwkv bench --preset 0.1b`) and tests that need a model of a given size without a file.
//
// Values are drawn so a forward pass stays finite and non-trivial (projections scaled by 1/√fan-in,
// decays in the trained range); they are not meant to produce meaningful text.

/// Sizes of a random RWKV-7 model.
public struct RandomModelSpec: Sendable, Equatable, Codable {
    public var layers: Int               // L
    public var embedding: Int            // C
    public var vocabulary: Int           // V
    public var headSize = 64             // N
    public var decayRank = 64, iclrRank = 64, valueRank = 32, gateRank = 128

    public init(layers: Int, embedding: Int, vocabulary: Int) {
        self.layers = layers
        self.embedding = embedding
        self.vocabulary = vocabulary
        headSize = min(64, embedding)
    }

    /// FFN width, 4·C as in the released models.
    public var ffn: Int { 4 * embedding }

    /// Shapes of the released RWKV-7 "G1" sizes: "0.1b" (L12 C768), "0.4b" (L24 C1024), "1.5b" (L24 C2048).
    public static func preset(_ name: String) -> RandomModelSpec? {
        switch name.lowercased() {
        case "0.1b": return RandomModelSpec(layers: 12, embedding: 768, vocabulary: 65536)
        case "0.4b": return RandomModelSpec(layers: 24, embedding: 1024, vocabulary: 65536)
        case "1.5b":
            var s = RandomModelSpec(layers: 24, embedding: 2048, vocabulary: 65536)
            (s.decayRank, s.iclrRank, s.valueRank, s.gateRank) = (96, 96, 64, 256)
            return s
        default: return nil
        }
    }

    public static let presetNames = ["0.1b", "0.4b", "1.5b"]

    /// The checkpoint's tensors, the large ones stored as `dtype` (F32, F16 or BF16), small ones as F32.
    public func checkpoint(dtype: DType, seed: UInt64 = 1) throws -> Checkpoint {
        guard dtype.isFloatingPoint else { throw WeightError.unsupportedDType(dtype) }
        let c = embedding, h = embedding / headSize
        var random = RandomFill(seed: seed)
        var tensors: [String: Tensor] = [:]
        func add(_ name: String, _ shape: [Int], _ type: DType = .float32, _ value: (inout RandomFill) -> Float) throws {
            tensors[name] = try random.tensor(shape: shape, dtype: type, value)
        }
        func matrix(_ name: String, _ rows: Int, _ cols: Int, big: Bool) throws {
            let scale = 1 / Float(cols).squareRoot()
            try add(name, [rows, cols], big ? dtype : .float32) { $0.uniform() * scale }
        }
        func vector(_ name: String, _ lo: Float, _ hi: Float) throws {
            try add(name, [1, 1, c]) { lo + (hi - lo) * (0.5 + 0.5 * $0.uniform()) }
        }
        try add("emb.weight", [vocabulary, c], dtype) { $0.uniform() * 0.5 }
        try add("blocks.0.ln0.weight", [c]) { _ in 1 }
        try add("blocks.0.ln0.bias", [c]) { _ in 0 }
        for l in 0..<layers {
            let p = "blocks.\(l).", a = p + "att.", f = p + "ffn."
            for n in ["ln1", "ln2"] {
                try add(p + n + ".weight", [c]) { 1 + 0.1 * $0.uniform() }
                try add(p + n + ".bias", [c]) { 0.1 * $0.uniform() }
            }
            for n in ["x_r", "x_w", "x_k", "x_v", "x_a", "x_g"] { try vector(a + n, 0, 1) }
            try vector(a + "w0", -6, -1)
            try vector(a + "a0", -1, 1)
            try vector(a + "v0", -1, 1)
            try vector(a + "k_k", 0.5, 1.5)
            try vector(a + "k_a", 0.5, 1.5)
            for (n, rank) in [("w", decayRank), ("a", iclrRank), ("v", valueRank), ("g", gateRank)] {
                try matrix(a + n + "1", c, rank, big: false)
                try matrix(a + n + "2", rank, c, big: false)
            }
            try add(a + "r_k", [h, headSize]) { 0.5 * $0.uniform() }
            for n in ["receptance", "key", "value", "output"] { try matrix(a + n + ".weight", c, c, big: true) }
            try add(a + "ln_x.weight", [c]) { 1 + 0.1 * $0.uniform() }
            try add(a + "ln_x.bias", [c]) { 0.1 * $0.uniform() }
            try vector(f + "x_k", 0, 1)
            try matrix(f + "key.weight", ffn, c, big: true)
            try matrix(f + "value.weight", c, ffn, big: true)
        }
        try add("ln_out.weight", [c]) { _ in 1 }
        try add("ln_out.bias", [c]) { _ in 0 }
        try matrix("head.weight", vocabulary, c, big: true)
        return Checkpoint(tensors: tensors, metadata: ["generator": "RandomModelSpec seed \(seed)"])
    }
}

/// xorshift64 values in [−1, 1), written straight into tensor storage of the requested dtype.
struct RandomFill {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func uniform() -> Float {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Float(state >> 40) / Float(1 << 23) - 1
    }

    mutating func tensor(shape: [Int], dtype: DType, _ value: (inout RandomFill) -> Float) throws -> Tensor {
        let n = Tensor.elementCount(shape)
        let storage = ByteStorage.allocate(count: n * dtype.byteSize) { out in
            for i in 0..<n {
                let v = value(&self)
                switch dtype {
                case .float16: out.storeBytes(of: floatToHalfBits(v), toByteOffset: 2 * i, as: UInt16.self)
                case .bfloat16: out.storeBytes(of: floatToBFloat16Bits(v), toByteOffset: 2 * i, as: UInt16.self)
                default: out.storeBytes(of: v, toByteOffset: 4 * i, as: Float.self)
                }
            }
        }
        return try Tensor(dtype: dtype, shape: shape, storage: storage)
    }
}
