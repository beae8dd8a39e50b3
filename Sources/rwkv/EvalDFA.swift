// `rwkv eval dfa`: a WKV7 head built by hand (no training) that recognises a DFA's language.

import ArgumentParser
import Foundation
import RWKV

struct EvalDFA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dfa",
        abstract: "Build a WKV7 head recognising a DFA's language (RWKV-7 appendix D) and check it on random strings.")

    @Option(help: "Built-in DFA: parity, a*b*, mod3.") var builtin: String?
    @Option(help: "DFA file (text format: alphabet, states, start, accept, 'FROM SYMBOL TO' lines).") var file: String?
    @Option(help: "Instead, build and check this many random DFAs.") var random: Int?
    @Option(help: "States of each random DFA.") var states = 4
    @Option(help: "Alphabet size of each random DFA.") var symbols = 2
    @Option(help: "Random seed (DFAs and strings).") var seed: UInt64 = 1
    @Flag(help: "Run the head on random strings and compare every prefix with the DFA.") var check = false
    @Option(help: "Random strings per DFA for --check.") var strings = 100
    @Option(help: "Longest random string (lengths are uniform in 1…this).") var maxLength = 1000
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        try requirePositive([("--random", random), ("--states", states), ("--symbols", symbols), ("--strings", strings), ("--max-length", maxLength)])
        if [builtin != nil, file != nil, random != nil].filter({ $0 }).count > 1 { throw ValidationError("give one of --builtin, --file, --random") }
        if let builtin, DFA.builtIns[builtin] == nil {
            throw ValidationError("unknown built-in '\(builtin)'; choose one of \(DFA.builtIns.keys.sorted().joined(separator: ", "))")
        }
        if states > 8 { throw ValidationError("--states is at most 8 (the reversed DFA can have 2^states states)") }
        if symbols > 26 { throw ValidationError("--symbols is at most 26") }
    }

    struct Row: Encodable { var name: String; var dfa: DFA; var check: DFACheckReport?; var reverseStates: Int; var headSize: Int; var tokensPerSymbol: Int }

    func run() throws {
        var rng = Xoshiro256StarStar(seed: seed)
        var named: [(String, DFA)] = []
        if let random {
            for i in 0..<random { named.append(("random \(i + 1)", DFA.random(states: states, symbols: symbols, rng: &rng))) }
        } else if let file {
            named = [((file as NSString).lastPathComponent, try DFA.parse(try String(contentsOfFile: file, encoding: .utf8)))]
        } else {
            let name = builtin ?? "parity"
            named = [(name, DFA.builtIns[name]!)]
        }
        let bar = ProgressBar("dfa", unit: "DFAs", quiet: !check || named.count == 1)
        let start = Date()
        var rows: [Row] = []
        for (i, (name, dfa)) in named.enumerated() {
            let rec = try DFARecognizer(dfa: dfa)
            let report = check ? checkRecognizer(rec, strings: strings, maxLength: maxLength, rng: &rng) : nil
            rows.append(Row(name: name, dfa: dfa, check: report, reverseStates: rec.reverse.stateCount, headSize: rec.headSize,
                            tokensPerSymbol: rec.stepsPerSymbol))
            bar.update(i + 1, named.count)
            if !json && named.count == 1 { describe(rec) }
        }
        bar.finish()
        if json { try printJSON(rows); return }
        print("DFA            states  reverse  head  tokens/symbol  " + (check ? "prefixes checked  accuracy" : ""))
        for r in rows {
            let c = r.check.map { String(format: "%16d  %7.3f %%", $0.prefixes, 100 * $0.accuracy) } ?? ""
            print(r.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                  + String(format: " %6d  %7d  %4d  %13d  ", r.dfa.stateCount, r.reverseStates, r.headSize, r.tokensPerSymbol) + c)
        }
        if check {
            let all = rows.compactMap(\.check), total = all.reduce(0) { $0 + $1.prefixes }, ok = all.reduce(0) { $0 + $1.correct }
            print(String(format: "all: %d / %d prefixes correct (%.4f %%), %.1f s", ok, total, 100 * Double(ok) / Double(max(total, 1)),
                         Date().timeIntervalSince(start)))
            if ok != total { throw ExitCode.failure }
        }
    }

    private func describe(_ rec: DFARecognizer) {
        print("reversed DFA: \(rec.reverse.stateCount) states; WKV head size \(rec.headSize); \(rec.stepsPerSymbol) tokens per symbol")
        for (s, program) in rec.programs.enumerated() {
            let ops = program.map { op -> String in
                switch op {
                case .identity: return "id"
                case let .swap(i, j): return "swap(\(i),\(j))"
                case let .copy(into, from): return "copy(\(from)→\(into))"
                }
            }
            print("  '\(rec.dfa.alphabet[s])': " + ops.joined(separator: " "))
        }
    }
}
