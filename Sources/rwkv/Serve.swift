// `rwkv serve`: the OpenAI-compatible HTTP API over one model.

import ArgumentParser
import Foundation
import Hummingbird
import RWKV
import RWKVServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions, /v1/models).")

    @OptionGroup var model: ModelOptions

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Model id reported to clients (default: the file name without extension).") var name: String?
    @Option(help: "Largest max_tokens a request may ask for.") var maxTokensLimit = 4096
    @Option(help: "Most requests decoded together in one batched step.") var maxBatch = 8

    func run() async throws {
        let rwkv = try model.load()
        let path = try model.resolvedPath()
        let id = name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let engine = BatchingEngine(modelID: id, model: rwkv, tokenizer: try defaultTokenizer(vocabularySize: rwkv.config.vocabularySize),
                                    maxBatch: maxBatch)
        var configuration = ServerConfiguration(host: host, port: port)
        configuration.maxTokensLimit = maxTokensLimit
        printError("serving \(id) (\(rwkv.config.signature)) on http://\(host):\(port)/v1")
        try await buildApplication(engine: engine, configuration: configuration).runService()
    }
}
