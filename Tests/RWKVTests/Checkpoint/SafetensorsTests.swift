import Foundation
import Testing
@testable import RWKV

@Suite struct SafetensorsTests {
    typealias S = CheckpointTestSupport

    /// A header + data file built by hand.
    private func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        let length = declaredLength ?? UInt64(json.count)
        return withUnsafeBytes(of: length.littleEndian) { Array($0) } + json + data
    }

    private func read(_ bytes: [UInt8]) throws -> Checkpoint {
        try Checkpoint.readSafetensors(from: ByteStorage(copying: bytes))
    }

    @Test func writesAlignedSortedPaddedFilesThatReadBack() throws {
        let checkpoint = try Checkpoint.load(path: TestPaths.fixture("checkpoint/mixed.pth"))
        var withMetadata = checkpoint
        withMetadata.metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t ctrl \u{1}"]
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("m.safetensors").path
        try withMetadata.writeSafetensors(to: path)

        let back = try Checkpoint.load(path: path)
        S.expectIdentical(back, checkpoint)
        #expect(back.metadata == withMetadata.metadata)

        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = bytes.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect((8 + headerLength) % 8 == 0)
        for (name, tensor) in back.tensors {
            #expect((tensor.byteOffset - 8 - headerLength) % tensor.dtype.byteSize == 0, "\(name) misaligned")
        }
    }

    @Test func readsFilesWrittenByTheReferenceLibrary() throws {
        let expected = try Checkpoint.load(path: TestPaths.fixture("checkpoint/mixed-expected.safetensors"))
        #expect(expected.tensors["w.f16"]?.shape == [4, 2])
        #expect(expected.tensors["w.bf16"]?.dtype == .bfloat16)
        #expect(expected.tensors["ids.i64"]?.ints() == [-3, -2, -1, 0, 1, 2, 3])
        #expect(expected.tensors["ids.i32"]?.ints() == [70000, -1, 5])
        #expect(expected.tensors["bytes.u8"]?.ints() == [0, 200, 255])
        #expect(expected.tensors["scalar"]?.shape == [] && expected.tensors["scalar"]?.floats() == [2.5])
    }

    @Test func headerLengthPastEndOfFileIsRejected() {
        let error = S.checkpointError { _ = try read(file(header: "{}", declaredLength: 500)) }
        #expect(error?.description.contains("runs past the end of the file") == true)
        #expect(S.checkpointError { _ = try read(file(header: "{}", declaredLength: 1 << 40)) }?.description.contains("limit") == true)
        #expect(S.checkpointError { _ = try read([1, 0, 0]) }?.code == "malformed_safetensors_header")
    }

    @Test func badJSONIsRejected() {
        for header in ["{not json", "[1, 2]", "{\"a\": {\"dtype\": \"F32\"}}", "{\"__metadata__\": {\"k\": 1}}"] {
            #expect(S.checkpointError { _ = try read(file(header: header)) }?.code == "malformed_safetensors_header", "\(header)")
        }
    }

    @Test func offsetsOutOfRangeAreRejected() {
        let past = file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])
        #expect(S.checkpointError { _ = try read(past) } == .tensorOutOfRange(name: "w", begin: 0, end: 8, available: 4))
        let reversed = file(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0])
        #expect(S.checkpointError { _ = try read(reversed) }?.code == "tensor_out_of_range")
        let negative = file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: [0, 0, 0, 0])
        #expect(S.checkpointError { _ = try read(negative) }?.code == "tensor_out_of_range")
    }

    @Test func sizeMismatchAndUnknownDTypeAreRejected() {
        let short = file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        guard case .invalidTensor(name: "w", _) = S.checkpointError({ _ = try read(short) }) else { Issue.record("size mismatch"); return }
        let huge = file(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        #expect(S.checkpointError { _ = try read(huge) }?.code == "invalid_tensor")
        let f64 = file(header: #"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        #expect(S.checkpointError { _ = try read(f64) } == .unsupportedDType(name: "w", type: "F64"))
    }

    @Test func outputLoadsInTheReferenceLayoutRules() throws {
        // Data section fully covered with no holes, as the reference library requires.
        let checkpoint = try Checkpoint.load(path: TestPaths.fixture("checkpoint/strided.pth"))
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("s.safetensors").path
        try checkpoint.writeSafetensors(to: path)
        let back = try Checkpoint.load(path: path)
        let dataStart = back.tensors.values.map(\.byteOffset).min() ?? 0
        let covered = back.tensors.values.reduce(0) { $0 + $1.byteCount }
        let fileSize = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(fileSize - dataStart == covered)
        S.expectIdentical(back, checkpoint)
    }

    /// Single-byte corruptions of the length and header end in a result or a thrown error, never a trap.
    @Test func corruptedHeadersNeverTrap() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("checkpoint/mixed-expected.safetensors"))))
        let headerEnd = 8 + original.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        var failures = 0
        for position in 0..<headerEnd {
            for value: UInt8 in [0x00, 0xFF, UInt8(ascii: "9")] {
                var bytes = original
                bytes[position] = value
                do { _ = try read(bytes) } catch is CheckpointError { failures += 1 }
            }
        }
        #expect(failures > headerEnd)
    }
}
