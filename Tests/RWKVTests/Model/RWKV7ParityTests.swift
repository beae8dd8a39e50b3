// RWKV-7 against reference outputs of pip `rwkv` 0.8.32 (`cpu fp32`), made by scripts/make_fixtures.py.
// The tolerance is the issue's: max |Δ| ≤ 1e-4 × std(reference logits) at every position.

import Foundation
import Testing
@testable import RWKV

struct ReferenceRun {
    let tensors: [String: Tensor]
    let metadata: [String: String]

    init(_ path: String) throws {
        let c = try Checkpoint.load(path: path)
        tensors = c.tensors
        metadata = c.metadata
    }

    func ints(_ name: String) throws -> [Int] { try #require(tensors[name], "fixture lacks \(name)").ints() }
    func floats(_ name: String) throws -> [Float] { try #require(tensors[name], "fixture lacks \(name)").floats() }

    /// The state stored under `prefix` (`state_step` or `state_seq`), in our layout.
    func state(_ prefix: String, config: ModelConfig) throws -> ModelState {
        var s = ModelState(config: config)
        for l in 0..<config.layerCount {
            s.layers[l] = LayerState(attentionShift: try floats("\(prefix).\(l).att_x"), wkv: try floats("\(prefix).\(l).wkv"),
                                     ffnShift: try floats("\(prefix).\(l).ffn_x"))
        }
        return s
    }
}

func standardDeviation(_ x: [Float]) -> Float {
    let mean = x.reduce(0, +) / Float(x.count)
    return (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(x.count)).squareRoot()
}

/// Max |a − b| over rows, each row judged against 1e-4 × std of its reference row.
func expectLogitsClose(_ ours: [Float], _ reference: [Float], vocabulary: Int, label: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(ours.count == reference.count, "\(label): \(ours.count) vs \(reference.count) values", sourceLocation: sourceLocation)
    guard ours.count == reference.count else { return }
    for row in 0..<(reference.count / vocabulary) {
        let r = Array(reference[(row * vocabulary)..<((row + 1) * vocabulary)])
        let o = Array(ours[(row * vocabulary)..<((row + 1) * vocabulary)])
        let bound = 1e-4 * standardDeviation(r)
        let diff = zip(o, r).map { abs($0 - $1) }.max() ?? 0
        #expect(diff <= bound, "\(label) position \(row): max |Δ| \(diff) > \(bound)", sourceLocation: sourceLocation)
    }
}

@Suite struct RWKV7ParityTests {
    static let randomModels = ["v7-a", "v7-b"]

    func load(_ name: String) throws -> (RWKVModel, ReferenceRun) {
        let model = try RWKVModel(checkpoint: Checkpoint.load(path: TestPaths.fixture("v7/\(name).pth")))
        return (model, try ReferenceRun(TestPaths.fixture("v7/\(name).reference.safetensors")))
    }

    @Test(arguments: randomModels)
    func sequenceModeMatchesReference(name: String) throws {
        let (model, ref) = try load(name)
        var state = model.makeState()
        let logits = try model.forward(try ref.ints("tokens"), state: &state, allLogits: true)
        expectLogitsClose(logits.data, try ref.floats("logits_seq"), vocabulary: model.config.vocabularySize, label: "\(name) seq")
        let expected = try ref.state("state_seq", config: model.config)
        #expect(state.maxDifference(to: expected) < 1e-4, "\(name) seq state differs by \(state.maxDifference(to: expected))")
    }

    @Test(arguments: randomModels)
    func stepModeMatchesReference(name: String) throws {
        let (model, ref) = try load(name)
        var state = model.makeState()
        var all: [Float] = []
        for token in try ref.ints("tokens") { all += try model.step(token, state: &state) }
        expectLogitsClose(all, try ref.floats("logits_step"), vocabulary: model.config.vocabularySize, label: "\(name) step")
        let expected = try ref.state("state_step", config: model.config)
        #expect(state.maxDifference(to: expected) < 1e-4, "\(name) step state differs by \(state.maxDifference(to: expected))")
    }

    @Test(arguments: randomModels)
    func chunkedPrefillMatchesReference(name: String) throws {
        let (model, ref) = try load(name)
        let tokens = try ref.ints("tokens")
        var state = model.makeState()
        _ = try model.forward(Array(tokens[..<7]), state: &state)
        let last = try model.forward(Array(tokens[7...]), state: &state)
        expectLogitsClose(last.data, try ref.floats("logits_chunk2_last"), vocabulary: model.config.vocabularySize, label: "\(name) chunked")
    }

    @Test(arguments: randomModels)
    func referenceKernelsMatchReference(name: String) throws {
        var (model, ref) = try load(name)
        model.useReferenceKernels = true
        var state = model.makeState()
        let logits = try model.forward(try ref.ints("tokens"), state: &state, allLogits: true)
        expectLogitsClose(logits.data, try ref.floats("logits_seq"), vocabulary: model.config.vocabularySize, label: "\(name) reference kernels")
    }

    @Test(arguments: randomModels + ["tiny-rwkv-7v0"])
    func greedyContinuationIsTokenIdentical(name: String) throws {
        let model: RWKVModel, ref: ReferenceRun
        if name == "tiny-rwkv-7v0" {
            model = try RWKVModel(checkpoint: Checkpoint.load(path: TestPaths.shared("rwkv-cpp-tiny/tiny-rwkv-7v0-834K.pth")))
            ref = try ReferenceRun(TestPaths.fixture("v7/tiny-rwkv-7v0.reference.safetensors"))
        } else {
            (model, ref) = try load(name)
        }
        var state = model.makeState()
        var logits = try model.forward(try ref.ints("tokens"), state: &state).data
        var greedy: [Int] = []
        for _ in 0..<32 {
            let next = logits.indices.max { logits[$0] < logits[$1] }!
            greedy.append(next)
            logits = try model.step(next, state: &state)
        }
        #expect(greedy == (try ref.ints("greedy")))
    }

    /// The trained tiny model from rwkv.cpp: real weight ranges that random models never reach.
    @Test func trainedTinyModelMatchesReference() throws {
        let model = try RWKVModel(checkpoint: Checkpoint.load(path: TestPaths.shared("rwkv-cpp-tiny/tiny-rwkv-7v0-834K.pth")))
        let ref = try ReferenceRun(TestPaths.fixture("v7/tiny-rwkv-7v0.reference.safetensors"))
        var state = model.makeState()
        let logits = try model.forward(try ref.ints("tokens"), state: &state, allLogits: true)
        expectLogitsClose(logits.data, try ref.floats("logits_seq"), vocabulary: 256, label: "tiny v7 seq")
        // rwkv.cpp's own expected logits after the bytes `"in`.
        let expected = try Data(contentsOf: URL(fileURLWithPath: TestPaths.shared("rwkv-cpp-tiny/expected-logits-7v0-834K.bin")))
        let cpp = expected.withUnsafeBytes { raw in (0..<256).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        var s2 = model.makeState()
        let ours = try model.forward([34, 105, 110], state: &s2).data
        expectLogitsClose(ours, cpp, vocabulary: 256, label: "tiny v7 vs rwkv.cpp")
    }
}
