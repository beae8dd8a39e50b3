// Training run mechanics: resume reproduces an uninterrupted run, the official init, the schedule,
// data windows, and the export round trip through the .pth writer/reader.

import Foundation
import Testing
@testable import RWKV

@Suite("Training session")
struct TrainingSessionTests {
    static let dims = RWKV7Dimensions(layers: 2, embedding: 16, headSize: 8, vocabulary: 256,
                                      decayRank: 4, iclrRank: 4, valueRank: 4, gateRank: 8)
    static let settings = TrainingRunSettings(batch: 2, context: 16, seed: 7, validationBatches: 2)

    static func corpus() -> TrainingData {
        let text = String(repeating: "To be, or not to be, that is the question. ", count: 40)
        return TrainingData(tokens: text.utf8.map { Int32($0) })
    }

    static func optimizer() -> OptimizerSettings {
        var o = OptimizerSettings()
        o.lrInit = 1e-2; o.lrFinal = 1e-3; o.warmupSteps = 2; o.tokensPerStep = 32; o.exitTokens = 6 * 32
        return o
    }

    @Test("Resuming from a checkpoint repeats the uninterrupted run's losses exactly")
    func resumeReproducesLosses() throws {
        let full = try TrainingSession(dimensions: Self.dims, settings: Self.settings, optimizer: Self.optimizer(), data: Self.corpus())
        let expected = try (0..<6).map { _ in try full.trainStep().loss }
        #expect(expected.last! < expected.first!, "loss should fall on a repetitive text: \(expected)")

        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("resume.bin").path
        let first = try TrainingSession(dimensions: Self.dims, settings: Self.settings, optimizer: Self.optimizer(), data: Self.corpus())
        var losses = try (0..<3).map { _ in try first.trainStep().loss }
        try first.saveResumeCheckpoint(path: path)
        let resumed = try TrainingSession.resume(path: path, settings: Self.settings, data: Self.corpus())
        #expect(resumed.step == 3)
        losses += try (0..<3).map { _ in try resumed.trainStep().loss }
        #expect(losses == expected)

        var other = Self.settings
        other.seed = 8
        #expect(throws: TrainingError.self) { try TrainingSession.resume(path: path, settings: other, data: Self.corpus()) }
    }

    @Test("Official init values (spec §9.1) and orthogonal matrices")
    func officialInit() throws {
        let d = try RWKV7Dimensions.official(layers: 2, embedding: 128, vocabulary: 64)
        let ranks: [Int] = [d.decayRank, d.iclrRank, d.valueRank, d.gateRank]
        #expect(ranks == [32, 32, 32, 64])
        let ck = try RWKV7Initializer.checkpoint(dimensions: d, seed: 1)
        #expect(ck.tensors.count == 6 + 33 * 2)
        let kK = try #require(ck.tensors["blocks.1.att.k_k"]).floats()
        #expect(abs(kK[0] - 0.76) < 1e-6 && abs(kK[127] - 0.66) < 1e-6)
        let output = try #require(ck.tensors["blocks.0.att.output.weight"]).floats()
        #expect(output.allSatisfy { (x: Float) -> Bool in x == 0 })
        #expect(abs(try #require(ck.tensors["blocks.0.att.ln_x.weight"]).floats()[0] - Float(pow(0.5, 0.7))) < 1e-6)
        // w0 at n = 0, layer 0: −6 + 0 + 0.5 + 2.5·zigzag(0) = −5.5 − 2.5 = −8
        #expect(abs(try #require(ck.tensors["blocks.0.att.w0"]).floats()[0] + 8) < 1e-5)
        // receptance: orthogonal (C×C), so Wᵀ·W = I
        let r = try #require(ck.tensors["blocks.0.att.receptance.weight"]).floats()
        var worst: Float = 0
        for i in 0..<8 { for j in 0..<8 {
            var s: Float = 0
            for k in 0..<128 { s += r[k * 128 + i] * r[k * 128 + j] }
            worst = max(worst, abs(s - (i == j ? 1 : 0)))
        } }
        #expect(worst < 1e-4)
        // key: gain 0.1 → column norms 0.1
        let k = try #require(ck.tensors["blocks.0.att.key.weight"]).floats()
        let norm = (0..<128).reduce(Float(0)) { $0 + k[$1 * 128] * k[$1 * 128] }.squareRoot()
        #expect(abs(norm - 0.1) < 1e-4)
    }

    @Test("Schedule: warm-up from 1 %, cosine to lr_final")
    func schedule() {
        var o = OptimizerSettings()
        o.lrInit = 1e-3; o.lrFinal = 1e-4; o.warmupSteps = 10; o.tokensPerStep = 100; o.exitTokens = 110 * 100
        #expect(abs(o.learningRate(step: 0) - 1e-5) < 1e-12)
        #expect(abs(o.learningRate(step: 10) - 1e-3) < 1e-12)
        #expect(abs(o.learningRate(step: 60) - 5.5e-4) < 1e-12)
        #expect(abs(o.learningRate(step: 110) - 1e-4) < 1e-12)
    }

    @Test("Parameter groups follow RWKV-LM")
    func groups() throws {
        let specs = Dictionary(uniqueKeysWithValues: Self.dims.parameterSpecs.map { ($0.name, $0.group) })
        #expect(specs["blocks.0.att.w0"] == .decayBias)
        #expect(specs["emb.weight"] == .decayed && specs["head.weight"] == .decayed && specs["blocks.1.ffn.key.weight"] == .decayed)
        #expect(specs["blocks.0.att.w1"] == .plain && specs["blocks.0.ln1.weight"] == .plain && specs["blocks.0.att.r_k"] == .plain)
    }

    @Test("Exported bf16 .pth loads back with official names and shapes")
    func exportRoundTrip() throws {
        let session = try TrainingSession(dimensions: Self.dims, settings: Self.settings, optimizer: Self.optimizer(), data: Self.corpus())
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("rwkv-final.pth").path
        try session.exportPTH(path: path)
        let back = try Checkpoint.load(path: path)
        #expect(back.tensors.count == Self.dims.parameterSpecs.count)
        for spec in Self.dims.parameterSpecs {
            let t = try #require(back.tensors[spec.name])
            #expect(t.shape == spec.shape && t.dtype == .bfloat16, "\(spec.name)")
        }
        #expect(try RWKV7Dimensions(checkpoint: back) == Self.dims)
    }

    @Test("JSONL records are joined with separator 0; bad records throw")
    func jsonl() throws {
        let dir = try TestPaths.temporaryDirectory()
        let good = dir.appendingPathComponent("d.jsonl").path
        try Data("{\"text\": \"ab\"}\n{\"text\": \"c\"}\n".utf8).write(to: URL(fileURLWithPath: good))
        #expect(try TrainingData.load(path: good, validationFraction: 0).tokens == [97, 98, 0, 99, 0])
        let bad = dir.appendingPathComponent("e.jsonl").path
        try Data("{\"txt\": 1}\n".utf8).write(to: URL(fileURLWithPath: bad))
        #expect(throws: TrainingError.self) { try TrainingData.load(path: bad) }
    }
}
