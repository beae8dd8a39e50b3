// The generation loop: reference order of operations, stops, determinism, state hand-off.

import Testing
@testable import RWKV

@Suite struct TextGeneratorTests {
    static let tiny = TestPaths.shared("rwkv-cpp-tiny/tiny-rwkv-7v0-834K.pth")

    func model() throws -> RWKVModel { try RWKVModel(checkpoint: Checkpoint.load(path: Self.tiny)) }

    @Test func greedyTokensEqualReferenceContinuation() throws {
        let ref = try ReferenceRun(TestPaths.fixture("v7/tiny-rwkv-7v0.reference.safetensors"))
        var generator = try TokenGenerator(model: try model(), tokenizer: ByteTokenizer(), prompt: try ref.ints("tokens"),
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
        // Greedy output of this model is " the the the …": stop at the second "the".
        var p = GenerateParameters(maxNewTokens: 40, sampling: .greedy)
        p.sampling.stopStrings = ["e th"]
        var out = ""
        var generator = try TextGenerator(model: try model(), tokenizer: ByteTokenizer(), prompt: "In the beginning", parameters: p)
        while let piece = try generator.next() { out += piece }
        #expect(out == " th")
        #expect(generator.tokens.stopReason == .stopString)
    }

    @Test func stopTokenIsNeitherEmittedNorFed() throws {
        let m = try model()
        var p = GenerateParameters(maxNewTokens: 40, sampling: .greedy)
        p.sampling.stopTokens = [Int(UInt8(ascii: "h"))]
        var generator = try TokenGenerator(model: m, tokenizer: ByteTokenizer(), prompt: Array("In the beginning".utf8).map(Int.init), parameters: p)
        var tokens: [Int] = []
        while let t = try generator.next() { tokens.append(t) }
        #expect(tokens == [32, 116])           // " t", then "h" stops
        #expect(generator.stopReason == .stopToken)
        // The state saw the prompt and the two emitted tokens only.
        var expected = m.makeState()
        _ = try m.forward(Array("In the beginning t".utf8).map(Int.init), state: &expected)
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
