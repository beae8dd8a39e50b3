// WorldTokenizerTests: parity of the World tokenizer with pip rwkv 0.8.32, plus its error paths.

import Foundation
import Testing
@testable import RWKV

@Suite struct WorldTokenizerTests {
    let tokenizer: WorldTokenizer

    init() throws {
        tokenizer = try WorldTokenizer.bundled()
    }

    @Test func bundledVocabularyHasTheExpectedShape() {
        #expect(tokenizer.entryCount == 65_529)
        #expect(tokenizer.vocabularySize == 65_530)
        #expect(tokenizer.endOfTextToken == 0)
    }

    @Test func encodeMatchesPip() throws {
        let vectors = try TokenizerFixtures.vectors()
        try #require(vectors.encode.count > 100)
        for (index, c) in vectors.encode.enumerated() {
            // The fixture's hex guards against the test reading the JSON text differently from pip.
            let hexBytes = try TokenizerFixtures.bytes(hex: c.utf8_hex)
            try #require(Array(c.text.utf8) == hexBytes, "case \(index)")
            #expect(tokenizer.encode(c.text) == c.ids, "case \(index): \(c.text.debugDescription)")
            #expect(try tokenizer.decode(c.ids) == c.text, "case \(index)")
        }
    }

    @Test func decodeMatchesPip() throws {
        let vectors = try TokenizerFixtures.vectors()
        try #require(vectors.decode.contains { $0.text_or_null == nil })
        for (index, c) in vectors.decode.enumerated() {
            let expected = try TokenizerFixtures.bytes(hex: c.utf8_hex)
            #expect(try tokenizer.bytes(for: c.ids) == expected, "case \(index)")
            if let text = c.text_or_null {
                #expect(try tokenizer.decode(c.ids) == text, "case \(index)")
                #expect(tokenizer.decodeLossy(c.ids) == text, "case \(index)")
            } else {
                let error = #expect(throws: TokenizerError.self, "case \(index)") { try tokenizer.decode(c.ids) }
                #expect(error?.code == .invalidUTF8)
                #expect(tokenizer.decodeLossy(c.ids).unicodeScalars.contains("\u{FFFD}"), "case \(index)")
            }
        }
    }

    @Test(.needsSharedData, arguments: ["shakespeare", "austen"])
    func encodeOfBooksMatchesPip(book: String) throws {
        let fixture = try TokenizerFixtures.int32Tensors("books.safetensors")
        let expected = try #require(fixture.tensors[book], "books.safetensors has no tensor \(book)")
        let source = try #require(fixture.metadata["\(book)_source"])
        let byteCount = try #require(Int(fixture.metadata["bytes"] ?? ""))
        let text = try Data(contentsOf: TestPaths.sharedData.appendingPathComponent(source))
        let bytes = [UInt8](text.prefix(byteCount))
        try #require(bytes.count == byteCount)

        let ids = tokenizer.encode(bytes: bytes)
        #expect(ids.count == expected.count)
        if let first = zip(ids, expected).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            Issue.record("first mismatch at token \(first.offset): \(first.element.0) vs pip \(first.element.1)")
        }
        #expect(try tokenizer.bytes(for: expected) == bytes)
    }

    @Test func arbitraryBytesRoundTrip() throws {
        var rng = Xoshiro256StarStar(seed: 7)
        for length in [0, 1, 2, 3, 17, 300, 4096] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let ids = tokenizer.encode(bytes: bytes)
            #expect(ids.allSatisfy { (1..<tokenizer.vocabularySize).contains($0) })
            #expect(try tokenizer.bytes(for: ids) == bytes, "length \(length)")
        }
    }

    @Test func longestMatchNeverLeavesAShorterSplit() throws {
        // Greedy longest match: the first token is the longest entry that prefixes the input.
        let text = Array("                                                                                                                                x".utf8)
        let ids = tokenizer.encode(bytes: text)
        #expect(try tokenizer.bytes(for: [ids[0]]).count == 128)
    }

    @Test(arguments: [0, -1, 65_530, 65_535, 1 << 40])
    func unknownIdsThrowNamingTheId(id: Int) {
        let error = #expect(throws: TokenizerError.self) { try tokenizer.bytes(for: [11, id]) }
        #expect(error?.code == .unknownToken)
        #expect(error?.token == id)
        #expect(error?.description.contains("\(id)") == true)
        #expect(tokenizer.decodeLossy([11, id, 11]) == "\n\u{FFFD}\n")
    }

    @Test func loadsTheSameVocabularyFromAnLFCopy() throws {
        let url = try #require(WorldTokenizer.bundledVocabularyURL())
        let crlf = [UInt8](try Data(contentsOf: url))
        try #require(crlf.contains(0x0D), "the bundled copy is expected to have CRLF line ends")
        let lf = crlf.filter { $0 != 0x0D }  // no token literal contains a raw CR byte
        let fromLF = try WorldTokenizer(vocabulary: lf, path: "lf-copy")
        let fromPath = try WorldTokenizer(contentsOf: url.path)
        for id in 0..<65_531 {
            #expect(fromLF.tokenBytes(id) == tokenizer.tokenBytes(id), "id \(id)")
            #expect(fromPath.tokenBytes(id) == tokenizer.tokenBytes(id), "id \(id)")
        }
    }

    @Test func missingFileIsATypedError() {
        let error = #expect(throws: TokenizerError.self) { try WorldTokenizer(contentsOf: "/nonexistent/vocab.txt") }
        #expect(error?.code == .unreadableVocabulary)
        #expect(error?.path == "/nonexistent/vocab.txt")
    }

    @Test func chosenByVocabularySize() throws {
        #expect(try defaultTokenizer(vocabularySize: 256) is ByteTokenizer)
        #expect(try defaultTokenizer(vocabularySize: 65_536) is WorldTokenizer)
        #expect(try defaultTokenizer(vocabularySize: 65_529) is WorldTokenizer)
        let error = #expect(throws: TokenizerError.self) { try defaultTokenizer(vocabularySize: 50_277) }
        #expect(error?.code == .unsupportedVocabularySize)
        #expect(error?.description.contains("50277") == true)
    }
}
