import Testing
@testable import RWKV

@Suite struct QuantizationQualityTests {
    static let tiny = TestPaths.bundledModel

    @Test func identicalModelsAgreeExactly() throws {
        let model = try RWKVModel.load(path: Self.tiny)
        let tokens = Array("It is a truth universally acknowledged".utf8).map(Int.init)
        let report = try compareModels(reference: model, candidate: model, tokens: tokens)
        #expect(report.positions == tokens.count - 1)
        #expect(report.meanKL == 0 && report.top1Agreement == 1)
        #expect(report.referencePerplexity == report.candidatePerplexity)
        #expect(report.referencePerplexity > 1 && report.referencePerplexity < 256)
    }

    @Test func quantisationCostsAreMeasuredAndOrdered() throws {
        let f32 = try RWKVModel.load(path: Self.tiny, options: LoadOptions(weightFormat: .f32))
        let q8 = try RWKVModel.load(path: Self.tiny, options: LoadOptions(weightFormat: .q8_0))
        let q4 = try RWKVModel.load(path: Self.tiny, options: LoadOptions(weightFormat: .q4_0))
        let tokens = Array("It is a truth universally acknowledged, that a single man in possession".utf8).map(Int.init)
        let r8 = try compareModels(reference: f32, candidate: q8, tokens: tokens, chunk: 16)
        let r4 = try compareModels(reference: f32, candidate: q4, tokens: tokens, chunk: 16)
        #expect(r8.meanKL > 0 && r8.meanKL < r4.meanKL)
        #expect(r8.top1Agreement >= 0.99)
    }
}
