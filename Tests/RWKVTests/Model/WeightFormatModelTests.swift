// Whole models with their large matrices in each weight format, built in memory from random
// official-layout tensors (no checkpoint file needed).

import Testing
@testable import RWKV

@Suite struct WeightFormatModelTests {
    static func spec(embedding: Int = 64) -> RandomModelSpec {
        var s = RandomModelSpec(layers: 2, embedding: embedding, vocabulary: 97)
        s.headSize = 16
        (s.decayRank, s.iclrRank, s.valueRank, s.gateRank) = (8, 8, 4, 16)
        return s
    }

    static func model(_ dtype: DType, _ format: WeightFormat?, embedding: Int = 64) throws -> RWKVModel {
        try RWKVModel(checkpoint: spec(embedding: embedding).checkpoint(dtype: dtype, seed: 7), options: LoadOptions(weightFormat: format))
    }

    static let tokens = [3, 96, 0, 41, 41, 7, 12, 55, 2]

    static func logits(_ model: RWKVModel) throws -> [Float] {
        var state = model.makeState()
        return try model.forward(tokens, state: &state, allLogits: true).data
    }

    static let formats: [WeightFormat?] = [nil, .f32, .f16, .bf16, .q8_0, .q4_0]

    @Test(arguments: formats)
    func fastKernelsMatchReferenceKernels(format: WeightFormat?) throws {
        var model = try Self.model(.float16, format)
        let fast = try Self.logits(model)
        model.useReferenceKernels = true
        let reference = try Self.logits(model)
        #expect(!fast.contains { !$0.isFinite })
        expectLogitsClose(fast, reference, vocabulary: 97, label: "\(format.map(\.rawValue) ?? "file dtype")")
    }

    @Test(arguments: formats)
    func chunkEqualsSteps(format: WeightFormat?) throws {
        let model = try Self.model(.bfloat16, format)
        var chunkState = model.makeState(), stepState = model.makeState()
        let chunk = try model.forward(Self.tokens, state: &chunkState).data
        var last: [Float] = []
        for t in Self.tokens { last = try model.step(t, state: &stepState) }
        expectLogitsClose(last, chunk, vocabulary: 97, label: "steps vs chunk")
    }

    /// Quantised models stay close to the fp32 model: the top token agrees at most positions and
    /// the logits correlate strongly.
    @Test(arguments: [(WeightFormat.q8_0, 0.9999), (.q4_0, 0.99), (.f16, 0.999999), (.bf16, 0.99999)])
    func quantisedModelTracksFP32(format: WeightFormat, minimumCorrelation: Double) throws {
        let exact = try Self.logits(Self.model(.float32, nil))
        let approx = try Self.logits(Self.model(.float32, format))
        let n = Double(exact.count)
        let (ma, mb) = (exact.reduce(0) { $0 + Double($1) } / n, approx.reduce(0) { $0 + Double($1) } / n)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (a, b) in zip(exact, approx) {
            sab += (Double(a) - ma) * (Double(b) - mb); saa += (Double(a) - ma) * (Double(a) - ma); sbb += (Double(b) - mb) * (Double(b) - mb)
        }
        let correlation = sab / (saa * sbb).squareRoot()
        #expect(correlation >= minimumCorrelation, "\(format): correlation \(correlation)")
        #expect(exact != approx)
    }

    @Test func defaultOptionsViewTheCheckpointWithoutCopying() throws {
        let checkpoint = try Self.spec().checkpoint(dtype: .float16)
        let config = try ModelConfig.detect(from: checkpoint.tensors)
        let model = try RWKV7Model(tensors: checkpoint.tensors, config: config)
        #expect(model.layers[1].key.storage === checkpoint.tensors["blocks.1.att.key.weight"]?.storage)
        #expect(model.head.storage === checkpoint.tensors["head.weight"]?.storage)
        #expect(model.embedding.storage === checkpoint.tensors["emb.weight"]?.storage)
        #expect(model.layers[0].ffnValue.format == .f16)
        let q8 = try RWKV7Model(tensors: checkpoint.tensors, config: config, options: LoadOptions(weightFormat: .q8_0))
        #expect(q8.layers[0].ffnValue.format == .q8_0 && q8.head.format == .q8_0)
        #expect(q8.embedding.storage === checkpoint.tensors["emb.weight"]?.storage)
        #expect(q8.streamedBytesPerToken < model.streamedBytesPerToken)
    }

    @Test func widthsOffTheBlockGridKeepTheFileDtype() throws {
        let checkpoint = try Self.spec(embedding: 48).checkpoint(dtype: .bfloat16)
        let config = try ModelConfig.detect(from: checkpoint.tensors)
        let model = try RWKV7Model(tensors: checkpoint.tensors, config: config, options: LoadOptions(weightFormat: .q4_0))
        #expect(model.layers[0].key.format == .bf16)        // 48 columns: not whole blocks
        #expect(model.layers[0].ffnValue.format == .q4_0)   // 192 columns
    }
}
