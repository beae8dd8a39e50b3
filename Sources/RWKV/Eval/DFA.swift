// Deterministic finite automata: a small text format, built-in examples, random automata, and the
// reverse-language DFA (subset construction) that the WKV construction in DFARecognizer.swift runs.
//
// Text format, one item per line ('#' starts a comment):
//   alphabet ab          symbols, one character each
//   states 3             states are 0 ..< n
//   start 0
//   accept 0 1           accepting states (may be empty)
//   0 a 0                transition: from, symbol, to (every pair must be given)

import Foundation

public struct DFA: Sendable, Equatable, Codable {
    public var alphabet: [Character]
    public var stateCount: Int
    /// transitions[symbol][state] = next state.
    public var transitions: [[Int]]
    public var start: Int
    public var accepting: Set<Int>

    public init(alphabet: [Character], stateCount: Int, transitions: [[Int]], start: Int, accepting: Set<Int>) {
        self.alphabet = alphabet; self.stateCount = stateCount; self.transitions = transitions
        self.start = start; self.accepting = accepting
    }

    enum CodingKeys: String, CodingKey { case alphabet, stateCount, transitions, start, accepting }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(String(alphabet), forKey: .alphabet); try c.encode(stateCount, forKey: .stateCount)
        try c.encode(transitions, forKey: .transitions); try c.encode(start, forKey: .start)
        try c.encode(accepting.sorted(), forKey: .accepting)
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(alphabet: Array(try c.decode(String.self, forKey: .alphabet)), stateCount: try c.decode(Int.self, forKey: .stateCount),
                  transitions: try c.decode([[Int]].self, forKey: .transitions), start: try c.decode(Int.self, forKey: .start),
                  accepting: Set(try c.decode([Int].self, forKey: .accepting)))
    }

    /// Index of a symbol, nil if it is not in the alphabet.
    public func symbolIndex(_ c: Character) -> Int? { alphabet.firstIndex(of: c) }

    /// Whether each prefix (lengths 1 … n) of `symbols` (alphabet indices) is accepted.
    public func prefixAcceptance(_ symbols: [Int]) -> [Bool] {
        var q = start
        return symbols.map { s in q = transitions[s][q]; return accepting.contains(q) }
    }

    public func accepts(_ symbols: [Int]) -> Bool { prefixAcceptance(symbols).last ?? accepting.contains(start) }

    // MARK: Built-ins

    /// Strings over {0,1} with an even number of 1s.
    public static let parity = DFA(alphabet: ["0", "1"], stateCount: 2, transitions: [[0, 1], [1, 0]], start: 0, accepting: [0])
    /// a*b*: state 0 reading a's, 1 reading b's, 2 dead.
    public static let aStarBStar = DFA(alphabet: ["a", "b"], stateCount: 3, transitions: [[0, 2, 2], [1, 1, 2]], start: 0, accepting: [0, 1])
    /// Digits 0–2 whose sum is divisible by 3.
    public static let mod3 = DFA(alphabet: ["0", "1", "2"], stateCount: 3, transitions: [[0, 1, 2], [1, 2, 0], [2, 0, 1]],
                                 start: 0, accepting: [0])
    public static let builtIns: [String: DFA] = ["parity": parity, "a*b*": aStarBStar, "mod3": mod3]

    /// A uniformly random complete DFA over the first `symbols` letters a, b, c, …, start 0, each state
    /// accepting with probability 1/2.
    public static func random(states: Int, symbols: Int, rng: inout some RandomNumberGenerator) -> DFA {
        let letters = Array("abcdefghijklmnopqrstuvwxyz".prefix(max(1, min(symbols, 26))))
        let t = letters.map { _ in (0..<states).map { _ in Int.random(in: 0..<states, using: &rng) } }
        let acc = Set((0..<states).filter { _ in Bool.random(using: &rng) })
        return DFA(alphabet: letters, stateCount: states, transitions: t, start: 0, accepting: acc)
    }

    // MARK: Text format

    public static func parse(_ text: String) throws -> DFA {
        func fail(_ n: Int, _ why: String) -> Error {
            CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "DFA line \(n): \(why)"])
        }
        var alphabet: [Character] = [], states = 0, start = 0, accepting = Set<Int>(), edges: [(Int, Int, Character, Int)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].split(separator: " ").map(String.init)
            guard let head = words.first else { continue }
            switch head {
            case "alphabet": alphabet = Array(words.dropFirst().joined())
            case "states": guard words.count == 2, let s = Int(words[1]), s > 0 else { throw fail(n + 1, "states N") }; states = s
            case "start": guard words.count == 2, let s = Int(words[1]) else { throw fail(n + 1, "start STATE") }; start = s
            case "accept": accepting = Set(try words.dropFirst().map { guard let s = Int($0) else { throw fail(n + 1, "accept S…") }; return s })
            default:
                guard words.count == 3, let from = Int(words[0]), words[1].count == 1, let to = Int(words[2]) else {
                    throw fail(n + 1, "expected 'FROM SYMBOL TO', found '\(raw)'")
                }
                edges.append((n + 1, from, Character(words[1]), to))
            }
        }
        guard states > 0, !alphabet.isEmpty, Set(alphabet).count == alphabet.count else { throw fail(0, "need 'states N' and a duplicate-free 'alphabet'") }
        var t = [[Int]](repeating: [Int](repeating: -1, count: states), count: alphabet.count)
        for (line, from, c, to) in edges {
            guard let s = alphabet.firstIndex(of: c), (0..<states).contains(from), (0..<states).contains(to) else { throw fail(line, "unknown state or symbol") }
            guard t[s][from] < 0 else { throw fail(line, "second transition for (\(from), \(c))") }
            t[s][from] = to
        }
        if let s = t.firstIndex(where: { $0.contains(-1) }) { throw fail(0, "missing transitions for symbol '\(alphabet[s])'") }
        guard (0..<states).contains(start), accepting.allSatisfy({ (0..<states).contains($0) }) else { throw fail(0, "start/accept out of range") }
        return DFA(alphabet: alphabet, stateCount: states, transitions: t, start: start, accepting: accepting)
    }

    /// A DFA for the reversed language (subset construction over reachable subsets, at most `limit`):
    /// it accepts s₁…sₜ iff this DFA accepts sₜ…s₁. Its states are sets of our states; it starts at the
    /// accepting set and accepts a set that contains our start state.
    public func reversed(limit: Int = 1 << 16) -> DFA? {
        var index: [UInt64: Int] = [:], sets: [UInt64] = []
        func id(_ s: UInt64) -> Int {
            if let i = index[s] { return i }
            index[s] = sets.count; sets.append(s); return sets.count - 1
        }
        guard stateCount <= 64 else { return nil }
        _ = id(accepting.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) })
        var t = alphabet.map { _ in [Int]() }, k = 0
        while k < sets.count {
            guard sets.count <= limit else { return nil }
            let s = sets[k]
            for a in alphabet.indices {
                var pre: UInt64 = 0
                for q in 0..<stateCount where s & (1 << UInt64(transitions[a][q])) != 0 { pre |= 1 << UInt64(q) }
                t[a].append(id(pre))
            }
            k += 1
        }
        let acc = Set(sets.indices.filter { sets[$0] & (1 << UInt64(start)) != 0 })
        return DFA(alphabet: alphabet, stateCount: sets.count, transitions: t, start: 0, accepting: acc)
    }
}
