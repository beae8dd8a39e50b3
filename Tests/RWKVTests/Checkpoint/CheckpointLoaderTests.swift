import Foundation
import Testing
@testable import RWKV

@Suite struct CheckpointLoaderTests {
    typealias S = CheckpointTestSupport

    @Test func pthToSafetensorsToPthIsBitExact() throws {
        let source = try Checkpoint.load(path: TestPaths.fixture("v7/v7-a.pth"))
        let dir = try TestPaths.temporaryDirectory()
        let st = dir.appendingPathComponent("tiny.safetensors").path
        let pth = dir.appendingPathComponent("tiny.pth").path
        try source.write(to: st)
        let viaSafetensors = try Checkpoint.load(path: st)
        S.expectIdentical(viaSafetensors, source)
        try viaSafetensors.write(to: pth)
        S.expectIdentical(try Checkpoint.load(path: pth), source)
        // Only the two outputs remain: the atomic writer cleaned up its temporary files.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["tiny.pth", "tiny.safetensors"])
    }

    @Test func forcedZip64ArchivesRoundTrip() throws {
        let source = try Checkpoint.load(path: TestPaths.fixture("checkpoint/mixed.pth"))
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("z.pth").path
        let records = try source.tensors.sorted { $0.key < $1.key }.map { try PTHTensorRecord(name: $0.key, tensor: $0.value) }
        try Checkpoint.writePTH(records: records, to: path, forceZip64: true)
        S.expectIdentical(try Checkpoint.load(path: path), source)
    }

    @Test func floatConversionMatchesTorchRounding() throws {
        let reference = try Checkpoint.load(path: TestPaths.fixture("checkpoint/conversion.safetensors"))
        let f32 = try #require(reference.tensors["f32"])
        let pairs: [(DType, String)] = [(.bfloat16, "as_bf16"), (.float16, "as_f16")]
        for (dtype, name) in pairs {
            let converted = try Checkpoint(tensors: ["x": f32]).convertingFloats(to: dtype)
            let expected = try #require(reference.tensors[name])
            #expect(converted.tensors["x"]?.dtype == dtype)
            #expect(converted.tensors["x"].map { Array($0.rawBytes) } == Array(expected.rawBytes), "\(name)")
        }
        for (source, name) in [("as_bf16", "bf16_as_f32"), ("as_f16", "f16_as_f32")] {
            let widened = try Checkpoint(tensors: ["x": #require(reference.tensors[source])]).convertingFloats(to: .float32)
            #expect(widened.tensors["x"].map { Array($0.rawBytes) } == reference.tensors[name].map { Array($0.rawBytes) }, "\(name)")
        }
        let ints = try Checkpoint.load(path: TestPaths.fixture("checkpoint/mixed.pth")).convertingFloats(to: .bfloat16)
        #expect(ints.tensors["ids.i64"]?.dtype == .int64)
        #expect(throws: CheckpointError.self) { try Checkpoint(tensors: [:]).convertingFloats(to: .int32) }
    }

    @Test func emptyFileIsNamed() throws {
        let path = try S.temporaryFile([], name: "empty.pth")
        #expect(S.checkpointError { _ = try Checkpoint.load(path: path) } == .emptyFile(path: path))
    }

    @Test func directoryAndMissingFileAreNamed() throws {
        let dir = try TestPaths.temporaryDirectory().path
        // A directory is read as a Hugging Face model directory; an empty one says what it lacks.
        #expect(S.checkpointError { _ = try Checkpoint.load(path: dir) }
                == .cannotRead(path: dir, reason: "a model directory needs model.safetensors.index.json or model.safetensors"))
        let missing = dir + "/nope.pth"
        #expect(S.checkpointError { _ = try Checkpoint.load(path: missing) } == .fileNotFound(path: missing))
    }

    @Test func unknownAndGGUFFormatsAreNamed() throws {
        let text = try S.temporaryFile(Array("hello world, not a model".utf8))
        guard case .unknownFormat(_, let first) = S.checkpointError({ _ = try Checkpoint.load(path: text) }) else {
            Issue.record("unknown format not reported"); return
        }
        #expect(first == Array("hello wo".utf8))
        let gguf = try S.temporaryFile(Array("GGUF".utf8) + [3, 0, 0, 0])
        // A GGUF header cut after its version is a truncated GGUF, reported as such.
        guard case .malformedGGUF(let reason)? = S.checkpointError({ _ = try Checkpoint.load(path: gguf) })?.underlying else {
            Issue.record("truncated GGUF not reported"); return
        }
        #expect(reason.contains("truncated"))
    }

    @Test func readerErrorsCarryThePath() throws {
        let bytes = try S.zip([("m/data/0", [1, 2, 3], 0)])
        let path = try S.temporaryFile(Array(bytes.prefix(bytes.count - 5)), name: "cut.pth")
        do {
            _ = try Checkpoint.load(path: path)
            Issue.record("truncated file loaded")
        } catch let error as CheckpointError {
            guard case .inFile(path, .malformedZip) = error else { Issue.record("\(error)"); return }
            #expect(error.description.hasPrefix(path))
        }
    }

    @Test func failedWriteLeavesNothingBehind() throws {
        let dir = try TestPaths.temporaryDirectory()
        let checkpoint = Checkpoint(tensors: ["a": try Tensor([1, 2], shape: [2])])
        let inMissingFolder = dir.appendingPathComponent("no/such/dir/x.pth").path
        #expect(S.checkpointError { try checkpoint.write(to: inMissingFolder) }?.code == "write_failed")
        #expect(S.checkpointError { try checkpoint.write(to: dir.appendingPathComponent("x.bin").path) }?.code == "unknown_output_format")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        // Overwriting an existing file replaces it whole.
        let path = dir.appendingPathComponent("x.safetensors").path
        try Checkpoint(tensors: ["old": try Tensor([9], shape: [1])]).write(to: path)
        try checkpoint.write(to: path)
        #expect(try Checkpoint.load(path: path).tensors.keys.sorted() == ["a"])
    }

    @Test func formatFromExtension() {
        #expect(CheckpointFormat(pathExtensionOf: "/a/b.model.PTH") == .pth)
        #expect(CheckpointFormat(pathExtensionOf: "x.pt") == .pth)
        #expect(CheckpointFormat(pathExtensionOf: "dir.safetensors/x") == nil)
        #expect(CheckpointFormat(pathExtensionOf: "m.safetensors") == .safetensors)
        #expect(Checkpoint.archiveFolderName(for: "/tmp/my model.v1.pth") == "my_model.v1")
    }
}
