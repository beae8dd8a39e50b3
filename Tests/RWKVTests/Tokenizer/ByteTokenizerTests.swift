// ByteTokenizerTests: id = byte value, and the UTF-8 rules every tokenizer's decode shares.

import Testing
@testable import RWKV

@Suite struct ByteTokenizerTests {
    let tokenizer = ByteTokenizer()

    @Test func idsAreByteValues() throws {
        #expect(tokenizer.encode("hé\n") == [0x68, 0xC3, 0xA9, 0x0A])
        #expect(tokenizer.encode(bytes: [0, 255, 128]) == [0, 255, 128])
        #expect(try tokenizer.decode([0x68, 0xC3, 0xA9]) == "hé")
        #expect(tokenizer.endOfTextToken == nil)
        #expect(tokenizer.vocabularySize == 256)
    }

    @Test(arguments: [256, -1, 65_535])
    func idsOutsideTheBytesThrow(id: Int) {
        let error = #expect(throws: TokenizerError.self) { try tokenizer.bytes(for: [65, id]) }
        #expect(error?.code == .unknownToken)
        #expect(error?.token == id)
    }

    @Test func strictDecodeRejectsInvalidUTF8AndLossyRepairsIt() {
        let error = #expect(throws: TokenizerError.self) { try tokenizer.decode([0x41, 0xE4, 0xB8]) }
        #expect(error?.code == .invalidUTF8)
        #expect(error?.message.contains("e4 b8 at byte 1") == true, "\(String(describing: error))")
        #expect(tokenizer.decodeLossy([0x41, 0xE4, 0xB8]) == "A\u{FFFD}")
    }

    @Test func lossyDecodingAgreesWithTheStandardLibrary() {
        // Swift's String(decoding:) implements the same "maximal subpart" replacement rule.
        var rng = Xoshiro256StarStar(seed: 9)
        let alphabet: [UInt8] = [0x41, 0x80, 0xBF, 0xC2, 0xC0, 0xE0, 0xA0, 0xED, 0x9F, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF]
        for _ in 0..<3000 {
            let bytes = (0..<Int(rng.next() % 9)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let ids = bytes.map(Int.init)
            #expect(tokenizer.decodeLossy(ids) == String(decoding: bytes, as: UTF8.self), "\(bytes)")
            let strictOK = (try? tokenizer.decode(ids)) != nil
            #expect(strictOK == !String(decoding: bytes, as: UTF8.self).unicodeScalars.contains("\u{FFFD}"), "\(bytes)")
        }
    }
}
