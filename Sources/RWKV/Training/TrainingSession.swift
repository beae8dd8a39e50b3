// One training run in Float: model + optimiser + data, a step at a time, with validation, resume
// checkpoints and export. The `rwkv train` command is a thin loop around this type.
//
// Resuming restores weights, Adam moments and the step counter; batches depend only on (seed, step),
// so a resumed run repeats the losses of an uninterrupted one exactly. State tuning (`stateTuning`)
// freezes the weights and trains only each layer's initial WKV state (L, H, N, N).

import Foundation

/// Settings of a run that must match when resuming.
public struct TrainingRunSettings: Sendable, Codable, Equatable {
    public var batch: Int
    public var context: Int
    public var seed: UInt64
    public var stateTuning = false
    public var validationBatches = 4

    public init(batch: Int, context: Int, seed: UInt64, stateTuning: Bool = false, validationBatches: Int = 4) {
        self.batch = batch; self.context = context; self.seed = seed
        self.stateTuning = stateTuning; self.validationBatches = validationBatches
    }

    var asDictionary: [String: String] {
        ["batch": "\(batch)", "context": "\(context)", "seed": "\(seed)", "stateTuning": "\(stateTuning)",
         "validationBatches": "\(validationBatches)"]
    }
}

/// What one optimiser step did.
public struct TrainingStepResult: Sendable {
    public var step: Int            // 1-based index of the step just taken
    public var loss: Double
    public var gradientNorm: Double
    public var learningRate: Double
}

public final class TrainingSession: @unchecked Sendable {
    public let model: RWKV7TrainingModel<Float>
    public let optimizer: AdamOptimizer<Float>
    public let settings: TrainingRunSettings
    public let data: TrainingData
    /// Steps taken so far.
    public var step: Int { optimizer.step }

    /// A new run: fresh official init (`seed`), or the weights of `initial` (fine-tuning).
    public init(dimensions: RWKV7Dimensions, settings: TrainingRunSettings, optimizer optimizerSettings: OptimizerSettings,
                data: TrainingData, initial: Checkpoint? = nil) throws {
        guard settings.batch > 0, settings.context > 0 else {
            throw TrainingError.invalidOption("batch \(settings.batch) and context \(settings.context) must be positive")
        }
        try data.validate(context: settings.context)
        if let bad = data.tokens.first(where: { Int($0) >= dimensions.vocabulary }) {
            throw TrainingError.data("token \(bad) does not fit the model's vocabulary of \(dimensions.vocabulary)")
        }
        self.settings = settings; self.data = data
        model = try RWKV7TrainingModel(dimensions: dimensions, batch: settings.batch, tokens: settings.context,
                                       trainsInitialState: settings.stateTuning)
        if let initial { try model.load(initial) } else { RWKV7Initializer.initialize(model, seed: settings.seed) }
        if settings.stateTuning, let state = model.initialState {
            optimizer = AdamOptimizer(settings: optimizerSettings, count: state.count, groups: [(0..<state.count, .plain)])
        } else {
            optimizer = AdamOptimizer(settings: optimizerSettings, layout: model.layout)
        }
    }

    /// One step: forward, backward, clip, Adam.
    public func trainStep() throws -> TrainingStepResult {
        let (inputs, targets) = try data.trainingBatch(step: step, batch: settings.batch, context: settings.context, seed: settings.seed)
        let loss = try model.forward(inputs: inputs, targets: targets)
        model.backward(l2wrap: true)
        let result: (gradientNorm: Double, learningRate: Double)
        if settings.stateTuning, let state = model.initialState, let grads = model.stateGradients {
            result = optimizer.update(parameters: state, gradients: grads)
        } else {
            result = optimizer.update(parameters: model.parameters, gradients: model.gradients)
        }
        return TrainingStepResult(step: step, loss: loss, gradientNorm: result.gradientNorm, learningRate: result.learningRate)
    }

    /// Mean loss over the fixed validation windows of the held-out tail.
    public func validationLoss() throws -> Double {
        let n = max(settings.validationBatches, 1)
        var total = 0.0
        for i in 0..<n {
            let (inputs, targets) = try data.validationBatch(index: i, count: n, batch: settings.batch, context: settings.context)
            total += try model.forward(inputs: inputs, targets: targets)
        }
        return total / Double(n)
    }

    // MARK: Files

    /// Writes weights + optimiser state atomically, for `resume`.
    public func saveResumeCheckpoint(path: String) throws {
        var names = ["parameters", "adam.m", "adam.v"]
        var arrays = [model.parameters.buffer]
        if let state = model.initialState {
            names = ["parameters", "state", "adam.m", "adam.v"]
            arrays.append(state.buffer)
        }
        arrays += [optimizer.m.buffer, optimizer.v.buffer]
        let header = ResumeHeader(dimensions: model.dimensions, optimizer: optimizer.settings, step: step,
                                  arrays: names, counts: arrays.map(\.count), run: settings.asDictionary)
        try ResumeFile.write(path: path, header: header, arrays: arrays)
    }

    /// Continues a run from `saveResumeCheckpoint`'s file. The data and run settings must be the same.
    public static func resume(path: String, settings: TrainingRunSettings, data: TrainingData) throws -> TrainingSession {
        let (header, arrays) = try ResumeFile.read(path: path)
        guard header.run == settings.asDictionary else {
            throw TrainingError.checkpoint(path: path, detail: "was written with \(header.run), this run uses \(settings.asDictionary)")
        }
        let session = try TrainingSession(dimensions: header.dimensions, settings: settings, optimizer: header.optimizer, data: data)
        var targets = [session.model.parameters.buffer]
        if let state = session.model.initialState { targets.append(state.buffer) }
        targets += [session.optimizer.m.buffer, session.optimizer.v.buffer]
        guard targets.map(\.count) == header.counts else {
            throw TrainingError.checkpoint(path: path, detail: "array sizes \(header.counts) do not match the model's \(targets.map(\.count))")
        }
        for (dst, src) in zip(targets, arrays) { _ = dst.update(fromContentsOf: src) }
        session.optimizer.step = header.step
        return session
    }

    /// Writes the weights as an official bf16 `.pth` (RWKV-LM `--load_model` reads it).
    public func exportPTH(path: String) throws {
        try model.exportCheckpoint().convertingFloats(to: .bfloat16).writePTH(to: path)
    }

    /// Writes the tuned initial states as `blocks.{l}.att.time_state` (H, N, N), fp32 safetensors.
    public func exportState(path: String) throws {
        guard let state = model.initialState else { throw TrainingError.invalidOption("this run does not tune the state") }
        let d = model.dimensions, size = d.heads * d.headSize * d.headSize
        var tensors: [String: Tensor] = [:]
        for l in 0..<d.layers {
            tensors["blocks.\(l).att.time_state"] = try Tensor(Array(state.buffer[(l * size)..<((l + 1) * size)]),
                                                                shape: [d.heads, d.headSize, d.headSize])
        }
        try Checkpoint(tensors: tensors).writeSafetensors(to: path)
    }
}
