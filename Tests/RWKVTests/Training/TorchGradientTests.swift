// Our loss and every parameter gradient against PyTorch autograd on the same tiny RWKV-7.
//
// The fixture (scripts/make_training_fixture.py) holds random weights, a batch, the float64 PyTorch
// loss (cross-entropy, with L2Wrap in the backward) and each parameter's gradient. Both our Float path
// (the SIMD GEMM and threaded WKV the real training uses) and the Double path must agree to 1e-4
// relative per tensor (max |Δ| / max |reference|).

import Foundation
import Testing
@testable import RWKV

@Suite("Training vs PyTorch")
struct TorchGradientTests {
    static let path = TestPaths.fixture("training/rwkv7-grad.safetensors")

    /// Runs the fixture through a model of scalar S; returns (loss error, [(name, relative error)]).
    static func compare<S: TrainingScalar>(_ type: S.Type) throws -> (Double, [(String, Double)]) {
        let fixture = try Checkpoint.load(path: path)
        #expect(fixture.metadata["version"] == "1", "fixture version changed: rerun scripts/make_training_fixture.py")
        let dims = try #require(fixture.tensors["dims"]).ints()
        try #require(dims.count == 8)
        let d = RWKV7Dimensions(layers: dims[0], embedding: dims[1], headSize: dims[2], vocabulary: dims[3],
                                decayRank: dims[4], iclrRank: dims[5], valueRank: dims[6], gateRank: dims[7])
        let inputs = try #require(fixture.tensors["inputs"]), targets = try #require(fixture.tensors["targets"])
        let model = try RWKV7TrainingModel<S>(dimensions: d, batch: inputs.shape[0], tokens: inputs.shape[1])
        for spec in model.layout.specs {
            let values = try #require(fixture.tensors["param." + spec.name], "fixture lacks \(spec.name)").floats()
            let view = try #require(model.parameter(spec.name))
            try #require(values.count == view.count, "\(spec.name): \(values.count) values, expected \(view.count)")
            for i in view.indices { view[i] = S(values[i]) }
        }
        let loss = try model.forward(inputs: inputs.ints(), targets: targets.ints())
        model.backward(l2wrap: true)
        let refLoss = Double(try #require(fixture.tensors["loss"]).floats()[0])
        var errors: [(String, Double)] = []
        for spec in model.layout.specs {
            let ref = try #require(fixture.tensors["grad." + spec.name]).floats()
            let ours = try #require(model.gradient(spec.name))
            let scale = Double(ref.map(abs).max() ?? 0)
            var worst = 0.0
            for i in ref.indices { worst = max(worst, abs(Double(ours[i]) - Double(ref[i]))) }
            errors.append((spec.name, scale > 0 ? worst / scale : worst))
        }
        return (abs(loss - refLoss) / refLoss, errors)
    }

    @Test("Loss and gradients match PyTorch autograd to 1e-4", arguments: ["Float", "Double"])
    func matchesTorch(scalar: String) throws {
        let (lossError, errors) = scalar == "Float" ? try Self.compare(Float.self) : try Self.compare(Double.self)
        let worst = try #require(errors.max(by: { $0.1 < $1.1 }))
        print("\(scalar) vs PyTorch: loss relative error \(lossError), worst gradient relative error \(worst.1) (\(worst.0))")
        #expect(lossError < 1e-5)
        for (name, err) in errors { #expect(err <= 1e-4, "\(name): relative error \(err)") }
    }
}
