// WorldTokenizer: the RWKV World vocabulary (`rwkv_vocab_v20230424.txt`) used by every World,
// G0 and G1 model of versions 5, 6 and 7 (spec §6.1).
//
// Encoding is greedy longest match on UTF-8 bytes (`LongestMatchTrie`); decoding concatenates the
// tokens' bytes. Id 0 is the end-of-text token: it is not in the file, `encode` never produces it,
// and `bytes(for:)` rejects it like any id the file does not define (pip would return U+FFFD).
// The package ships the vocabulary as a resource; `bundled()` parses it once per process.

import Foundation

/// The RWKV World tokenizer.
///
/// ```swift
/// let tokenizer = try WorldTokenizer.bundled()
/// tokenizer.encode("\n\n")                 // [261]
/// try tokenizer.decode([33155, 40213])     // "Hello world"
/// ```
public struct WorldTokenizer: Tokenizer {
    /// The end-of-document id (`<|endoftext|>`).
    public static let endOfText = 0
    /// Largest id accepted in a vocabulary file; far above the real 65529, it only bounds memory.
    public static let maximumTokenID = 1 << 20

    public let vocabularySize: Int
    public var endOfTextToken: Int? { Self.endOfText }
    /// Number of entries in the vocabulary file.
    public let entryCount: Int

    private let trie: LongestMatchTrie
    /// Bytes of all tokens, concatenated; id `i` owns `pieceBytes[pieceStart[i]..<pieceStart[i + 1]]`.
    /// Ids the file does not define own an empty range (the file has no empty tokens).
    private let pieceBytes: [UInt8]
    private let pieceStart: [Int]

    /// Loads a vocabulary file in the `rwkv_vocab_v20230424.txt` format.
    public init(contentsOf path: String) throws(TokenizerError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError(code: .unreadableVocabulary, message: "cannot read the vocabulary file (\(error.localizedDescription))", path: path)
        }
        try self.init(vocabulary: [UInt8](data), path: path)
    }

    /// Parses vocabulary file contents. `path` only labels errors.
    public init(vocabulary: [UInt8], path: String? = nil) throws(TokenizerError) {
        let entries = try WorldVocabularyParser.parse(vocabulary, path: path)
        try self.init(entries: entries, path: path)
    }

    init(entries: [VocabularyEntry], path: String?) throws(TokenizerError) {
        func problem(_ message: String) -> TokenizerError {
            TokenizerError(code: .malformedVocabulary, message: message, path: path)
        }
        guard !entries.isEmpty else { throw problem("the vocabulary file has no entries") }
        var maxID = 0
        for entry in entries {
            guard (1...Self.maximumTokenID).contains(entry.id) else {
                throw problem("token id \(entry.id) is outside 1...\(Self.maximumTokenID) (id 0 is reserved for end of text)")
            }
            maxID = max(maxID, entry.id)
        }
        var lengths = [Int](repeating: -1, count: maxID + 1)
        for entry in entries {
            guard lengths[entry.id] < 0 else { throw problem("token id \(entry.id) appears twice") }
            lengths[entry.id] = entry.bytes.count
        }
        var pieceStart = [Int](repeating: 0, count: maxID + 2)
        for id in 0...maxID { pieceStart[id + 1] = pieceStart[id] + max(0, lengths[id]) }
        var pieceBytes = [UInt8](repeating: 0, count: pieceStart[maxID + 1])
        for entry in entries {
            pieceBytes.replaceSubrange(pieceStart[entry.id]..<pieceStart[entry.id + 1], with: entry.bytes)
        }
        do {
            self.trie = try LongestMatchTrie(entries: entries)
        } catch {
            var located = error
            located.path = path
            throw located
        }
        self.vocabularySize = maxID + 1
        self.entryCount = entries.count
        self.pieceBytes = pieceBytes
        self.pieceStart = pieceStart
    }

    public func encode(bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
        trie.encode(bytes)
    }

    public func tokenBytes(_ id: Int) -> ArraySlice<UInt8>? {
        guard id >= 0 && id < vocabularySize else { return nil }
        let range = pieceStart[id]..<pieceStart[id + 1]
        return range.isEmpty ? nil : pieceBytes[range]
    }

    // MARK: - The bundled vocabulary

    /// The vocabulary shipped with the package, parsed on first use and shared afterwards.
    public static func bundled() throws(TokenizerError) -> WorldTokenizer {
        try bundledResult.get()
    }

    private static let bundledResult: Result<WorldTokenizer, TokenizerError> = {
        guard let url = bundledVocabularyURL() else {
            return .failure(TokenizerError(
                code: .unreadableVocabulary,
                message: "the package resource rwkv_vocab_v20230424.txt was not found; keep the "
                    + "swift-rwkv_RWKV resource bundle next to the executable or load a vocabulary file by path"))
        }
        do throws(TokenizerError) {
            return .success(try WorldTokenizer(contentsOf: url.path))
        } catch {
            return .failure(error)
        }
    }()

    /// Location of the bundled vocabulary file, if the resource bundle can be found.
    public static func bundledVocabularyURL() -> URL? {
        #if os(Linux)
        // SwiftPM's generated `Bundle.module` traps when its bundle is missing (for example, an
        // executable copied without its resources); on Linux it looks next to the executable,
        // so check that first and report a typed error instead.
        let expected = Bundle.main.bundleURL.appendingPathComponent("swift-rwkv_RWKV.resources").path
        guard FileManager.default.fileExists(atPath: expected) else { return nil }
        #endif
        return Bundle.module.url(forResource: "rwkv_vocab_v20230424", withExtension: "txt")
    }
}
