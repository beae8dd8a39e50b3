// SamplerTests: pip's sampling order (spec §7.1), greedy and top-k edge cases, seeds, distribution.

import Foundation
import Testing
@testable import RWKV

@Suite struct SamplerTests {
    /// Logits whose softmax is `probs`.
    func logits(_ probs: [Double]) -> [Float] { probs.map { Float(log($0)) } }

    func randomLogits(_ count: Int, spread: Float, _ rng: inout Xoshiro256StarStar) -> [Float] {
        (0..<count).map { _ in Float(rng.nextUnitDouble() * 2 - 1) * spread }
    }

    @Test func temperatureZeroIsArgmaxWithLowestIndexOnTies() throws {
        var rng = Xoshiro256StarStar(seed: 1)
        #expect(try sampleLogits([0, 3, 1, 3], temperature: 0, topP: 0.85, topK: 0, using: &rng) == 1)
        #expect(try sampleLogits([-.infinity, -5, -7], temperature: 0, topP: 1, topK: 0, using: &rng) == 1)
    }

    @Test func topKOneIsArgmax() throws {
        var rng = Xoshiro256StarStar(seed: 2)
        for _ in 0..<50 {
            let l = randomLogits(1000, spread: 3, &rng)
            let best = try argmax(l)
            #expect(try sampleLogits(l, temperature: 1.3, topP: 1, topK: 1, using: &rng) == best)
        }
    }

    @Test func lowTemperatureWithoutFiltersPicksTheLikeliestToken() throws {
        // Token 0 is very unlikely; weights must be scaled by the largest probability, not the first.
        var rng = Xoshiro256StarStar(seed: 3)
        for _ in 0..<100 {
            #expect(try sampleLogits([-50, 1, 0], temperature: 0.01, topP: 1, topK: 0, using: &rng) == 1)
        }
    }

    @Test func nucleusCutoffUsesGreaterOrEqualAndKeepsTies() {
        let probs: [Float] = [0.3, 0.4, 0.3, 0.0]
        // Sorted: 0.4 (id 1), 0.3 (id 0), 0.3 (id 2); cumsum 0.4, 0.7, 1.0.
        #expect(keptTokens(probs, topP: 0.35, topK: 0) == [1])
        #expect(keptTokens(probs, topP: 0.4, topK: 0) == [1])  // cum >= topP, not >
        #expect(keptTokens(probs, topP: 0.5, topK: 0) == [1, 0, 2])  // cutoff 0.3: the tie survives
        #expect(keptTokens(probs, topP: 0, topK: 0) == [1])
        #expect(keptTokens(probs, topP: 1, topK: 0) == [0, 1, 2, 3])  // >= 1 disables the filter
        #expect(keptTokens(probs, topP: 0.5, topK: 2) == [1, 0])  // top-k after top-p; ties keep lower ids
        #expect(keptTokens(probs, topP: 1, topK: 3) == [1, 0, 2])
    }

    @Test func fastFilterMatchesTheFullSortTwin() {
        var rng = Xoshiro256StarStar(seed: 4)
        for trial in 0..<60 {
            let count = trial == 59 ? 65_536 : [3, 50, 1000, 5000][trial % 4]
            var l = randomLogits(count, spread: [0.01, 2, 8, 30][trial / 4 % 4], &rng)
            if trial % 3 == 0 { for i in stride(from: 0, to: count, by: 7) { l[i] = l[0] } }  // ties
            let probs = softmax(l, maximum: l.max()!)
            let topP = Float([0.0, 0.2, 0.5, 0.85, 0.99, 0.9999, 1.0][trial % 7])
            let topK = [0, 0, 1, 5, 40][trial % 5]
            // Compared as sets: without any filter the fast version keeps index order.
            #expect(keptTokens(probs, topP: topP, topK: topK).sorted() == keptTokensReference(probs, topP: topP, topK: topK).sorted(),
                    "trial \(trial): n \(count) topP \(topP) topK \(topK)")
        }
    }

    @Test func seedsReproduceAndDiffer() throws {
        var source = Xoshiro256StarStar(seed: 5)
        let l = randomLogits(500, spread: 2, &source)
        func draws(_ seed: UInt64) throws -> [Int] {
            var rng = Xoshiro256StarStar(seed: seed)
            return try (0..<40).map { _ in try sampleLogits(l, temperature: 1, topP: 0.9, topK: 0, using: &rng) }
        }
        #expect(try draws(11) == draws(11))
        #expect(try draws(11) != draws(12))
    }

    /// Pearson chi-square of `counts` against `expected` probabilities.
    func chiSquare(_ counts: [Int], _ expected: [Double]) -> Double {
        let n = Double(counts.reduce(0, +))
        return zip(counts, expected).reduce(0) { $0 + pow(Double($1.0) - n * $1.1, 2) / (n * $1.1) }
    }

    @Test(arguments: [
        // (temperature, topP, expected distribution over the 4 tokens of [0.5, 0.3, 0.15, 0.05])
        (1.0, 1.0, [0.5, 0.3, 0.15, 0.05]),
        (0.5, 1.0, [0.25, 0.09, 0.0225, 0.0025].map { $0 / 0.365 }),  // p^2, normalised
        (1.0, 0.85, [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0]),  // cumsum reaches 0.85 at 0.15
        (2.0, 0.7, [sqrt(0.5) / (sqrt(0.5) + sqrt(0.3)), sqrt(0.3) / (sqrt(0.5) + sqrt(0.3)), 0, 0]),
    ])
    func drawsFollowTheExpectedDistribution(temperature: Double, topP: Double, expected: [Double]) throws {
        var rng = Xoshiro256StarStar(seed: 6)
        var counts = [0, 0, 0, 0]
        for _ in 0..<40_000 {
            counts[try sampleLogits(logits([0.5, 0.3, 0.15, 0.05]), temperature: temperature, topP: topP, topK: 0, using: &rng)] += 1
        }
        for (count, p) in zip(counts, expected) where p == 0 { #expect(count == 0) }
        let kept = expected.indices.filter { expected[$0] > 0 }
        // 3 degrees of freedom at most: 16.3 is the 0.1% critical value.
        #expect(chiSquare(kept.map { counts[$0] }, kept.map { expected[$0] }) < 16.3, "counts \(counts)")
    }

    @Test func brokenLogitsThrow() {
        var rng = Xoshiro256StarStar(seed: 7)
        let cases: [[Float]] = [[], [0, .nan], [.infinity, 0], [-.infinity, -.infinity]]
        for l in cases {
            let error = #expect(throws: SamplingError.self) { try sampleLogits(l, temperature: 1, topP: 0.5, topK: 0, using: &rng) }
            #expect(error?.code == .invalidLogits)
        }
    }

    @Test func parametersDefaultToPipAndValidate() throws {
        let p = SamplingParameters()
        #expect(p.temperature == 1.0 && p.topP == 0.85 && p.topK == 0)
        #expect(p.presencePenalty == 0.2 && p.frequencyPenalty == 0.2 && p.penaltyDecay == 0.996)
        try p.validate(vocabularySize: 65_536)
        var bad = p
        bad.bannedTokens = [70_000]
        let error = #expect(throws: SamplingError.self) { try bad.validate(vocabularySize: 65_536) }
        #expect(error?.message.contains("70000") == true)
        bad = p
        bad.temperature = -1
        #expect(throws: SamplingError.self) { try bad.validate() }
    }
}
