// `rwkv quality`: what a weight format costs in prediction quality, against fp32, over a text.

import ArgumentParser
import Foundation
import RWKV

struct Quality: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a weight format's predictions with fp32 over a text: mean KL divergence, top-1 agreement, perplexity.")

    @Option(name: [.short, .customLong("model")], help: "Model file.") var model: String
    @Option(help: "Weight format to evaluate (q8_0, q4_0, f16, bf16), or a quantised file with --candidate.") var weights: WeightFormat = .q8_0
    @Option(help: "Compare against this (e.g. quantised) file instead of quantising at load.") var candidate: String?
    @Option(help: "Text file to run over.") var file: String
    @Option(help: "Tokens of the text to use.") var tokens = 4096
    @Option(name: .customLong("threads"), help: "Threads.") var threadCount = ThreadCount.allCores
    var threads: Int { threadCount.value }
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        try requireOption("--tokens", tokens, in: 2...(1 << 24))
        try requireOption("--threads", threads, in: 1...maxThreadsOption)
    }

    func run() throws {
        KernelThreads.count = threads
        let reference = try RWKVModel.load(path: model, options: LoadOptions(weightFormat: .f32))
        let other = try candidate.map { try RWKVModel.load(path: $0) } ?? RWKVModel.load(path: model, options: LoadOptions(weightFormat: weights))
        let tokenizer = try defaultTokenizer(vocabularySize: reference.config.vocabularySize)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let ids = Array(tokenizer.encode(text).prefix(tokens))
        let report = try compareModels(reference: reference, candidate: other, tokens: ids)
        if json { try printJSON(report); return }
        print(String(format: "%@ vs f32 over %d positions of %@: mean KL %.2e nats (max %.2e), top-1 agreement %.2f %%, perplexity %.3f → %.3f",
                     candidate ?? weights.rawValue, report.positions, file, report.meanKL, report.maxKL, 100 * report.top1Agreement,
                     report.referencePerplexity, report.candidatePerplexity))
    }
}
