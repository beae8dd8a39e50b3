// Storage formats of weight matrices: plain floats and GGUF's Q8_0 / Q4_0 block quantisation.
//
// The quantised blocks are byte-for-byte what GGUF stores (little-endian, no padding), so a GGUF
// tensor of these types can later be viewed in place. A row is a sequence of blocks; a matrix is
// its rows back to back.

/// How the elements of a `WeightMatrix` are stored.
public enum WeightFormat: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// IEEE single precision, 4 bytes per element.
    case f32
    /// IEEE half precision, 2 bytes per element.
    case f16
    /// bfloat16 (the top half of an fp32), 2 bytes per element.
    case bf16
    /// Blocks of 32: fp16 scale d, then 32 × Int8 q; value = q·d. 34 bytes per 32 elements.
    case q8_0
    /// Blocks of 32: fp16 scale d, then 16 bytes of nibbles; value = (q − 8)·d. 18 bytes per 32 elements.
    case q4_0

    /// Elements per block: 1 for float formats, 32 for the quantised ones.
    public var blockLength: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q8_0: return BlockQ8_0.length
        case .q4_0: return BlockQ4_0.length
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return MemoryLayout<BlockQ8_0>.size
        case .q4_0: return MemoryLayout<BlockQ4_0>.size
        }
    }

    /// Whether this is a block-quantised format (rows must hold whole blocks).
    public var isQuantized: Bool { blockLength > 1 }

    /// The plain float format of a tensor dtype, if it has one.
    public init?(dtype: DType) {
        switch dtype {
        case .float32: self = .f32
        case .float16: self = .f16
        case .bfloat16: self = .bf16
        default: return nil
        }
    }

    public var description: String { rawValue }
}

/// One Q8_0 block as stored: `scale` is fp16 bits, then the 32 signed quants. 34 bytes, no padding.
public struct BlockQ8_0 {
    public static let length = 32
    public var scale: UInt16
    public var quants: (Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8,
                        Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8)
}

/// One Q4_0 block as stored: `scale` is fp16 bits, then 16 bytes where byte i holds element i in its
/// low nibble and element i + 16 in its high nibble (unsigned, offset by 8). 18 bytes, no padding.
public struct BlockQ4_0 {
    public static let length = 32
    public var scale: UInt16
    public var nibbles: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
}

/// Problems building a `WeightMatrix`.
public enum WeightError: Error, CustomStringConvertible, Equatable {
    case notAMatrix(shape: [Int])
    case unsupportedDType(DType)
    case partialBlock(format: WeightFormat, cols: Int)

    public var description: String {
        switch self {
        case let .notAMatrix(shape): return "weight tensor has shape \(shape), expected 2 dimensions (rows, cols)"
        case let .unsupportedDType(dtype): return "weight tensor has dtype \(dtype.rawValue), expected F32, F16 or BF16"
        case let .partialBlock(format, cols):
            return "\(format) needs rows made of whole blocks of \(format.blockLength), but the matrix has \(cols) columns"
        }
    }
}
