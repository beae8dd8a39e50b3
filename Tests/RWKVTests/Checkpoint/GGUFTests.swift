// GGUF import: fixture files written by scripts/make_gguf_fixtures.py (gguf-py, llama.cpp's converter
// transforms) from our .pth fixtures; reference values are pip rwkv's logits and gguf-py's dequantisation.

import Foundation
import Testing
@testable import RWKV

@Suite struct GGUFTests {
    func correlation(_ x: [Float], _ y: [Float]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0.0) { $0 + Double($1) } / n, my = y.reduce(0.0) { $0 + Double($1) } / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = Double(x[i]) - mx, dy = Double(y[i]) - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        return sxy / (sxx * syy).squareRoot()
    }

    func logits(_ path: String, _ ref: ReferenceRun) throws -> [Float] {
        let model = try RWKVModel.load(path: path)
        var state = model.makeState()
        return try model.forward(try ref.ints("tokens"), state: &state, allLogits: true).data
    }

    @Test func f16FileMatchesTheReference() throws {
        let ref = try ReferenceRun(TestPaths.fixture("v7/v7-a.reference.safetensors"))
        let checkpoint = try Checkpoint.load(path: TestPaths.fixture("gguf/v7-a-f16.gguf")).inOfficialLayout()
        #expect(checkpoint.metadata["general.architecture"] == "rwkv7")
        #expect(checkpoint.tensors["blocks.0.att.key.weight"]?.dtype == .float16)     // viewed in place
        #expect(checkpoint.tensors["blocks.0.att.v1"] == nil)                         // llama.cpp's dummy dropped
        // bf16 → f16 is exact for these weights, so the pip tolerance applies unchanged.
        expectLogitsClose(try logits(TestPaths.fixture("gguf/v7-a-f16.gguf"), ref), try ref.floats("logits_seq"),
                          vocabulary: 512, label: "v7-a f16 GGUF")
    }

    @Test func quantisedTensorsDequantiseLikeGGUFPy() throws {
        let expected = try Checkpoint.load(path: TestPaths.fixture("gguf/dequant.safetensors")).tensors
        let pairs = [("v7-a-q8_0.gguf", "blk.0.time_mix_key.weight", "blocks.0.att.key.weight"),        // Q8_0
                     ("v7-a-q8_0.gguf", "blk.1.channel_mix_value.weight", "blocks.1.ffn.value.weight"),  // Q4_K
                     ("v6-a-q4_0.gguf", "blk.0.time_mix_key.weight", "blocks.0.att.key.weight")]         // Q4_0
        for (file, ggufName, official) in pairs {
            let ours = try #require(try Checkpoint.load(path: TestPaths.fixture("gguf/" + file)).inOfficialLayout().tensors[official])
            let reference = try #require(expected["\(file):\(ggufName)"])
            #expect(ours.shape == reference.shape, "\(file) \(official)")
            #expect(ours.floats() == reference.floats(), "\(file) \(official) differs from gguf-py")
        }
    }

    @Test(arguments: [("gguf/v7-a-q8_0.gguf", "v7/v7-a.reference.safetensors", 0.99), ("gguf/v6-a-q4_0.gguf", "v6/v6-a.reference.safetensors", 0.95)])
    func quantisedFilesAgreeWithinTheQuantisationError(file: String, reference: String, minimumCorrelation: Double) throws {
        let ref = try ReferenceRun(TestPaths.fixture(reference))
        let ours = try logits(TestPaths.fixture(file), ref), theirs = try ref.floats("logits_seq")
        #expect(correlation(ours, theirs) > minimumCorrelation, "\(file)")
    }

    // Random weights magnify quantisation error (measured: 0.9976 for Q8_0 + one Q4_K matrix, v7-a).

    /// RWKV-6 GGUF files carry the fp16 rescale in their weights; loading multiplies it back out.
    @Test func v6RescaleIsUndone() throws {
        let original = try Checkpoint.load(path: TestPaths.fixture("v6/v6-a.pth")).tensors["blocks.1.att.output.weight"]!.floats()
        let mapped = try Checkpoint.load(path: TestPaths.fixture("gguf/v6-a-q4_0.gguf")).inOfficialLayout().tensors["blocks.1.att.output.weight"]!.floats()
        #expect(correlation(original, mapped) > 0.98)
        let ratio = mapped.map { abs($0) }.reduce(0, +) / original.map { abs($0) }.reduce(0, +)
        #expect(abs(ratio - 1) < 0.1, "magnitude ratio \(ratio) (2 if the rescale were not undone)")
    }

    @Test func truncatedOrDamagedFilesAreErrorsNeverCrashes() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("gguf/v6-a-q4_0.gguf"))))
        let dir = try TestPaths.temporaryDirectory()
        for (i, cut) in stride(from: 4, to: bytes.count, by: 4999).enumerated() {
            let path = dir.appendingPathComponent("cut\(i).gguf").path
            try Data(bytes[0..<cut]).write(to: URL(fileURLWithPath: path))
            #expect(throws: (any Error).self) { _ = try RWKVModel.load(path: path) }
        }
        var damaged = bytes
        damaged[4] = 99   // version 99
        let path = dir.appendingPathComponent("v99.gguf").path
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { _ = try Checkpoint.load(path: path) }
    }
}
