// The RWKV-7 paper's constructive result (appendix D), as code: a WKV7 head whose state is the
// transition function of a DFA, updated by elementary column operations.
//
// The state S (N×N, [value][key]) holds a function g on states as the matrix with column q = e_g(q).
// One WKV7 step with w = 1, v = k = 0, a = −κ̂, b = κ̂ ⊙ α is S ← S·(I − κ̂ (α⊙κ̂)ᵀ), and with
// κ̂ = (e_i − e_j)/√2 that is a column operation: α_i = α_j = 2 swaps columns i and j (a reflection),
// α_i = 2, α_j = 0 copies column j into column i. Right multiplication composes on the right (g ← g∘op),
// so the head runs the DFA of the *reversed* language: after s₁…sₜ its state is the function
// q ↦ δ_rev(q, sₜ…s₁), and r = e_start reads column start, i.e. the state of the reverse DFA after the
// reversed input, which accepts exactly when the original DFA accepts s₁…sₜ.
//
// Each symbol's transition function factors into at most 2n−2 elementary operations (permutation by
// swaps, then copies for merged states), so each input symbol is fed as K = max ops tokens (token id
// symbol·K + step), the answer read after the last one. Two departures from a trained RWKV-7 checkpoint,
// both forced by its parametrisation (docs/experiments.md, "DFA"): α = σ(·) < 1 and w ≥ exp(−e^−½) ≈ 0.545
// keep every transition's eigenvalues in [−0.455, 1], so no reflection (eigenvalue −1) and no exact copy
// exists; the construction needs α = 2. And the initial state is the identity, not zero.

import Foundation

/// One column operation on the state matrix.
public enum ElementaryTransform: Sendable, Equatable {
    case identity
    case swap(Int, Int)
    /// Column `into` becomes a copy of column `from`.
    case copy(into: Int, from: Int)

    /// Applies the operation to a function stored as its column images (`columns[q]` = g(q)).
    public func apply(to columns: inout [Int]) {
        switch self {
        case .identity: break
        case let .swap(i, j): columns.swapAt(i, j)
        case let .copy(into, from): columns[into] = columns[from]
        }
    }

    /// κ̂ (unit length) and α for a state of `size` keys such that I − κ̂(α⊙κ̂)ᵀ is this operation.
    public func wkvParameters(size: Int) -> (kappa: [Float], alpha: [Float]) {
        var kappa = [Float](repeating: 0, count: size), alpha = [Float](repeating: 0, count: size)
        let h = Float(0.5).squareRoot()
        switch self {
        case .identity:
            kappa[0] = 1
        case let .swap(i, j):
            kappa[i] = h; kappa[j] = -h; alpha[i] = 2; alpha[j] = 2
        case let .copy(into, from):
            kappa[into] = h; kappa[from] = -h; alpha[into] = 2
        }
        return (kappa, alpha)
    }
}

/// Operations e₁…eₘ with e₁∘…∘eₘ = f (applied in order to the identity's columns they give f),
/// m ≤ 2n − 2: a permutation by swaps that puts one preimage of every image value in place, then copies.
public func factorize(_ f: [Int]) -> [ElementaryTransform] {
    let n = f.count
    var representative: [Int: Int] = [:]
    for q in 0..<n where representative[f[q]] == nil { representative[f[q]] = q }
    let unused = (0..<n).filter { representative[$0] == nil }
    var target = [Int](repeating: -1, count: n), u = 0
    for q in 0..<n {
        if representative[f[q]] == q { target[q] = f[q] } else { target[q] = unused[u]; u += 1 }
    }
    var columns = Array(0..<n), ops: [ElementaryTransform] = []
    for q in 0..<n where columns[q] != target[q] {
        let c = columns.firstIndex(of: target[q])!
        ops.append(.swap(q, c))
        columns.swapAt(q, c)
    }
    for q in 0..<n where representative[f[q]] != q { ops.append(.copy(into: q, from: representative[f[q]]!)) }
    return ops
}

/// A WKV7 head built by hand to recognise a DFA's language.
public struct DFARecognizer: Sendable {
    public let dfa: DFA
    /// The reversed-language DFA the head runs.
    public let reverse: DFA
    /// Head size: reverse-DFA states rounded up to a multiple of 8.
    public let headSize: Int
    /// Tokens per input symbol.
    public let stepsPerSymbol: Int
    /// Per symbol, its operations padded with identities to `stepsPerSymbol`.
    public let programs: [[ElementaryTransform]]

    public enum BuildError: Error, CustomStringConvertible {
        case tooManyStates(Int)
        public var description: String {
            switch self { case let .tooManyStates(n): return "the reversed DFA has more than \(n) reachable states (head size limit)" }
        }
    }

    public init(dfa: DFA, maxHeadSize: Int = 256) throws {
        guard let reverse = dfa.reversed(limit: maxHeadSize) else { throw BuildError.tooManyStates(maxHeadSize) }
        self.dfa = dfa
        self.reverse = reverse
        headSize = max(8, (reverse.stateCount + 7) / 8 * 8)
        let raw = reverse.transitions.map { factorize($0) }
        let k = max(1, raw.map(\.count).max() ?? 1)
        stepsPerSymbol = k
        programs = raw.map { $0 + [ElementaryTransform](repeating: .identity, count: k - $0.count) }
    }

    /// Token ids of a string of symbol indices: symbol s becomes s·K, s·K + 1, …, s·K + K − 1.
    public func tokens(for symbols: [Int]) -> [Int] {
        symbols.flatMap { s in (0..<stepsPerSymbol).map { s * stepsPerSymbol + $0 } }
    }

    /// Runs the head (the project's WKV7 kernel) over the expanded string and reads, after each
    /// symbol, the sign of u·(S r) with u = +1 on accepting reverse states, −1 on the others.
    public func prefixAcceptance(_ symbols: [Int], chunk: Int = 1024) -> [Bool] {
        let n = headSize, k = stepsPerSymbol
        let params = programs.map { $0.map { $0.wkvParameters(size: n) } }
        var state = [Float](repeating: 0, count: n * n)
        for i in 0..<n { state[i * n + i] = 1 }
        let readout = (0..<n).map { f -> Float in f < reverse.stateCount ? (reverse.accepting.contains(f) ? 1 : -1) : 0 }
        var answers: [Bool] = []
        answers.reserveCapacity(symbols.count)
        var start = 0
        let perChunk = max(1, chunk / k)
        while start < symbols.count {
            let piece = symbols[start..<min(start + perChunk, symbols.count)]
            let t = piece.count * k
            var r = [Float](repeating: 0, count: t * n), a = r, b = r, out = r
            let ones = [Float](repeating: 1, count: t * n), zeros = r
            for (p, s) in piece.enumerated() {
                for step in 0..<k {
                    let row = (p * k + step) * n
                    r[row + reverse.start] = 1
                    let (kappa, alpha) = params[s][step]
                    for j in 0..<n { a[row + j] = -kappa[j]; b[row + j] = kappa[j] * alpha[j] }
                }
            }
            r.withUnsafeBufferPointer { r in ones.withUnsafeBufferPointer { w in zeros.withUnsafeBufferPointer { z in
                a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in
                    state.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
                        wkv7(WKV7Inputs(tokens: t, heads: 1, headSize: n, r: r, w: w, k: z, v: z, a: a, b: b), state: s, out: o)
                    } }
                } }
            } } }
            for p in 0..<piece.count {
                let row = (p * k + k - 1) * n
                var score: Float = 0
                for f in 0..<n { score += readout[f] * out[row + f] }
                answers.append(score > 0)
            }
            start += piece.count
        }
        return answers
    }
}

/// Result of checking a recogniser on random strings.
public struct DFACheckReport: Sendable, Codable, Equatable {
    public var strings: Int
    /// Prefixes compared (every prefix of every string).
    public var prefixes: Int
    public var correct: Int
    public var accuracy: Double { prefixes == 0 ? 1 : Double(correct) / Double(prefixes) }
    public var reverseStates: Int, headSize: Int, tokensPerSymbol: Int
}

/// Compares the head's answer with the DFA on every prefix of `count` random strings of lengths
/// uniform in 1…maxLength.
public func checkRecognizer(_ rec: DFARecognizer, strings count: Int, maxLength: Int,
                            rng: inout some RandomNumberGenerator) -> DFACheckReport {
    var prefixes = 0, correct = 0
    for _ in 0..<count {
        let len = Int.random(in: 1...max(1, maxLength), using: &rng)
        let s = (0..<len).map { _ in Int.random(in: 0..<rec.dfa.alphabet.count, using: &rng) }
        let want = rec.dfa.prefixAcceptance(s), got = rec.prefixAcceptance(s)
        prefixes += len
        correct += zip(want, got).filter { $0 == $1 }.count
    }
    return DFACheckReport(strings: count, prefixes: prefixes, correct: correct, reverseStates: rec.reverse.stateCount,
                          headSize: rec.headSize, tokensPerSymbol: rec.stepsPerSymbol)
}
