// Batched decode: B sessions advanced in one call give what B separate steps give.

import Testing
@testable import RWKV

@Suite struct BatchedDecodeTests {
    @Test(arguments: ["v7/v7-b.pth", "v6/v6-a.pth", "v5/v5-a.pth"])
    func batchEqualsSeparateSteps(model path: String) throws {
        let model = try RWKVModel.load(path: TestPaths.fixture(path))
        // Three conversations at different points: different prompts and lengths.
        let prompts = [[1, 2, 3, 4, 5], [9], [100, 7, 7, 300, 2, 41, 8]]
        var states = try prompts.map { prompt -> ModelState in
            var s = model.makeState()
            _ = try model.forward(prompt, state: &s)
            return s
        }
        var separate = states
        let next = [11, 22, 33]
        for round in 0..<3 {
            let tokens = next.map { $0 + round }
            let batch = try model.step(batch: tokens, states: &states)
            #expect(batch.rows == 3 && batch.cols == model.config.vocabularySize)
            for b in 0..<3 {
                let alone = try model.step(tokens[b], state: &separate[b])
                let row = Array(batch.data[(b * batch.cols)..<((b + 1) * batch.cols)])
                let diff = zip(row, alone).map { abs($0 - $1) }.max() ?? .infinity
                #expect(diff < 1e-4 * standardDeviation(alone), "\(path) round \(round) session \(b): max |Δ| \(diff)")
                #expect(states[b].maxDifference(to: separate[b]) < 1e-4)
            }
        }
    }

    @Test func batchNeedsOneStatePerToken() throws {
        let model = try RWKVModel.load(path: TestPaths.fixture("v7/v7-a.pth"))
        var states = [model.makeState()]
        #expect(throws: ModelError.self) { try model.step(batch: [1, 2], states: &states) }
        var wrong = [model.makeState(), try ModelState(config: ModelConfig(version: .v7, layerCount: 1, embeddingSize: 8, headCount: 1,
                                                                          headSize: 8, vocabularySize: 4, ffnSize: 32))]
        #expect(throws: ModelError.self) { try model.step(batch: [1, 2], states: &wrong) }
    }
}
