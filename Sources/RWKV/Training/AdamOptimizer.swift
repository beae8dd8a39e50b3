// Adam with RWKV-LM's parameter groups, decoupled weight decay, gradient clipping, warm-up and cosine
// learning-rate schedule (spec §9.3). fp32 master weights: the optimiser updates the parameter arena
// in place; its two moments are arenas with the same layout.
//
// Per element, with g the (clipped) gradient, t the 1-based step, lr the group's rate:
//   m ← β1·m + (1−β1)·g;   v ← β2·v + (1−β2)·g²
//   θ ← θ − lr·( (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε) + wd·θ )      (wd only in the `decayed` group)
// Not here: ZeRO sharding, bf16 compute, gradient accumulation over micro-batches.

import Foundation

/// Optimiser and schedule settings, with RWKV-LM's defaults.
public struct OptimizerSettings: Sendable, Codable, Equatable {
    public var lrInit: Double = 6e-4
    public var lrFinal: Double = 6e-5
    /// Steps of linear warm-up from 1 % of the rate (RWKV-LM `--warmup_steps`, demo 10).
    public var warmupSteps: Int = 10
    /// Tokens after which the cosine reaches `lrFinal` (RWKV-LM `my_exit_tokens`).
    public var exitTokens: Int = 1
    /// Tokens consumed by one step (B·T).
    public var tokensPerStep: Int = 1
    public var beta1: Double = 0.9, beta2: Double = 0.99, epsilon: Double = 1e-18
    public var weightDecay: Double = 0.001
    /// Global gradient-norm clip (0 = off).
    public var gradientClip: Double = 1.0

    public init() {}

    /// Throws unless the rates, betas and counts are finite and in range (they may come from a file).
    public func validate() throws {
        func fail(_ field: String, _ value: Any, _ expected: String) -> TrainingError {
            .invalidOption("optimizer \(field) is \(value), expected \(expected)")
        }
        for (name, x) in [("lrInit", lrInit), ("lrFinal", lrFinal), ("weightDecay", weightDecay), ("gradientClip", gradientClip)]
        where !(x.isFinite && x >= 0) { throw fail(name, x, "a finite number ≥ 0") }
        for (name, x) in [("beta1", beta1), ("beta2", beta2)] where !(x >= 0 && x < 1) { throw fail(name, x, "0 ≤ beta < 1") }
        guard epsilon.isFinite, epsilon > 0 else { throw fail("epsilon", epsilon, "a finite number > 0") }
        for (name, n) in [("warmupSteps", warmupSteps), ("exitTokens", exitTokens)] where !(0...(1 << 53)).contains(n) {
            throw fail(name, n, "0...2^53")
        }
        guard (1...(1 << 40)).contains(tokensPerStep) else { throw fail("tokensPerStep", tokensPerStep, "1...2^40") }
    }

    /// Learning rate of step `step` (0-based, = steps already taken), before the group multiplier.
    ///   progress = clamp((tokens − warmupTokens)/(exitTokens − warmupTokens), 0, 1)
    ///   lr = lrInit·((0.5 + f/2) + (0.5 − f/2)·cos(π·progress)),  f = lrFinal/lrInit
    ///   and during warm-up lr·(0.01 + 0.99·step/warmupSteps).
    public func learningRate(step: Int) -> Double {
        var lr = lrInit
        if lrFinal != lrInit, exitTokens > 0, lrInit > 0 {
            // In Double: step and the settings may come from a resume file, and products of them overflow Int.
            let tokens = Double(step) * Double(tokensPerStep), warmupTokens = Double(warmupSteps) * Double(tokensPerStep)
            let span = Double(exitTokens) - warmupTokens
            let progress = span > 0 ? min(max((tokens - warmupTokens) / span, 0), 1) : 1
            let f = lrFinal / lrInit
            lr = lrInit * ((0.5 + f / 2) + (0.5 - f / 2) * Foundation.cos(Double.pi * progress))
        }
        if step < warmupSteps { lr *= 0.01 + 0.99 * Double(step) / Double(warmupSteps) }
        return lr
    }
}

/// Adam over one parameter arena, group by group.
public final class AdamOptimizer<S: TrainingScalar>: @unchecked Sendable {
    public var settings: OptimizerSettings
    /// First and second moments, same layout as the parameters.
    public let m: Arena<S>, v: Arena<S>
    /// Steps taken so far.
    public var step = 0
    /// (element range, group) covering the arena.
    let groups: [(Range<Int>, ParameterGroup)]

    public init(settings: OptimizerSettings, count: Int, groups: [(Range<Int>, ParameterGroup)]) {
        self.settings = settings
        m = Arena(count: count); v = Arena(count: count)
        self.groups = groups
    }

    /// An optimiser for all parameters of a layout, grouped as RWKV-LM does.
    public convenience init(settings: OptimizerSettings, layout: ParameterLayout) {
        let groups = layout.specs.indices.map { i in
            (layout.offsets[i]..<(layout.offsets[i] + layout.specs[i].count), layout.specs[i].group)
        }
        self.init(settings: settings, count: layout.count, groups: groups)
    }

    /// Clips `gradients` to the global norm limit (in place) and applies one Adam step to `parameters`.
    /// Returns the gradient norm before clipping and the base learning rate used.
    @discardableResult
    public func update(parameters: Arena<S>, gradients: Arena<S>) -> (gradientNorm: Double, learningRate: Double) {
        let g = gradients.buffer, p = parameters.buffer, mm = m.buffer, vv = v.buffer
        var sq = 0.0
        for x in g { sq += Double(x) * Double(x) }
        let norm = sq.squareRoot()
        let clip = settings.gradientClip > 0 && norm > settings.gradientClip ? settings.gradientClip / norm : 1
        let lr = settings.learningRate(step: step)
        step += 1
        let b1 = S(settings.beta1), b2 = S(settings.beta2), eps = S(settings.epsilon)
        let c1 = S(1 - Foundation.pow(settings.beta1, Double(step))), c2 = S(1 - Foundation.pow(settings.beta2, Double(step)))
        for (range, group) in groups {
            let rate = S(group == .decayBias ? 2 * lr : lr)
            let wd = S(group == .decayed ? settings.weightDecay : 0)
            for i in range {
                let gi = g[i] * S(clip)
                mm[i] = b1 * mm[i] + (1 - b1) * gi
                vv[i] = b2 * vv[i] + (1 - b2) * gi * gi
                let update = (mm[i] / c1) / ((vv[i] / c2).squareRoot() + eps)
                p[i] -= rate * (update + wd * p[i])
            }
        }
        return (norm, lr)
    }
}
