// `rwkv logits`: raw logits for a token list, for scripts and cross-checks against other engines.

import ArgumentParser
import RWKV

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the logits after a list of token ids.")

    @OptionGroup var model: ModelOptions

    @Option(help: "Comma-separated token ids, e.g. 1,2,3.")
    var tokens: String

    @Flag(help: "Logits of every position, not only the last.")
    var all = false

    @Flag(help: "Feed the tokens one at a time (step mode) instead of as one chunk.")
    var step = false

    @Flag(help: "Print JSON.")
    var json = false

    struct Output: Encodable {
        var tokens: [Int]
        var logits: [[Float]]
    }

    func run() throws {
        let ids = try parseTokenList(tokens)
        guard !ids.isEmpty else { throw ValidationError("--tokens is empty") }
        let rwkv = try model.load()
        var state = rwkv.makeState()
        var rows: [[Float]] = []
        if step {
            for id in ids { rows.append(try rwkv.step(id, state: &state)) }
            if !all { rows = [rows[rows.count - 1]] }
        } else {
            let m = try rwkv.forward(ids, state: &state, allLogits: all)
            rows = (0..<m.rows).map { Array(m.data[($0 * m.cols)..<(($0 + 1) * m.cols)]) }
        }
        if json {
            try printJSON(Output(tokens: ids, logits: rows))
        } else {
            for row in rows { print(row.map { String($0) }.joined(separator: " ")) }
        }
    }
}
