// Every model version against reference outputs of pip `rwkv` 0.8.32 (`cpu fp32`), made by scripts/make_fixtures.py.
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
        let layers = try (0..<config.layerCount).map { l in
            LayerState(attentionShift: try floats("\(prefix).\(l).att_x"), wkv: try floats("\(prefix).\(l).wkv"),
                       ffnShift: try floats("\(prefix).\(l).ffn_x"))
        }
        return try ModelState(config: config, layers: layers)
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

/// One model + reference pair. `timeState` is merged into the weights (a state-tuned checkpoint).
struct ParityCase: CustomTestStringConvertible, Sendable {
    var name: String
    var model: String
    var reference: String
    var timeState: String? = nil
    var testDescription: String { name }

    static func fixture(_ version: String, _ name: String, model: String? = nil, reference: String? = nil, timeState: String? = nil) -> ParityCase {
        ParityCase(name: name, model: TestPaths.fixture("\(version)/\(model ?? name + ".pth")"),
                   reference: TestPaths.fixture("\(version)/\(reference ?? name + ".reference.safetensors")"),
                   timeState: timeState.map { TestPaths.fixture("\(version)/\($0)") })
    }

    static func tiny(_ version: String, file: String, reference: String) -> ParityCase {
        ParityCase(name: reference, model: TestPaths.shared("rwkv-cpp-tiny/" + file),
                   reference: TestPaths.fixture("\(version)/\(reference).reference.safetensors"))
    }

    /// Random models whose files are committed under Tests/Fixtures.
    static let committed: [ParityCase] = [
        .fixture("v7", "v7-a"), .fixture("v7", "v7-b"),
        .fixture("v6", "v6-a"), .fixture("v6", "v6-a-state", model: "v6-a.pth", timeState: "v6-a.time_state.pth"),
        .fixture("v5", "v5-a"), .fixture("v5", "v5-a-state", model: "v5-a.pth", timeState: "v5-a.time_state.pth"),
        // Other layouts of the same weights must give the same outputs as the official file.
        .fixture("v6", "v6-a-hf", model: "v6-a-hf.safetensors", reference: "v6-a.reference.safetensors"),
        .fixture("v7", "v7-a-fla", model: "v7-a-fla.safetensors", reference: "v7-a.reference.safetensors"),
        // Hugging Face RWKV-7 directory: config.json + index + 3 shards (scripts/make_hf7_fixture.py).
        .fixture("v7", "v7-a-hf", model: "v7-a-hf", reference: "v7-a.reference.safetensors"),
    ]

    /// The trained tiny models of `../shared/data` (their references are committed).
    static let trainedTiny: [ParityCase] = [
        .tiny("v7", file: "tiny-rwkv-7v0-834K.pth", reference: "tiny-rwkv-7v0"),
        .tiny("v6", file: "tiny-rwkv-6v0-1m.pth", reference: "tiny-rwkv-6v0"),
        .tiny("v5", file: "tiny-rwkv-5v2-730K.pth", reference: "tiny-rwkv-5v2"),
    ]

    func load() throws -> (RWKVModel, ReferenceRun) {
        var checkpoint = try Checkpoint.load(path: model)
        if let timeState {
            checkpoint.tensors.merge(try Checkpoint.load(path: timeState).tensors) { _, new in new }
        }
        return (try RWKVModel(checkpoint: checkpoint), try ReferenceRun(reference))
    }
}

/// The checks every parity case runs, each against the reference run of pip `rwkv`.
extension ParityCase {
    func sequenceModeMatchesReference() throws {
        let (model, ref) = try load()
        var state = model.makeState()
        let logits = try model.forward(try ref.ints("tokens"), state: &state, allLogits: true)
        expectLogitsClose(logits.data, try ref.floats("logits_seq"), vocabulary: model.config.vocabularySize, label: "\(name) seq")
        let expected = try ref.state("state_seq", config: model.config)
        #expect(state.maxDifference(to: expected) < 1e-4, "\(name) seq state differs by \(state.maxDifference(to: expected))")
    }

    func stepModeMatchesReference() throws {
        let (model, ref) = try load()
        var state = model.makeState()
        var all: [Float] = []
        for token in try ref.ints("tokens") { all += try model.step(token, state: &state) }
        expectLogitsClose(all, try ref.floats("logits_step"), vocabulary: model.config.vocabularySize, label: "\(name) step")
        let expected = try ref.state("state_step", config: model.config)
        #expect(state.maxDifference(to: expected) < 1e-4, "\(name) step state differs by \(state.maxDifference(to: expected))")
    }

    func chunkedPrefillMatchesReference() throws {
        let (model, ref) = try load()
        let tokens = try ref.ints("tokens")
        var state = model.makeState()
        _ = try model.forward(Array(tokens[..<7]), state: &state)
        let last = try model.forward(Array(tokens[7...]), state: &state)
        expectLogitsClose(last.data, try ref.floats("logits_chunk2_last"), vocabulary: model.config.vocabularySize, label: "\(name) chunked")
    }

    func referenceKernelsMatchReference() throws {
        var (model, ref) = try load()
        model.useReferenceKernels = true
        var state = model.makeState()
        let logits = try model.forward(try ref.ints("tokens"), state: &state, allLogits: true)
        expectLogitsClose(logits.data, try ref.floats("logits_seq"), vocabulary: model.config.vocabularySize, label: "\(name) reference kernels")
    }

    func greedyContinuationIsTokenIdentical() throws {
        let (model, ref) = try load()
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
}

@Suite struct ParityTests {
    @Test(arguments: ParityCase.committed) func sequenceModeMatchesReference(_ c: ParityCase) throws { try c.sequenceModeMatchesReference() }
    @Test(arguments: ParityCase.committed) func stepModeMatchesReference(_ c: ParityCase) throws { try c.stepModeMatchesReference() }
    @Test(arguments: ParityCase.committed) func chunkedPrefillMatchesReference(_ c: ParityCase) throws { try c.chunkedPrefillMatchesReference() }
    @Test(arguments: ParityCase.committed) func referenceKernelsMatchReference(_ c: ParityCase) throws { try c.referenceKernelsMatchReference() }
    @Test(arguments: ParityCase.committed) func greedyContinuationIsTokenIdentical(_ c: ParityCase) throws { try c.greedyContinuationIsTokenIdentical() }

    /// A separate state-tuning file applied at load (`rwkv generate --state FILE`) equals the merged checkpoint.
    @Test(arguments: [("v6", "v6-a"), ("v5", "v5-a")])
    func separateTimeStateFileGivesTunedOutputs(version: String, name: String) throws {
        let model = try RWKVModel(checkpoint: Checkpoint.load(path: TestPaths.fixture("\(version)/\(name).pth")))
        let ref = try ReferenceRun(TestPaths.fixture("\(version)/\(name)-state.reference.safetensors"))
        var state = try model.loadState(path: TestPaths.fixture("\(version)/\(name).time_state.pth"))
        let logits = try model.forward(try ref.ints("tokens"), state: &state, allLogits: true)
        expectLogitsClose(logits.data, try ref.floats("logits_seq"), vocabulary: model.config.vocabularySize, label: "\(name) --state")
        // The same state saved in our format and loaded back gives the same result.
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("tuned.rwkvstate").path
        try model.loadState(path: TestPaths.fixture("\(version)/\(name).time_state.pth")).save(to: path, config: model.config)
        var reloaded = try model.loadState(path: path)
        let again = try model.forward(try ref.ints("tokens"), state: &reloaded, allLogits: true)
        #expect(again.data == logits.data)
    }
}

/// Parity on the trained tiny models, which live in `../shared/data`.
@Suite(.needsSharedData) struct TrainedTinyParityTests {
    @Test(arguments: ParityCase.trainedTiny) func sequenceModeMatchesReference(_ c: ParityCase) throws { try c.sequenceModeMatchesReference() }
    @Test(arguments: ParityCase.trainedTiny) func stepModeMatchesReference(_ c: ParityCase) throws { try c.stepModeMatchesReference() }
    @Test(arguments: ParityCase.trainedTiny) func chunkedPrefillMatchesReference(_ c: ParityCase) throws { try c.chunkedPrefillMatchesReference() }
    @Test(arguments: ParityCase.trainedTiny) func referenceKernelsMatchReference(_ c: ParityCase) throws { try c.referenceKernelsMatchReference() }
    @Test(arguments: ParityCase.trainedTiny) func greedyContinuationIsTokenIdentical(_ c: ParityCase) throws { try c.greedyContinuationIsTokenIdentical() }

    /// rwkv.cpp's own expected logits after the bytes `"in` (v7 and v6; its v5 uses another GroupNorm eps).
    @Test(arguments: [("tiny-rwkv-7v0-834K.pth", "expected-logits-7v0-834K.bin"), ("tiny-rwkv-6v0-1m.pth", "expected-logits-6v0-1m.bin")])
    func trainedTinyModelMatchesRwkvCpp(model file: String, expected: String) throws {
        let model = try RWKVModel(checkpoint: Checkpoint.load(path: TestPaths.shared("rwkv-cpp-tiny/" + file)))
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.shared("rwkv-cpp-tiny/" + expected)))
        let cpp = data.withUnsafeBytes { raw in (0..<256).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        var state = model.makeState()
        let ours = try model.forward([34, 105, 110], state: &state).data
        expectLogitsClose(ours, cpp, vocabulary: 256, label: "\(file) vs rwkv.cpp")
    }
}
