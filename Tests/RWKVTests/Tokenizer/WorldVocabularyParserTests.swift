// WorldVocabularyParserTests: literal decoding and typed errors for malformed vocabulary files.

import Testing
@testable import RWKV

@Suite struct WorldVocabularyParserTests {
    func parse(_ line: String) throws(WorldVocabularyParser.LineProblem) -> [UInt8] {
        try WorldVocabularyParser.parseLine(ArraySlice(Array(line.utf8))).bytes
    }

    @Test func literalsDecodeLikePython() throws {
        #expect(try parse("1 '\\x00' 1") == [0])
        #expect(try parse("11 '\\n' 1") == [0x0A])
        #expect(try parse("129 b'\\x80' 1") == [0x80])
        #expect(try parse("300 '\\xe9' 2") == [0xC3, 0xA9])  // code point U+00E9 in a str literal
        #expect(try parse("301 'a b' 3") == Array("a b".utf8))  // split at the first and last space
        #expect(try parse("302 \"it's\" 4") == Array("it's".utf8))
        #expect(try parse("303 '\\u200b' 3") == [0xE2, 0x80, 0x8B])
        #expect(try parse("304 '\\\\\\'\\t\\r' 4") == [0x5C, 0x27, 0x09, 0x0D])
        #expect(try parse("305 '中' 3") == Array("中".utf8))
        #expect(try parse("306 b'\\u00' 4") == Array("\\u00".utf8))  // \u is no escape in bytes
        #expect(try parse("307 '\\$' 2") == Array("\\$".utf8))  // unknown escapes keep the backslash
    }

    @Test(arguments: [
        ("12 'ab' 3", "decodes to 2 bytes but the line says 3"),
        ("12 ab 2", "expected a quoted Python str"),
        ("x 'a' 1", "expected a decimal token id"),
        ("12 'a' one", "expected a decimal byte length"),
        ("12'a'", "expected `<id> <literal> <byte length>`"),
        ("12 '\\x4' 1", "needs 2 hex digits"),
        ("12 '\\ud800' 3", "not a Unicode scalar"),
        ("12 'a'b' 3", "unescaped quote"),
        ("12 b'é' 2", "non-ASCII"),
        ("12 '' 0", "is empty"),
    ])
    func malformedLinesAreRejected(line: String, expected: String) {
        let file = Array("1 'a' 1\r\n\(line)\r\n".utf8)
        let error = #expect(throws: TokenizerError.self) { try WorldVocabularyParser.parse(file, path: "v.txt") }
        #expect(error?.code == .malformedVocabulary)
        #expect(error?.line == 2)
        #expect(error?.description.hasPrefix("v.txt:2: ") == true)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }

    /// A complete minimal vocabulary: all 256 single bytes (ids 1...256) plus `extra` lines.
    func vocabulary(_ extra: [String]) -> [UInt8] {
        let singles = (0..<256).map { "\($0 + 1) b'\\x\(hexByte(UInt8($0)))' 1" }
        return Array((singles + extra).joined(separator: "\n").utf8)
    }

    @Test func smallVocabularyEncodesGreedily() throws {
        let tokenizer = try WorldTokenizer(vocabulary: vocabulary(["300 'ab' 2", "301 'abc' 3", "302 'bcd' 3"]))
        #expect(tokenizer.vocabularySize == 303)
        // Greedy: "abc" then "d", even though "a" + "bcd" would also cover the input.
        #expect(tokenizer.encode("abcd") == [301, Int(UInt8(ascii: "d")) + 1])
        #expect(tokenizer.encode("abx") == [300, Int(UInt8(ascii: "x")) + 1])
        #expect(tokenizer.tokenBytes(257) == nil)  // a gap in the ids
    }

    @Test func vocabularyLevelErrors() {
        let cases: [([UInt8], String)] = [
            (vocabulary(["300 'ab' 2", "300 'cd' 2"]), "token id 300 appears twice"),
            (vocabulary(["300 'ab' 2", "301 'ab' 2"]), "have the same bytes"),
            (vocabulary(["0 'ab' 2"]), "id 0 is reserved"),
            (Array("1 'a' 1\n".utf8), "no token for the single byte 0x00"),
            ([], "no entries"),
        ]
        for (file, expected) in cases {
            let error = #expect(throws: TokenizerError.self) { try WorldTokenizer(vocabulary: file, path: "v.txt") }
            #expect(error?.code == .malformedVocabulary)
            #expect(error?.message.contains(expected) == true, "expected “\(expected)”, got \(String(describing: error))")
        }
    }
}
