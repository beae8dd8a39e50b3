// Version detection, size inference and the errors a broken checkpoint must produce.

import Testing
@testable import RWKV

@Suite struct ModelConfigTests {
    func fixtureTensors() throws -> [String: Tensor] {
        try Checkpoint.load(path: TestPaths.fixture("v7/v7-a.pth")).tensors
    }

    @Test func detectsV7SizesFromShapes() throws {
        let ref = try ReferenceRun(TestPaths.fixture("v7/v7-a.reference.safetensors"))
        let config = try ModelConfig.detect(from: try fixtureTensors())
        #expect(config.version == .v7)
        #expect(String(config.layerCount) == ref.metadata["n_layer"])
        #expect(String(config.embeddingSize) == ref.metadata["n_embd"])
        #expect(String(config.headCount) == ref.metadata["n_head"])
        #expect(String(config.headSize) == ref.metadata["head_size"])
        #expect(String(config.vocabularySize) == ref.metadata["vocab"])
        #expect(config.ffnSize == 4 * config.embeddingSize)
        let t = try fixtureTensors()
        #expect(config.decayRank == t["blocks.0.att.w1"]?.shape[1])
        #expect(config.iclrRank == t["blocks.0.att.a1"]?.shape[1])
        #expect(config.valueRank == t["blocks.1.att.v1"]?.shape[1])
        #expect(config.gateRank == t["blocks.0.att.g1"]?.shape[1])
    }

    @Test(.needsSharedData) func detectsTrainedTinyModelsOfEveryVersion() throws {
        let cases: [(String, ModelVersion, Int)] = [("tiny-rwkv-7v0-834K.pth", .v7, 64), ("tiny-rwkv-6v0-1m.pth", .v6, 8),
                                                    ("tiny-rwkv-5v2-730K.pth", .v5_2, 8)]
        for (file, version, headSize) in cases {
            let config = try ModelConfig.detect(from: Checkpoint.load(path: TestPaths.shared("rwkv-cpp-tiny/" + file)).tensors)
            #expect(config.version == version, "\(file)")
            #expect(config.layerCount == 12 && config.embeddingSize == 64 && config.vocabularySize == 256, "\(file)")
            #expect(config.headSize == headSize, "\(file)")
        }
    }

    @Test func missingTensorIsNamed() throws {
        var t = try fixtureTensors()
        t["blocks.1.att.key.weight"] = nil
        #expect(throws: ModelError.missingTensor("blocks.1.att.key.weight")) {
            try RWKVModel(checkpoint: Checkpoint(tensors: t))
        }
        t = try fixtureTensors()
        t["emb.weight"] = nil
        #expect(throws: ModelError.missingTensor("emb.weight")) { try ModelConfig.detect(from: t) }
    }

    @Test func wrongShapeNamesTensorAndBothShapes() throws {
        var t = try fixtureTensors()
        let c = try ModelConfig.detect(from: t).embeddingSize
        t["blocks.0.att.output.weight"] = try Tensor([Float](repeating: 0, count: c * 3), shape: [c, 3])
        #expect(throws: ModelError.wrongShape(tensor: "blocks.0.att.output.weight", expected: [c, c], found: [c, 3])) {
            try RWKVModel(checkpoint: Checkpoint(tensors: t))
        }
    }

    @Test func unknownLayoutsAreRejectedClearly() throws {
        #expect(throws: ModelError.self) { try ModelConfig.detect(from: [:]) }
        let t = try Tensor([0, 0], shape: [1, 2])
        #expect(throws: ModelError.unrecognised(detail: "no RWKV block tensors (blocks.0.att.*) found")) {
            try ModelConfig.detect(from: ["emb.weight": t])
        }
    }

    @Test func badTokensAndStatesAreErrors() throws {
        let model = try RWKVModel(checkpoint: Checkpoint(tensors: try fixtureTensors()))
        var state = model.makeState()
        #expect(throws: ModelError.tokenOutOfRange(token: model.config.vocabularySize, vocabularySize: model.config.vocabularySize)) {
            try model.forward([model.config.vocabularySize], state: &state)
        }
        #expect(throws: ModelError.emptyInput) { try model.forward([], state: &state) }
        var other = try ModelState(config: ModelConfig(version: .v7, layerCount: 1, embeddingSize: 8, headCount: 1, headSize: 8,
                                                   vocabularySize: 4, ffnSize: 32))
        #expect(throws: ModelError.self) { try model.forward([1], state: &other) }
    }

    @Test func obsoleteAndVariantFormatsAreNamed() throws {
        let v = try Tensor([0, 0], shape: [1, 2]), d1 = try Tensor([0, 0], shape: [2]), d2 = try Tensor([0, 0], shape: [1, 2])
        func detect(_ extra: [String: Tensor]) throws -> ModelConfig {
            try ModelConfig.detect(from: ["emb.weight": v].merging(extra) { a, _ in a })
        }
        #expect(throws: ModelError.unsupportedVersion(.v4, detail: "found blocks.0.att.time_first; RWKV-4 is not supported (RWKV-5.2, 6 and 7 are)")) {
            try detect(["blocks.0.att.time_first": v])
        }
        for (version, extra) in [(ModelVersion.v5_0, ["blocks.0.att.ln_x.weight": v]),
                                 (.v5_1, ["blocks.0.att.ln_x.weight": v, "blocks.0.att.gate.weight": v, "blocks.0.att.time_decay": d1])] {
            #expect {
                try detect(extra)
            } throws: { error in
                guard case let ModelError.unsupportedVersion(found, _) = error else { return false }
                return found == version
            }
        }
        #expect(try ModelConfig.detectVersion(["blocks.0.att.ln_x.weight": v, "blocks.0.att.gate.weight": v, "blocks.0.att.time_decay": d2]) == .v5_2)
        var t = try fixtureTensors()
        t["blocks.0.ffn.s_emb.weight"] = v
        #expect(throws: ModelError.self) { try ModelConfig.detect(from: t) }
    }
}

/// The model the README runs: the project's own Shakespeare model.
@Suite struct ShippedModelTests {
    @Test func shippedModelLoadsAndContinuesDeterministically() throws {
        let model = try RWKVModel.load(path: TestPaths.bundledModel)
        #expect(model.config.signature == "v7 L6 C256 H4 N64")
        #expect(model.config.vocabularySize == 256)
        var a = "", b = ""
        try generateText(model: model, tokenizer: ByteTokenizer(), prompt: "ROMEO:", parameters: GenerateParameters(maxNewTokens: 24, sampling: .greedy)) { a += $0; return true }
        try generateText(model: model, tokenizer: ByteTokenizer(), prompt: "ROMEO:", parameters: GenerateParameters(maxNewTokens: 24, sampling: .greedy)) { b += $0; return true }
        #expect(a == b && a.utf8.count == 24)
    }
}
