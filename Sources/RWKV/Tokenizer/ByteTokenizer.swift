// ByteTokenizer: the 256-entry vocabulary where a token id is a byte value.
//
// The small trained rwkv.cpp test models and this project's own small models use it. It has no
// end-of-text token: id 0 is the byte 0x00.

/// Token id = byte value, for models with 256 embedding rows.
public struct ByteTokenizer: Tokenizer {
    /// The vocabulary size: one id per byte value.
    public static let size = 256
    private static let allBytes: [UInt8] = Array(0...255)

    public init() {}

    public var vocabularySize: Int { Self.size }
    public var endOfTextToken: Int? { nil }

    public func encode(bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
        bytes.map { Int($0) }
    }

    public func tokenBytes(_ id: Int) -> ArraySlice<UInt8>? {
        guard (0..<Self.size).contains(id) else { return nil }
        return Self.allBytes[id...id]
    }
}
