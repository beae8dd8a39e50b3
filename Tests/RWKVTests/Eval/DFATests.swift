import Foundation
import Testing
@testable import RWKV

@Suite struct DFATests {
    /// Every function on n points, as an array of images.
    static func allFunctions(_ n: Int) -> [[Int]] {
        (0..<Int(pow(Double(n), Double(n)))).map { code in (0..<n).map { q in (code / Int(pow(Double(n), Double(q)))) % n } }
    }

    @Test func factorisationRebuildsEveryFunctionOnFourPoints() {
        for f in Self.allFunctions(4) {
            let ops = factorize(f)
            var columns = Array(0..<4)
            for op in ops { op.apply(to: &columns) }
            #expect(columns == f, "f = \(f)")
            #expect(ops.count <= 2 * 4 - 2)
            if Set(f).count == 4 { #expect(ops.allSatisfy { if case .copy = $0 { false } else { true } }) }
        }
    }

    @Test func wkvParametersAreTheColumnOperations() {
        // I − κ̂(α⊙κ̂)ᵀ applied on the right must act on columns exactly like `apply(to:)`.
        let n = 5
        for op in [ElementaryTransform.identity, .swap(1, 3), .swap(4, 0), .copy(into: 2, from: 0), .copy(into: 0, from: 4)] {
            let (kappa, alpha) = op.wkvParameters(size: n)
            #expect(abs(kappa.reduce(0) { $0 + $1 * $1 } - 1) < 1e-6)
            var columns = Array(0..<n)
            op.apply(to: &columns)
            for i in 0..<n {
                for j in 0..<n {
                    let g = (i == j ? 1 : 0) - kappa[i] * alpha[j] * kappa[j]
                    #expect(abs(g - (columns[j] == i ? 1 : 0)) < 1e-6, "\(op) G[\(i)][\(j)]")
                }
            }
        }
    }

    @Test func theKernelSwapsTwoColumnsOfTheState() {
        // The project's WKV7 kernel with w = 1, v = k = 0, a = −κ̂, b = 2κ̂, κ̂ = (e₁ − e₆)/√2.
        let n = 8
        let state0 = (0..<(n * n)).map { Float($0 % 7) - 3 }
        var state = state0, out = [Float](repeating: 0, count: n)
        let (kappa, alpha) = ElementaryTransform.swap(1, 6).wkvParameters(size: n)
        let a = kappa.map { -$0 }, b = zip(kappa, alpha).map { $0 * $1 }
        let ones = [Float](repeating: 1, count: n), zeros = [Float](repeating: 0, count: n)
        let kernels: [(WKV7Inputs, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void] = [
            { wkv7Reference($0, state: $1, out: $2) }, { wkv7($0, state: $1, out: $2) },
        ]
        for kernel in kernels {
            state = state0
            ones.withUnsafeBufferPointer { w in zeros.withUnsafeBufferPointer { z in a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in
                state.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
                    kernel(WKV7Inputs(tokens: 1, heads: 1, headSize: n, r: z, w: w, k: z, v: z, a: a, b: b), s, o)
                } }
            } } } }
            for i in 0..<n {
                for j in 0..<n {
                    let source = j == 1 ? 6 : j == 6 ? 1 : j
                    #expect(abs(state[i * n + j] - state0[i * n + source]) < 1e-5)
                }
            }
        }
    }

    @Test func reversedDFAAcceptsReversedStrings() {
        var rng = Xoshiro256StarStar(seed: 7)
        for _ in 0..<20 {
            let dfa = DFA.random(states: 4, symbols: 3, rng: &rng)
            let rev = dfa.reversed()!
            for _ in 0..<20 {
                let s = (0..<Int.random(in: 1...30, using: &rng)).map { _ in Int.random(in: 0..<3, using: &rng) }
                #expect(rev.accepts(s.reversed()) == dfa.accepts(s))
            }
        }
    }

    @Test func textFormatParsesAndRejectsIncompleteAutomata() throws {
        let text = "# a*b*\nalphabet ab\nstates 3\nstart 0\naccept 0 1\n0 a 0\n0 b 1\n1 a 2\n1 b 1\n2 a 2\n2 b 2\n"
        #expect(try DFA.parse(text) == DFA.aStarBStar)
        #expect(throws: (any Error).self) { try DFA.parse(text.replacingOccurrences(of: "2 b 2\n", with: "")) }
        #expect(throws: (any Error).self) { try DFA.parse(text + "0 a 1\n") }
        #expect(throws: (any Error).self) { try DFA.parse(text.replacingOccurrences(of: "1 a 2", with: "1 c 2")) }
    }

    @Test func builtInsAreRecognisedOnStringsUpToLength1000() throws {
        var rng = Xoshiro256StarStar(seed: 11)
        for dfa in [DFA.parity, DFA.aStarBStar, DFA.mod3] {
            let rec = try DFARecognizer(dfa: dfa)
            let report = checkRecognizer(rec, strings: 4, maxLength: 1000, rng: &rng)
            #expect(report.correct == report.prefixes, "\(dfa.alphabet)")
            // A string that stays in a*b* for its whole length exercises long runs of accepting prefixes.
            if dfa == .aStarBStar {
                let s = [Int](repeating: 0, count: 500) + [Int](repeating: 1, count: 500)
                #expect(rec.prefixAcceptance(s) == dfa.prefixAcceptance(s))
            }
        }
        #expect(try DFARecognizer(dfa: .parity).stepsPerSymbol == 1)
    }

    @Test func twentyFourRandomDFAsAreRecognisedExactly() throws {
        var rng = Xoshiro256StarStar(seed: 2025)
        var checked = 0
        for i in 0..<24 {
            let dfa = DFA.random(states: i < 18 ? 3 : 4, symbols: i % 3 == 0 ? 3 : 2, rng: &rng)
            let rec = try DFARecognizer(dfa: dfa)
            let report = checkRecognizer(rec, strings: 2, maxLength: 1000, rng: &rng)
            #expect(report.correct == report.prefixes, "DFA \(i): \(dfa)")
            checked += report.prefixes
        }
        #expect(checked > 10_000)
    }
}
