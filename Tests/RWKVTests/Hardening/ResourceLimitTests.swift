// Resource limits (issue 13 item 3): inputs that claim enormous sizes or nest without end are refused
// before anything of that size is allocated. Each test runs in milliseconds and allocates kilobytes.

import Foundation
import Testing
@testable import RWKV

@Suite("Resource limits")
struct ResourceLimitTests {
    typealias S = CheckpointTestSupport

    private func readPickle(_ bytes: [UInt8]) throws -> PickleValue {
        try bytes.withUnsafeBytes { try PickleReader.read($0) }
    }

    @Test("A pickle nested 100,000 deep (lists, tuples, marks) is refused")
    func deepPickle() {
        let lists: [UInt8] = [0x80, 2] + [UInt8](repeating: 0x5D, count: 100_000) + [UInt8](repeating: 0x61, count: 99_999) + [0x2E]
        #expect(S.checkpointError { _ = try readPickle(lists) }?.description.contains("nested deeper") == true)
        let tuples: [UInt8] = [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        #expect(S.checkpointError { _ = try readPickle(tuples) }?.description.contains("nested deeper") == true)
        let marks: [UInt8] = [0x80, 2] + [UInt8](repeating: 0x28, count: 100_000) + [0x2E]
        #expect(S.checkpointError { _ = try readPickle(marks) } != nil)
    }

    @Test("Memo index 2^62: stored sparsely, an unknown index is an error")
    func hugeMemoIndex() {
        // N, PUT 4611686018427387904, GET 4611686018427387905 → never stored.
        let put = Array("p4611686018427387904\n".utf8), get = Array("g4611686018427387905\n".utf8)
        let bytes: [UInt8] = [0x80, 2, 0x4E] + put + get + [0x2E]
        #expect(S.checkpointError { _ = try readPickle(bytes) }?.description.contains("never stored") == true)
        let negative: [UInt8] = [0x80, 2, 0x4E] + Array("p-1\n".utf8) + [0x2E]
        #expect(S.checkpointError { _ = try readPickle(negative) } != nil)
    }

    @Test("A safetensors header claiming gigabytes is refused from the 8-byte length alone")
    func hugeSafetensorsHeader() throws {
        for claimed in [UInt64(4) << 30, UInt64(200) << 20, UInt64.max, 1000] {
            let bytes = withUnsafeBytes(of: claimed.littleEndian) { Array($0) } + Array("{\"a\":1}".utf8)
            let error = S.checkpointError { _ = try Checkpoint.readSafetensors(from: ByteStorage(copying: bytes)) }
            guard case .malformedSafetensorsHeader = error else { Issue.record("\(String(describing: error))"); return }
        }
    }

    @Test("A GGUF claiming 2^40 strings, 2^40 tensors or a 2^40-byte string is refused")
    func hugeGGUFCounts() throws {
        func load(_ bytes: [UInt8]) -> CheckpointError? {
            S.checkpointError { _ = try Checkpoint.readGGUFForTests(bytes) }
        }
        let magic = Array("GGUF".utf8) + GGUFBuilder.le(UInt32(3))
        // One metadata entry: an array of 2^40 strings.
        let strings = magic + GGUFBuilder.le(UInt64(0)) + GGUFBuilder.le(UInt64(1)) + GGUFBuilder.string("tokenizer.ggml.tokens")
            + GGUFBuilder.le(UInt32(9)) + GGUFBuilder.le(UInt32(8)) + GGUFBuilder.le(UInt64(1) << 40)
        #expect(load(strings)?.description.contains("implausible") == true)
        let tensors = magic + GGUFBuilder.le(UInt64(1) << 40) + GGUFBuilder.le(UInt64(0))
        #expect(load(tensors)?.description.contains("implausible") == true)
        let longString = magic + GGUFBuilder.le(UInt64(0)) + GGUFBuilder.le(UInt64(1)) + GGUFBuilder.le(UInt64(1) << 40)
        #expect(load(longString)?.description.contains("implausible") == true)
        // 2^24 strings claimed (under the count limit) in a tiny file: truncated, not 2^24 allocations.
        let many = magic + GGUFBuilder.le(UInt64(0)) + GGUFBuilder.le(UInt64(1)) + GGUFBuilder.string("k")
            + GGUFBuilder.le(UInt32(9)) + GGUFBuilder.le(UInt32(8)) + GGUFBuilder.le(UInt64(1) << 24)
        #expect(load(many)?.description.contains("truncated") == true)
    }

    @Test("A state file header length past the end is truncation, not an allocation")
    func hugeStateHeader() throws {
        let config = ModelConfig(version: .v7, layerCount: 1, embeddingSize: 8, headCount: 1, headSize: 8, vocabularySize: 4, ffnSize: 32)
        var data = Data("RWKVSTAT".utf8)
        data += [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16)
        #expect(throws: StateFileError.self) { _ = try ModelState.decode(data, path: "x", config: config) }
    }
}

extension Checkpoint {
    /// GGUF bytes held in memory (tests).
    static func readGGUFForTests(_ bytes: [UInt8]) throws -> Checkpoint {
        try GGUF.read(from: ByteStorage(copying: bytes))
    }
}
