// `rwkv eval <task>`: the RWKV papers' measurements as commands (docs/experiments.md).

import ArgumentParser
import Foundation
import RWKV

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model: perplexity, long-context loss, LAMBADA, state size, hand-built DFA recognisers.",
        subcommands: [EvalPerplexity.self, EvalLongContext.self, EvalLambada.self, EvalState.self, EvalDFA.self])
}

struct EvalPerplexity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppl",
        abstract: "Bits per byte, bits per token and perplexity over a text file (streamed, state carried).")

    @OptionGroup var model: ModelOptions
    @Option(help: "Text file.") var file: String
    @Option(help: "Read at most this many bytes.") var maxBytes: Int?
    @Option(help: "Tokens per forward call.") var chunk = 256
    @Option(help: "Token fed before the text so its first token is scored (default: 0 for World models, none for byte models).")
    var bos: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { try requirePositive([("--max-bytes", maxBytes), ("--chunk", chunk)]) }

    func run() throws {
        let m = try model.load()
        let (tokenizer, bosToken) = try tokenizerAndBOS(for: m, bos: bos)
        let bar = ProgressBar("ppl", unit: "bytes")
        let start = Date()
        let report = try evaluatePerplexity(model: m, tokenizer: tokenizer, path: file, maxBytes: maxBytes, chunk: chunk,
                                            bos: bosToken, progress: bar.update)
        bar.finish()
        let seconds = Date().timeIntervalSince(start)
        if json {
            struct Output: Encodable { var file: String; var model: String; var seconds: Double; var report: PerplexityReport }
            try printJSON(Output(file: file, model: try model.resolvedPath(), seconds: seconds, report: report))
            return
        }
        print(String(format: "%@: %d tokens, %d bytes: %.4f bits/byte, %.4f bits/token, perplexity %.4f (%.1f s)",
                     file, report.tokens, report.bytes, report.bitsPerByte, report.bitsPerToken, report.perplexity, seconds))
    }
}

struct EvalLongContext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "long-context",
        abstract: "Mean loss by token-position bucket (0–128, 128–256, … doubling) over long documents; table and SVG.")

    @OptionGroup var model: ModelOptions
    @Option(help: "A document (repeatable). Default: each novel of ../shared/data/austen-6-novels.txt.") var file: [String] = []
    @Option(help: "Use at most this many tokens of each document.") var maxTokens: Int?
    @Option(help: "Upper bound of the first bucket.") var firstBucket = 128
    @Option(help: "Tokens per forward call.") var chunk = 256
    @Option(help: "Token fed before each document (default: 0 for World models, none for byte models).") var bos: Int?
    @Option(help: "Write the loss-vs-position plot here.") var svg: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { try requirePositive([("--max-tokens", maxTokens), ("--first-bucket", firstBucket), ("--chunk", chunk)]) }

    func run() throws {
        let m = try model.load()
        let (tokenizer, bosToken) = try tokenizerAndBOS(for: m, bos: bos)
        var docs: [(name: String, tokens: [Int])] = []
        if file.isEmpty {
            let path = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
                .deletingLastPathComponent().appendingPathComponent("shared/data/austen-6-novels.txt").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no --file given and \(path) does not exist")
            }
            for d in splitTitledDocuments(try String(contentsOfFile: path, encoding: .utf8)) {
                docs.append((d.name, tokenizer.encode(d.text)))
            }
        } else {
            for f in file { docs.append(((f as NSString).lastPathComponent, tokenizer.encode(try String(contentsOfFile: f, encoding: .utf8)))) }
        }
        if let maxTokens { docs = docs.map { ($0.name, Array($0.tokens.prefix(maxTokens))) } }
        let bar = ProgressBar("long-context", unit: "tokens")
        let start = Date()
        let report = try evaluateLongContext(model: m, documents: docs, chunk: chunk, bos: bosToken,
                                             buckets: PositionBuckets(first: firstBucket), progress: bar.update)
        bar.finish()
        let seconds = Date().timeIntervalSince(start)
        if let svg {
            var plot = SVGLinePlot(title: "loss vs token position (\((try? model.resolvedPath()).map { ($0 as NSString).lastPathComponent } ?? ""))",
                                   xLabel: "token position (bucket midpoint, log scale)", yLabel: "mean loss (nats)", logX: true)
            plot.series = [.init(name: "all documents", points: report.buckets.map { (Double($0.lower + $0.upper) / 2, $0.meanLoss) })]
            try writeText(plot.svg, to: svg)
        }
        if json {
            struct Output: Encodable { var seconds: Double; var report: LongContextReport }
            try printJSON(Output(seconds: seconds, report: report))
            return
        }
        print("documents: " + zip(report.documents, report.documentTokens).map { "\($0) (\($1) tokens)" }.joined(separator: ", "))
        print("positions          tokens   mean loss (nats)   bits/token")
        for b in report.buckets {
            print(String(format: "%7d – %-7d %9d   %8.4f           %7.4f", b.lower, b.upper, b.count, b.meanLoss, b.meanLoss / M_LN2))
        }
        print(String(format: "(%.1f s)", seconds))
    }
}

struct EvalLambada: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambada",
        abstract: "LAMBADA (lm-eval lambada_openai): accuracy and target-word perplexity.")

    @OptionGroup var model: ModelOptions
    @Option(help: "JSONL file of {\"text\": ...} lines (e.g. ../shared/data/lambada_test.jsonl).") var data: String
    @Option(help: "Score only the first N documents.") var limit: Int?
    @Option(help: "Token fed before each context (default: none, as lm-eval; the official RWKV script uses 0).") var bos: Int?
    @Flag(help: "Also print every document's score (JSON: per-item array).") var perItem = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { try requirePositive([("--limit", limit)]) }

    func run() throws {
        let m = try model.load()
        let tokenizer = try defaultTokenizer(vocabularySize: m.config.vocabularySize)
        if let bos, bos < 0 || bos >= m.config.vocabularySize { throw ValidationError("--bos \(bos) is not a token id of this model") }
        let items = try readLambada(path: data, limit: limit)
        let bar = ProgressBar("lambada", unit: "docs")
        let start = Date()
        var scores: [LambadaScore] = []
        for (i, item) in items.enumerated() {
            scores.append(try scoreLambada(item, model: m, tokenizer: tokenizer, bos: bos))
            bar.update(i + 1, items.count)
        }
        bar.finish()
        let report = LambadaReport(scores: scores), seconds = Date().timeIntervalSince(start)
        if json {
            struct Output: Encodable { var seconds: Double; var report: LambadaReport; var items: [LambadaScore]? }
            try printJSON(Output(seconds: seconds, report: report, items: perItem ? scores : nil))
            return
        }
        if perItem {
            for (i, s) in scores.enumerated() { print(String(format: "%5d  ll %10.4f  tokens %2d  %@", i, s.logLikelihood, s.targetTokens, s.isGreedy ? "correct" : "wrong")) }
        }
        print(String(format: "LAMBADA (%d documents): accuracy %.2f %%, perplexity %.3f (%.1f s)",
                     report.documents, 100 * report.accuracy, report.perplexity, seconds))
    }
}
