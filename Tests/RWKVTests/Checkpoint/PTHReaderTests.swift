import Foundation
import Testing
@testable import RWKV

@Suite struct PTHReaderTests {
    typealias S = CheckpointTestSupport

    /// Tensor counts and first embedding values as printed by `torch.load` (torch 2.15) for the
    /// shared rwkv.cpp tiny checkpoints.
    static let tinyModels: [(file: String, count: Int, embFirst: [Float])] = [
        ("tiny-rwkv-5v2-730K.pth", 270, [-0.4195382595062256, 0.2760283946990967, 0.0483168363571167]),
        ("tiny-rwkv-6v0-1m.pth", 342, [-0.01055908203125, -0.0035858154296875, 0.01708984375]),
        ("tiny-rwkv-7v0-834K.pth", 399, [0.00421142578125, 0.0017852783203125, 0.00421142578125]),
    ]

    @Test(.needsSharedData, arguments: tinyModels.indices)
    func readsTorchWrittenTinyModels(index: Int) throws {
        let model = Self.tinyModels[index]
        let checkpoint = try Checkpoint.load(path: TestPaths.shared("rwkv-cpp-tiny/" + model.file))
        #expect(checkpoint.tensors.count == model.count)
        let emb = try #require(checkpoint.tensors["emb.weight"])
        #expect(emb.shape == [256, 64] && emb.dtype == .float32)
        #expect(Array(emb.floats().prefix(3)) == model.embFirst)
        #expect(checkpoint.tensors["head.weight"]?.shape == [256, 64])
        #expect(checkpoint.tensors["blocks.0.ln1.weight"]?.shape == [64])
        // Zero-copy: tensors view the one mapped file.
        #expect(checkpoint.tensors["head.weight"]?.storage === emb.storage)
    }

    @Test(.needsSharedData) func honoursStorageOffsetsOfSharedStorages() throws {
        // In this file x_r..x_g are slices of one 384-element storage (offsets 0, 64, ..., 320).
        let checkpoint = try Checkpoint.load(path: TestPaths.shared("rwkv-cpp-tiny/tiny-rwkv-7v0-834K.pth"))
        #expect(checkpoint.tensors["blocks.0.att.x_w"]?.shape == [1, 1, 64])
        #expect(checkpoint.tensors["blocks.0.att.x_w"].map { Array($0.floats().prefix(2)) } == [0.99609375, 0.9765625])
        #expect(checkpoint.tensors["blocks.0.att.x_g"].map { Array($0.floats().prefix(2)) } == [1.0078125, 0.57421875])
        #expect(checkpoint.tensors["blocks.1.att.time_decay"] == nil)
        let tiny5 = try Checkpoint.load(path: TestPaths.shared("rwkv-cpp-tiny/tiny-rwkv-5v2-730K.pth"))
        #expect(tiny5.tensors["blocks.1.att.time_decay"]?.shape == [8, 8])
    }

    /// Each torch-written fixture against the same tensors written contiguous by the safetensors library.
    @Test(arguments: ["mixed", "strided", "module", "mixed-zip64"])
    func matchesTorchFixture(name: String) throws {
        let checkpoint = try Checkpoint.load(path: TestPaths.fixture("checkpoint/\(name).pth"))
        let expectedName = name == "mixed-zip64" ? "mixed" : name
        let expected = try Checkpoint.load(path: TestPaths.fixture("checkpoint/\(expectedName)-expected.safetensors"))
        #expect(!checkpoint.tensors.isEmpty)
        S.expectIdentical(checkpoint, expected)
    }

    @Test func stridedViewsAreCopiedAndContiguousOnesAreNot() throws {
        let checkpoint = try Checkpoint.load(path: TestPaths.fixture("checkpoint/strided.pth"))
        let base = try #require(checkpoint.tensors["base"])
        #expect(checkpoint.tensors["rows"]?.storage === base.storage)        // offset view: zero-copy
        #expect(checkpoint.tensors["transposed"]?.storage !== base.storage)  // strided: copied
        #expect(checkpoint.tensors["transposed"]?.shape == [6, 4])
        #expect(checkpoint.tensors["expanded"]?.dtype == .bfloat16)
    }

    @Test func nestedDictionaryIsRejected() {
        let error = S.checkpointError { _ = try Checkpoint.load(path: TestPaths.fixture("checkpoint/nested.pth")) }
        guard case let .notATensorDictionary(found) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(found.contains("state_dict"))
    }

    @Test func handWrittenTransposeIsGathered() throws {
        // Storage 0..5 viewed as the transpose of a 2×3 matrix: shape [3, 2], strides [1, 3].
        let storage = try Tensor([0, 1, 2, 3, 4, 5], shape: [6])
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("t.pth").path
        try Checkpoint.writePTH(records: [
            PTHTensorRecord(name: "t", storage: storage, storageOffset: 0, shape: [3, 2], strides: [1, 3]),
            PTHTensorRecord(name: "tail", storage: storage, storageOffset: 4, shape: [2], strides: [1]),
            PTHTensorRecord(name: "broadcast", storage: storage, storageOffset: 5, shape: [2, 2], strides: [0, 0]),
        ], to: path)
        let checkpoint = try Checkpoint.load(path: path)
        #expect(checkpoint.tensors["t"]?.floats() == [0, 3, 1, 4, 2, 5])
        #expect(checkpoint.tensors["tail"]?.floats() == [4, 5])
        #expect(checkpoint.tensors["broadcast"]?.floats() == [5, 5, 5, 5])
    }

    @Test func viewRunningPastItsStorageIsRejected() throws {
        let storage = try Tensor([0, 1, 2, 3, 4, 5], shape: [6])
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("bad.pth").path
        try Checkpoint.writePTH(records: [PTHTensorRecord(name: "bad", storage: storage, storageOffset: 4, shape: [3], strides: [1])], to: path)
        let error = S.checkpointError { _ = try Checkpoint.load(path: path) }
        #expect(error == .tensorOutOfRange(name: "bad", begin: 16, end: 28, available: 24))
        // A stride that walks off the end is caught the same way.
        try Checkpoint.writePTH(records: [PTHTensorRecord(name: "wide", storage: storage, storageOffset: 0, shape: [2, 2], strides: [5, 1])], to: path)
        guard case .tensorOutOfRange(name: "wide", _, _, _) = S.checkpointError({ _ = try Checkpoint.load(path: path) }) else {
            Issue.record("strided overrun not detected"); return
        }
    }

    @Test func storageEntrySmallerThanDeclaredIsRejected() throws {
        var pickle = PickleBuilder()
        pickle.stateDict([try PTHTensorRecord(name: "w", tensor: Tensor([1, 2, 3, 4], shape: [2, 2]))])
        // The pickle declares 4 fp32 elements but the entry holds only 8 bytes.
        let bytes = try S.pthArchive(pickle: pickle.bytes, storages: [S.floatBytes([1, 2])])
        #expect(S.checkpointError { _ = try S.readPTH(bytes) } == .tensorOutOfRange(name: "w", begin: 0, end: 16, available: 8))
    }

    @Test func missingStorageEntryAndCompressedPickleAreNamed() throws {
        var pickle = PickleBuilder()
        pickle.stateDict([try PTHTensorRecord(name: "w", tensor: Tensor([1, 2], shape: [2]))])
        #expect(S.checkpointError { _ = try S.readPTH(S.pthArchive(pickle: pickle.bytes, storages: [])) } == .missingEntry(name: "m/data/0"))
        let compressed = try S.pthArchive(pickle: pickle.bytes, storages: [S.floatBytes([1, 2])], method: 8)
        guard case .unsupportedZipEntry(entry: "m/data.pkl", _) = S.checkpointError({ _ = try S.readPTH(compressed) }) else {
            Issue.record("compressed data.pkl not reported"); return
        }
    }

    @Test func maliciousPickleInsideArchiveIsRefused() throws {
        let pickle: [UInt8] = [0x80, 2] + Array("cposix\nsystem\nX\u{2}\0\0\0ls\u{85}R.".utf8)
        let bytes = try S.pthArchive(pickle: pickle, storages: [])
        #expect(S.checkpointError { _ = try S.readPTH(bytes) } == .forbiddenGlobal(module: "posix", name: "system", offset: 2))
    }

    @Test func archiveWithoutPickleIsRejected() throws {
        let bytes = try S.zip([("m/byteorder", Array("little".utf8), 0)])
        #expect(S.checkpointError { _ = try S.readPTH(bytes) }?.code == "missing_entry")
    }

    /// The RWKV-7 fixtures made by scripts/make_fixtures.py: official layout, bf16, 6 + 33·L tensors.
    @Test func readsV7Fixtures() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("v7")).filter { $0.hasSuffix(".pth") }
        #expect(!names.isEmpty)
        for name in names {
            let checkpoint = try Checkpoint.load(path: TestPaths.fixture("v7/" + name))
            let reference = try Checkpoint.load(path: TestPaths.fixture("v7/" + name.replacingOccurrences(of: ".pth", with: ".reference.safetensors")))
            let layers = try #require(reference.metadata["n_layer"].flatMap(Int.init))
            let embedding = try #require(reference.metadata["n_embd"].flatMap(Int.init))
            let vocabulary = try #require(reference.metadata["vocab"].flatMap(Int.init))
            #expect(checkpoint.tensors.count == 6 + 33 * layers, "\(name)")
            #expect(checkpoint.tensors["emb.weight"]?.shape == [vocabulary, embedding], "\(name)")
            #expect(checkpoint.tensors.values.allSatisfy { $0.dtype == .bfloat16 }, "\(name)")
        }
    }

    /// Every single-byte corruption of a real archive must end in a result or a thrown error, never a trap.
    @Test func corruptedArchivesNeverTrap() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("checkpoint/strided.pth"))))
        var failures = 0
        for position in original.indices {
            for value: UInt8 in [0x00, 0xFF, original[position] ^ 0x80] {
                var bytes = original
                bytes[position] = value
                do { _ = try S.readPTH(bytes) } catch is CheckpointError { failures += 1 }
            }
        }
        // Damage to headers and the pickle is detected (corrupted tensor payloads load silently: no CRC check).
        #expect(failures > original.count / 4)
    }
}
