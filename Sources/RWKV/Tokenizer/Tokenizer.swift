// Tokenizer: the protocol every RWKV vocabulary implements, its error type, and the choice of
// tokenizer from a model's embedding row count.
//
// A tokenizer here maps bytes to ids and ids back to bytes; nothing more. It does not add special
// tokens, normalise text or split words: RWKV's tokenizers encode raw UTF-8 bytes (spec §6).
// Streaming output lives in `StreamingDecoder`, stop strings in Sampling/.

/// Maps text to token ids and back.
///
/// Encoding never fails: every byte sequence has an encoding. Decoding fails on ids the vocabulary
/// does not define (`bytes(for:)`, `decode(_:)`) and on byte sequences that are not UTF-8
/// (`decode(_:)`); `decodeLossy(_:)` never fails.
///
/// ```swift
/// let tokenizer = try WorldTokenizer.bundled()
/// let ids = tokenizer.encode("Hello world\n\n")   // [33155, 40213, 261]
/// let text = try tokenizer.decode(ids)             // "Hello world\n\n"
/// ```
public protocol Tokenizer: Sendable {
    /// One past the largest id this tokenizer can name (decodable ids and the end-of-text id).
    var vocabularySize: Int { get }

    /// The id that marks the end of a document, if the vocabulary has one (World: 0).
    /// It is never produced by `encode` and has no bytes.
    var endOfTextToken: Int? { get }

    /// Encodes raw bytes; the core every other encode call reaches.
    func encode(bytes: UnsafeBufferPointer<UInt8>) -> [Int]

    /// The bytes of one id, or nil if the vocabulary does not define it.
    func tokenBytes(_ id: Int) -> ArraySlice<UInt8>?
}

extension Tokenizer {
    /// Encodes the UTF-8 bytes of `text`.
    public func encode(_ text: String) -> [Int] {
        var text = text
        return text.withUTF8 { encode(bytes: $0) }
    }

    /// Encodes any byte collection (for example, data that is not valid UTF-8).
    public func encode(bytes: some Collection<UInt8>) -> [Int] {
        if let ids = bytes.withContiguousStorageIfAvailable({ encode(bytes: $0) }) { return ids }
        return Array(bytes).withUnsafeBufferPointer { encode(bytes: $0) }
    }

    /// The concatenated bytes of `ids`. Throws `unknownToken` for an id without bytes, which
    /// includes the end-of-text id: pip's decode would silently turn the whole result into U+FFFD.
    public func bytes(for ids: some Sequence<Int>) throws(TokenizerError) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids {
            guard let piece = tokenBytes(id) else { throw TokenizerError.unknownToken(id, in: self) }
            out.append(contentsOf: piece)
        }
        return out
    }

    /// Decodes `ids` to text, strictly: unknown ids and bytes that are not UTF-8 throw.
    public func decode(_ ids: some Sequence<Int>) throws(TokenizerError) -> String {
        let bytes = try bytes(for: ids)
        if let bad = UTF8Scanner.firstInvalidOffset(in: bytes) {
            throw TokenizerError.invalidUTF8(bytes: bytes, offset: bad)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes `ids` to text, never failing: each maximal invalid UTF-8 subsequence, each truncated
    /// character at the end, and each unknown id becomes one U+FFFD.
    public func decodeLossy(_ ids: some Sequence<Int>) -> String {
        var out = ""
        var pending: [UInt8] = []
        for id in ids {
            if let piece = tokenBytes(id) {
                pending.append(contentsOf: piece)
            } else {
                out += UTF8Scanner.decodeLossy(pending) + "\u{FFFD}"
                pending.removeAll(keepingCapacity: true)
            }
        }
        return out + UTF8Scanner.decodeLossy(pending)
    }
}

/// The tokenizer for a model whose embedding has `vocabularySize` rows.
///
/// 256 rows: `ByteTokenizer` (the tiny rwkv.cpp test models and this project's small models).
/// 65529…65536 rows: the bundled RWKV World vocabulary (65536 is what World models ship with;
/// ids above 65529 are padding). Anything else throws: the Pile (GPT-NeoX) tokenizer is not
/// implemented (spec §6.2).
public func defaultTokenizer(vocabularySize: Int) throws(TokenizerError) -> any Tokenizer {
    switch vocabularySize {
    case ByteTokenizer.size: return ByteTokenizer()
    case 65529...65536: return try WorldTokenizer.bundled()
    default:
        throw TokenizerError(
            code: .unsupportedVocabularySize,
            message: "no tokenizer for a model with \(vocabularySize) embedding rows; expected 256 (bytes) "
                + "or 65529...65536 (RWKV World). Pile models (50277/50304 rows) are not supported")
    }
}

/// A failure to load a vocabulary, to decode ids, or to choose a tokenizer.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is, for code that reacts to it.
    public enum Code: String, Sendable {
        case unknownToken, invalidUTF8, unreadableVocabulary, malformedVocabulary, unsupportedVocabularySize
    }

    public let code: Code
    /// What failed and what was expected.
    public let message: String
    /// The offending token id, for `unknownToken`.
    public var token: Int? = nil
    /// The vocabulary file, for load errors.
    public var path: String? = nil
    /// 1-based line in the vocabulary file, for `malformedVocabulary`.
    public var line: Int? = nil

    public var description: String {
        var parts: [String] = []
        if let path { parts.append(line.map { "\(path):\($0)" } ?? path) } else if let line { parts.append("line \(line)") }
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    static func unknownToken(_ id: Int, in tokenizer: some Tokenizer) -> TokenizerError {
        let detail = id == tokenizer.endOfTextToken ? "it is the end-of-text token, which has no text"
            : (0..<tokenizer.vocabularySize).contains(id) ? "the vocabulary has no entry with this id"
            : "expected an id in 0..<\(tokenizer.vocabularySize)"
        return TokenizerError(code: .unknownToken, message: "unknown token id \(id) (\(detail))", token: id)
    }

    static func invalidUTF8(bytes: [UInt8], offset: Int) -> TokenizerError {
        let window = bytes[offset..<min(bytes.count, offset + 4)].map(hexByte).joined(separator: " ")
        return TokenizerError(
            code: .invalidUTF8,
            message: "the tokens' bytes are not valid UTF-8: found \(window) at byte \(offset) of \(bytes.count); "
                + "use decodeLossy or StreamingDecoder for partial characters")
    }
}

/// Two lowercase hex digits, for error messages.
func hexByte(_ byte: UInt8) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}
