// The training loop `rwkv train` runs: steps until a target, validation and loss-log writes at a
// cadence, resume checkpoints at another, progress reported to the caller (the CLI draws it).

import Foundation

/// What one step of `TrainingSession.run` reports.
public struct TrainingProgress: Sendable {
    public var step: Int, totalSteps: Int
    public var loss: Double, validationLoss: Double?
    public var gradientNorm: Double, learningRate: Double
    public var tokensPerSecond: Double, etaSeconds: Double
}

/// How often `run` measures and saves, and where.
public struct TrainingLoopSettings: Sendable {
    public var totalSteps: Int
    public var validationEvery: Int
    public var saveEvery: Int
    /// Where `loss.csv` / `loss.svg` are written (at every validation and at the end).
    public var directory: String
    /// The resume checkpoint (every `saveEvery` steps and at the end).
    public var resumePath: String

    public init(totalSteps: Int, validationEvery: Int, saveEvery: Int, directory: String, resumePath: String) {
        (self.totalSteps, self.validationEvery, self.saveEvery) = (totalSteps, max(1, validationEvery), max(1, saveEvery))
        (self.directory, self.resumePath) = (directory, resumePath)
    }
}

extension TrainingSession {
    /// Trains from the current step to `loop.totalSteps`, appending every step to `log`.
    public func run(_ loop: TrainingLoopSettings, tokensPerStep: Int, log: inout LossLog,
                    progress: (TrainingProgress) -> Void = { _ in }) throws {
        let start = Date(), firstStep = step
        while step < loop.totalSteps {
            let r = try trainStep()
            let measure = r.step % loop.validationEvery == 0 || r.step == loop.totalSteps
            let validation = measure ? try validationLoss() : nil
            log.append(.init(step: r.step, tokens: r.step * tokensPerStep, learningRate: r.learningRate, loss: r.loss,
                             validationLoss: validation))
            let elapsed = Date().timeIntervalSince(start), done = r.step - firstStep
            progress(TrainingProgress(step: r.step, totalSteps: loop.totalSteps, loss: r.loss, validationLoss: validation,
                                      gradientNorm: r.gradientNorm, learningRate: r.learningRate,
                                      tokensPerSecond: Double(done * tokensPerStep) / max(elapsed, 1e-9),
                                      etaSeconds: Double(loop.totalSteps - r.step) * elapsed / Double(max(done, 1))))
            if measure { try log.write(directory: loop.directory) }
            if r.step % loop.saveEvery == 0 { try saveResumeCheckpoint(path: loop.resumePath) }
        }
        try saveResumeCheckpoint(path: loop.resumePath)
        try log.write(directory: loop.directory)
    }
}
