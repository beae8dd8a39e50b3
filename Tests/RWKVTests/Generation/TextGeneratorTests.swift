// The generation loop: reference order of operations, stops, determinism, state hand-off.

import Testing
@testable import RWKV

@Suite struct TextGeneratorTests {
    /// The bundled byte-level model, so these run on a fresh clone.
    func model() throws -> RWKVModel { try RWKVModel.load(path: TestPaths.bundledModel) }

    /// Greedy text of `model()` after "In the beginning", without any stop.
    func greedyText(_ n: Int) throws -> String {
        var out = ""
        try generateText(model: try model(), tokenizer: ByteTokenizer(), prompt: "In the beginning",
                         parameters: GenerateParameters(maxNewTokens: n, sampling: .greedy)) { out += $0; return true }
        return out
    }

    @Test(.needsSharedData) func greedyTokensEqualReferenceContinuation() throws {
        let ref = try ReferenceRun(TestPaths.fixture("v7/tiny-rwkv-7v0.reference.safetensors"))
        let tiny = try RWKVModel(checkpoint: Checkpoint.load(path: TestPaths.shared("rwkv-cpp-tiny/tiny-rwkv-7v0-834K.pth")))
        var generator = try TokenGenerator(model: tiny, tokenizer: ByteTokenizer(), prompt: try ref.ints("tokens"),
                                           parameters: GenerateParameters(maxNewTokens: 32, sampling: .greedy))
        var tokens: [Int] = []
        while let t = try generator.next() { tokens.append(t) }
        #expect(tokens == (try ref.ints("greedy")))
        #expect(generator.stopReason == .length)
    }

    @Test func seededSamplingIsReproducibleAndSeedsDiffer() throws {
        let m = try model()
        func run(_ seed: UInt64) throws -> String {
            var p = GenerateParameters(maxNewTokens: 40)
            p.sampling.seed = seed
            p.sampling.temperature = 1.5
            p.sampling.topP = 1
            var out = ""
            try generateText(model: m, tokenizer: ByteTokenizer(), prompt: "In the", parameters: p) { out += $0; return true }
            return out
        }
        #expect(try run(7) == (try run(7)))
        #expect(try run(7) != (try run(8)))
    }

    @Test func stopStringEndsTextBeforeIt() throws {
        // Stop at a piece of the unstopped greedy text: the output is what came before it.
        let free = Array(try greedyText(40).utf8)
        let stop = String(decoding: free[5..<9], as: UTF8.self)
        var p = GenerateParameters(maxNewTokens: 40, sampling: .greedy)
        p.sampling.stopStrings = [stop]
        var out = ""
        var generator = try TextGenerator(model: try model(), tokenizer: ByteTokenizer(), prompt: "In the beginning", parameters: p)
        while let piece = try generator.next() { out += piece }
        let before = try #require(String(decoding: free, as: UTF8.self).range(of: stop))
        #expect(out == String(String(decoding: free, as: UTF8.self)[..<before.lowerBound]))
        #expect(generator.tokens.stopReason == .stopString)
    }

    @Test func stopTokenIsNeitherEmittedNorFed() throws {
        let m = try model()
        var p = GenerateParameters(maxNewTokens: 40, sampling: .greedy)
        // The third greedy byte stops generation: only the bytes before its first occurrence come out.
        let free = Array(try greedyText(40).utf8).map(Int.init)
        let stop = free[2]
        p.sampling.stopTokens = [stop]
        var generator = try TokenGenerator(model: m, tokenizer: ByteTokenizer(), prompt: Array("In the beginning".utf8).map(Int.init), parameters: p)
        var tokens: [Int] = []
        while let t = try generator.next() { tokens.append(t) }
        let emitted = Array(free.prefix { $0 != stop })
        #expect(tokens == emitted)
        #expect(generator.stopReason == .stopToken)
        // The state saw the prompt and the emitted tokens only.
        var expected = m.makeState()
        _ = try m.forward(Array("In the beginning".utf8).map(Int.init) + emitted, state: &expected)
        #expect(generator.state.maxDifference(to: expected) < 1e-4)
    }

    @Test func asyncStreamDeliversChunksThenInfo() async throws {
        var p = GenerateParameters(maxNewTokens: 12, sampling: .greedy)
        p.sampling.seed = 1
        var text = "", infos: [GenerationInfo] = []
        for try await event in generate(model: try model(), tokenizer: ByteTokenizer(), prompt: "In the beginning", parameters: p) {
            if let c = event.chunk { text += c }
            if let i = event.info { infos.append(i) }
        }
        #expect(infos.count == 1)
        #expect(infos.first?.generatedTokens == 12)
        #expect(infos.first?.promptTokens == 16)
        #expect(text.utf8.count == 12)
    }

    @Test func invalidParametersAreRejected() throws {
        var p = GenerateParameters()
        p.sampling.stopTokens = [999]
        #expect(throws: SamplingError.self) {
            try TokenGenerator(model: try model(), tokenizer: ByteTokenizer(), prompt: [1], parameters: p)
        }
    }
}
