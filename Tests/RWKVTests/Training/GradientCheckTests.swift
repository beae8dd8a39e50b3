// Finite-difference check of every parameter gradient of the hand-written RWKV-7 backward, in Double.
//
// A tiny model (L2 C16 H2 N8 V13) with random weights runs B=2 rows of T=21 tokens: T crosses the
// 16-token snapshot boundary, so the WKV back-stepping and snapshot reload are both exercised. For each
// parameter tensor we compare the analytic gradient with the central difference (L(θ+h) − L(θ−h))/2h
// at several elements (always including the one with the largest analytic gradient). L2Wrap is off here
// because it changes the gradient but not the loss; the PyTorch fixture test covers it.

import Foundation
import Testing
@testable import RWKV

@Suite("Training gradients")
struct GradientCheckTests {
    static let dims = RWKV7Dimensions(layers: 2, embedding: 16, headSize: 8, vocabulary: 13,
                                      decayRank: 4, iclrRank: 4, valueRank: 3, gateRank: 5)

    /// Deterministic pseudo-random numbers in [−1, 1).
    struct Noise {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
    }

    static func randomModel(trainsInitialState: Bool = false) throws -> (RWKV7TrainingModel<Double>, [Int], [Int]) {
        let model = try RWKV7TrainingModel<Double>(dimensions: dims, batch: 2, tokens: 21, trainsInitialState: trainsInitialState)
        var noise = Noise(state: 42)
        for (i, spec) in model.layout.specs.enumerated() {
            let view = UnsafeMutableBufferPointer(rebasing: model.parameters.buffer[model.layout.offsets[i]...].prefix(spec.count))
            // LayerNorm weights near 1, everything else O(0.5) so no path is flat.
            let isNormWeight = spec.name.hasSuffix("ln0.weight") || spec.name.hasSuffix("ln1.weight") || spec.name.hasSuffix("ln2.weight")
                || spec.name.hasSuffix("ln_out.weight") || spec.name.hasSuffix("ln_x.weight")
            for j in view.indices { view[j] = isNormWeight ? 1 + 0.3 * noise.next() : 0.6 * noise.next() }
        }
        if let s = model.initialState { for j in s.buffer.indices { s.buffer[j] = 0.5 * noise.next() } }
        let inputs = (0..<42).map { _ in Int((noise.next() + 1) * 6.5) % 13 }
        let targets = (0..<42).map { _ in Int((noise.next() + 1) * 6.5) % 13 }
        return (model, inputs, targets)
    }

    /// Max relative error of analytic vs numeric gradient over the checked elements of one buffer.
    static func check(_ model: RWKV7TrainingModel<Double>, inputs: [Int], targets: [Int],
                      values: UnsafeMutableBufferPointer<Double>, grads: UnsafeMutableBufferPointer<Double>) throws -> (Double, Double) {
        var picks = Set([0, values.count - 1, values.count / 2, (values.count * 2) / 7])
        if let big = grads.indices.max(by: { abs(grads[$0]) < abs(grads[$1]) }) { picks.insert(big) }
        let scale = max(grads.map(abs).max() ?? 0, 1e-8)
        var worst = 0.0
        let h = 1e-5
        for j in picks {
            let saved = values[j]
            values[j] = saved + h
            let up = try model.forward(inputs: inputs, targets: targets)
            values[j] = saved - h
            let down = try model.forward(inputs: inputs, targets: targets)
            values[j] = saved
            let numeric = (up - down) / (2 * h)
            worst = max(worst, abs(numeric - grads[j]) / scale)
        }
        return (worst, scale)
    }

    @Test("Every parameter's gradient matches central differences (Float64)")
    func finiteDifferences() throws {
        let (model, inputs, targets) = try Self.randomModel()
        _ = try model.forward(inputs: inputs, targets: targets)
        model.backward(l2wrap: false)
        // Keep a copy: the forwards below do not touch gradients, but be explicit about what is compared.
        let analytic = Array(model.gradients.buffer)
        var report: [(String, Double)] = []
        for (i, spec) in model.layout.specs.enumerated() {
            let off = model.layout.offsets[i]
            let values = UnsafeMutableBufferPointer(rebasing: model.parameters.buffer[off..<(off + spec.count)])
            try analytic.withUnsafeBufferPointer { all in
                let g = UnsafeMutableBufferPointer(mutating: UnsafeBufferPointer(rebasing: all[off..<(off + spec.count)]))
                let (err, scale) = try Self.check(model, inputs: inputs, targets: targets, values: values, grads: g)
                report.append((spec.name, err))
                // Layer 0's v0/v1/v2 are unused: their gradient must be exactly zero.
                if spec.name.hasPrefix("blocks.0.att.v") && spec.name.count == "blocks.0.att.v0".count {
                    #expect(scale == 1e-8, "\(spec.name) should get no gradient")
                } else {
                    #expect(scale > 1e-8, "\(spec.name) got an all-zero gradient")
                }
            }
        }
        let worst = try #require(report.max(by: { $0.1 < $1.1 }))
        print("gradient check: \(report.count) tensors, worst relative error \(worst.1) (\(worst.0))")
        for (name, err) in report { #expect(err < 1e-6, "\(name): relative error \(err)") }
    }

    @Test("Initial-state gradient (state tuning) matches central differences")
    func initialStateGradient() throws {
        let (model, inputs, targets) = try Self.randomModel(trainsInitialState: true)
        _ = try model.forward(inputs: inputs, targets: targets)
        model.backward(l2wrap: false)
        let state = try #require(model.initialState), grads = try #require(model.stateGradients)
        let analytic = Array(grads.buffer)
        try analytic.withUnsafeBufferPointer { all in
            let g = UnsafeMutableBufferPointer(mutating: all)
            let (err, scale) = try Self.check(model, inputs: inputs, targets: targets, values: state.buffer, grads: g)
            print("state gradient check: worst relative error \(err)")
            #expect(scale > 1e-8)
            #expect(err < 1e-6)
        }
    }
}
