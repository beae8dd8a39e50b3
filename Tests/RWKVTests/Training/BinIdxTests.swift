// RWKV-LM binidx corpora, built byte by byte from the format description.

import Foundation
import Testing
@testable import RWKV

@Suite struct BinIdxTests {
    /// Writes NAME.idx/NAME.bin holding `documents` as u16 tokens (dtype code 8).
    func write(_ documents: [[UInt16]], code: UInt8 = 8, corruptMagic: Bool = false) throws -> String {
        let stem = try TestPaths.temporaryDirectory().appendingPathComponent("corpus").path
        var idx = Data(Array("MMIDIDX".utf8) + [0, 0])
        if corruptMagic { idx[0] = UInt8(ascii: "X") }
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { idx.append(contentsOf: $0) } }
        append(UInt64(1)); idx.append(code)
        append(UInt64(documents.count)); append(UInt64(documents.count + 1))
        for d in documents { append(Int32(d.count)) }
        var pointer: Int64 = 0
        for d in documents { append(pointer); pointer += Int64(d.count * 2) }
        for i in 0...documents.count { append(Int64(i)) }
        var bin = Data()
        for token in documents.joined() { withUnsafeBytes(of: token.littleEndian) { bin.append(contentsOf: $0) } }
        try idx.write(to: URL(fileURLWithPath: stem + ".idx"))
        try bin.write(to: URL(fileURLWithPath: stem + ".bin"))
        return stem
    }

    @Test func readsTheConcatenatedTokenStream() throws {
        let stem = try write([[5, 6, 7], [65529, 0], [300]])
        #expect(try BinIdx.load(path: stem + ".bin") == [5, 6, 7, 65529, 0, 300])
        #expect(try BinIdx.load(path: stem + ".idx") == [5, 6, 7, 65529, 0, 300])
        let data = try TrainingData.load(path: stem + ".bin", tokenizer: WorldTokenizer.bundled(), validationFraction: 0.5)
        #expect(data.tokens == [5, 6, 7, 65529, 0, 300])
        #expect(data.splitIndex == 3)
    }

    @Test func rejectsBadIndexesAndOutOfVocabularyTokens() throws {
        #expect(throws: TrainingError.self) { try BinIdx.load(path: try write([[1, 2]], corruptMagic: true) + ".bin") }
        #expect(throws: TrainingError.self) { try BinIdx.load(path: try write([[1, 2]], code: 7) + ".bin") }
        let stem = try write([[1, 2, 3]])
        try Data([1, 0]).write(to: URL(fileURLWithPath: stem + ".bin"))   // shorter than the index says
        #expect(throws: TrainingError.self) { try BinIdx.load(path: stem + ".bin") }
        // 300 does not fit the byte vocabulary.
        #expect(throws: TrainingError.self) { try TrainingData.load(path: try write([[1, 300]]) + ".bin") }
    }
}
