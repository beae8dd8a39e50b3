// StreamingDecoderTests: characters are never split, garbage becomes U+FFFD promptly.

import Testing
@testable import RWKV

@Suite struct StreamingDecoderTests {
    /// Feeds ids one by one and returns every emitted piece, then the flushed rest.
    func stream(_ ids: [Int], _ tokenizer: any Tokenizer) throws -> [String] {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var pieces = try ids.map { try decoder.append($0) }
        pieces.append(decoder.flush())
        return pieces
    }

    @Test func emojiSplitOverByteTokensIsEmittedWhole() throws {
        let world = try WorldTokenizer.bundled()
        let ids = world.encode("a😀b")
        // "a", the emoji's bytes in three tokens (spec §6.1: [3319, 153, 129]), "b".
        try #require(ids == [98, 3319, 153, 129, 99])
        #expect(try stream(ids, world) == ["a", "", "", "😀", "b", ""])
    }

    @Test func everyPieceIsWholeCharactersForMixedText() throws {
        let text = "中文测试 ÿ 😀 naïve café 👍🏽 κόσμε ☃"
        for tokenizer in [try WorldTokenizer.bundled() as any Tokenizer, ByteTokenizer()] {
            let pieces = try stream(tokenizer.encode(text), tokenizer)
            #expect(pieces.joined() == text)
            #expect(pieces.allSatisfy { !$0.unicodeScalars.contains("\u{FFFD}") })
        }
    }

    @Test func byteTokensOfCJKWaitForTheLastByte() throws {
        let bytes = Array("中".utf8)  // e4 b8 ad
        #expect(try stream(bytes.map(Int.init), ByteTokenizer()) == ["", "", "中", ""])
    }

    @Test func invalidBytesBecomeReplacementAsSoonAsCertain() throws {
        let byte = ByteTokenizer()
        // 0x80 can never start a character: replaced at once, not held.
        #expect(try stream([0x80, 0x41], byte) == ["\u{FFFD}", "A", ""])
        // e4 then 'A': the started character is broken by 'A'.
        #expect(try stream([0xE4, 0x41], byte) == ["", "\u{FFFD}A", ""])
        // ed a0: a surrogate, invalid at the second byte (maximal subpart is one byte each).
        #expect(try stream([0xED, 0xA0, 0x80], byte) == ["", "\u{FFFD}\u{FFFD}", "\u{FFFD}", ""])
        // A truncated character at the end is flushed as one U+FFFD.
        #expect(try stream([0xF0, 0x9F, 0x98], byte) == ["", "", "", "\u{FFFD}"])
    }

    @Test func unknownIdThrowsAndLeavesStateIntact() throws {
        let world = try WorldTokenizer.bundled()
        var decoder = StreamingDecoder(tokenizer: world)
        #expect(try decoder.append(229) == "")  // 0xe4
        let error = #expect(throws: TokenizerError.self) { try decoder.append(0) }
        #expect(error?.token == 0)
        #expect(decoder.hasPendingBytes)
        #expect(try decoder.append(contentsOf: [185, 174]) == "中")  // b8 ad
        #expect(decoder.flush() == "")
    }
}
